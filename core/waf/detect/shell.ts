// Command injection by structure: a shell word splitter that finds the words in command position (after ; | &
// && || a newline, inside $(…) and backticks, at the start of a brace expansion {cat,/etc/passwd}) and reads each
// word the way sh or cmd.exe would after their quoting: quotes inside a word (c'a't), backslashes (w\ho\am\i),
// carets (n^et), empty expansions (c${x}at, c$@at), $IFS as a space, and globs (/???/c?t) matched against the
// command lists. Input is the decoded, lower-case form of a value (quotes and backslashes still in it).
import type { Hit } from "./hit.ts";
import { STRONG_UNIX, STRONG_WINDOWS, WEAK_UNIX, WEAK_WINDOWS } from "./shell-words.ts";

export type Dialect = "unix" | "windows";

export interface CommandHit extends Hit {
  dialect: Dialect;
}

/** A word in command position: its text after quote removal, where it was, and what came before it. */
interface Word {
  text: string;
  at: number;
  end: number;
  /** The separator that put it in command position. */
  sep: string;
  /** The word after it (its first argument), or "" at a separator or the end. */
  next: string;
  /** What ends the command: a separator character or "" for the end of the value. */
  after: string;
  /** The word ended at $IFS: a space spelled so that a filter does not see one. */
  ifs: boolean;
  /** The value has a substitution or a URL: what a command at its very start reaches out to. */
  pathy: boolean;
  /** A strong command word in the segment before its separator: "python3 x.py && python3 y.py" is a snippet. */
  head: string;
}

const SEPARATORS = ";|&\n";
/** The next "}" at or after `from` in the text being split, remembered so that "${${${…" searches once. */
let braceText = "";
let braceAt = -2;
function closingBrace(text: string, from: number): number {
  if (text !== braceText || (braceAt !== -1 && braceAt < from)) {
    braceText = text;
    braceAt = text.indexOf("}", from);
  }
  return braceAt === -1 ? Number.POSITIVE_INFINITY : braceAt;
}

/** $name, ${name…}, or a special parameter ($@, $1): an expansion a word can hide in. */
const EXPANSION = /^\$(?:\{([^}]{0,32})\}|([a-z_][a-z0-9_]{0,31})|[0-9@*#?!-])/;
const EXPANSION_CHAR = new Set("0123456789@*#?!-");
/** Characters that a word reader copies as they are (letters, digits, most punctuation). */
const PLAIN = new Uint8Array(128);
for (let c = 33; c < 127; c++) PLAIN[c] = 1;
for (const c of ";|&<>`()'\"\\^$%,{}") PLAIN[c.charCodeAt(0)] = 0;
/** A brace expansion {cmd,arg,…}: no space inside, at least one comma (GraphQL's "{ user {" is not one). */
const BRACE = /^\{[^\s{},]{1,64},[^\s{}]{0,60}\}/;
const MAX_WORD = 256;

/** The command words in text (bounded: at most 64, each read at most MAX_WORD characters). */
function commandWords(text: string): Word[] {
  const out: Word[] = [];
  const n = text.length;
  let i = 0;
  // Command position at the very start counts only for a value that is one command and its arguments.
  let sep = "^";
  let inBrace = 0;
  let pending: Word | undefined;
  let prevSingleToken = true;
  // The last strong command word of the current segment, and of the segment before the last separator.
  let segment = "";
  let before = "";
  const pathy = /`|\$\(|:\/\//.test(text);
  while (i < n && out.length < 64) {
    const c = text[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (SEPARATORS.includes(c)) {
      let j = i + 1;
      if ((c === "|" || c === "&") && text[j] === c) j++;
      before = segment;
      segment = "";
      if (c === "\n") {
        // A newline separates commands when it follows a single token (host=a%0aid); after prose it is text.
        if (!prevSingleToken) {
          i = j;
          sep = "";
          continue;
        }
      }
      if (pending) pending.after ||= c;
      pending = undefined;
      sep = text.slice(i, j);
      // "a & b" with spaces around a single & is how prose joins words; the command after it needs arguments.
      if (c === "&" && j === i + 1 && text[i - 1] === " " && text[j] === " ") sep = " & ";
      // ";top x" (the word glued to the separator) is how an injection is typed; prose puts a space after ";".
      else if (c !== "\n" && j < n && text[j] !== " " && text[j] !== "\t") sep = `${sep}!`;
      i = j;
      continue;
    }
    if (c === "`" || (c === "$" && text[i + 1] === "(")) {
      const len = c === "`" ? 1 : 2;
      if (c === "`" && text[i + 1] === "`") {
        // ``` (a Markdown fence) or `` is not a substitution.
        while (text[i] === "`") i++;
        continue;
      }
      if (pending) pending.after ||= c;
      pending = undefined;
      sep = c === "`" ? (inlineCode(text, i, sep) ? "" : "`") : "$(";
      i += len;
      continue;
    }
    if (c === "(" || c === ")") {
      // A subshell after a separator is command position; at the value's start it is only a parenthesis.
      if (c === "(" && (sep !== "" || i === 0)) sep = sep === "^" || i === 0 ? "^" : "(";
      else if (pending) pending.after ||= c;
      i++;
      continue;
    }
    if (c === "{" && (sep !== "" || i === 0 || text[i - 1] === " ") && BRACE.test(text.slice(i, i + 128))) {
      inBrace++;
      sep = "{";
      i++;
      continue;
    }
    if (inBrace > 0 && (c === "," || c === "}")) {
      if (c === "}") inBrace--;
      i++;
      continue;
    }
    if (c === "<" || c === ">") {
      if (pending) pending.after ||= c;
      // A redirection: the word after it is a file name, not a command.
      let j = i + 1;
      while (j < n && (text[j] === ">" || text[j] === "&" || text[j] === "|")) j++;
      i = j;
      while (text[i] === " ") i++;
      const w = readWord(text, i, inBrace > 0);
      i = w.end;
      if (sep === "^") sep = "";
      continue;
    }
    const w = readWord(text, i, inBrace > 0);
    if (w.end === i) {
      i++;
      continue;
    }
    if (w.text === "") {
      // Only expansions ($IFS, ${x}): nothing to run yet, so command position carries on.
      i = w.end;
      continue;
    }
    if (pending && pending.next === "") pending.next = w.text;
    const name = commandName(w.text);
    if (STRONG_UNIX.has(name) || STRONG_WINDOWS.has(name)) segment = w.text;
    if (sep !== "") {
      const head = sep === "^" || sep === "(" ? "" : before;
      pending = { text: w.text, at: i, end: w.end, sep, next: "", after: "", ifs: w.ifs, pathy, head };
      out.push(pending);
      sep = "";
    } else if (pending === undefined) {
      prevSingleToken = false;
    }
    i = w.end;
    if (text[i] === " ") prevSingleToken = false;
  }
  return out;
}

/**
 * Whether the backtick at i opens Markdown inline code in prose rather than a substitution: after a space
 * (not right after a separator), or at the start of a value that goes on as text after the closing backtick.
 */
function inlineCode(text: string, i: number, sep: string): boolean {
  if (i > 0) return text[i - 1] === " " && sep === "";
  const close = text.indexOf("`", 1);
  return close !== -1 && text[close + 1] === " ";
}

/**
 * One shell word from `from`: quotes removed (their content kept), backslash and caret escapes removed, $x and
 * ${x} expansions dropped (an attacker's empty variable), except $IFS which ends the word as a space would.
 */
function readWord(text: string, from: number, inBrace: boolean): { text: string; end: number; ifs: boolean } {
  let out = "";
  let i = from;
  const n = text.length;
  while (i < n && out.length < MAX_WORD) {
    // A run of characters that need no interpretation is copied in one piece.
    let j = i;
    while (j < n && j - i < MAX_WORD && PLAIN[text.charCodeAt(j)] === 1) j++;
    if (j > i) {
      out += text.slice(i, j);
      i = j;
      continue;
    }
    const c = text[i]!;
    if (
      c === " " ||
      c === "\t" ||
      SEPARATORS.includes(c) ||
      c === "<" ||
      c === ">" ||
      c === "`" ||
      c === "(" ||
      c === ")"
    )
      break;
    // Inside a brace expansion "," and "}" split words; elsewhere they are part of one.
    if (inBrace && (c === "," || c === "}")) break;
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      if (close === -1 || close - i > MAX_WORD) {
        i++;
        continue;
      }
      out += text.slice(i + 1, close).replace(/[\\^]/g, "");
      i = close + 1;
      continue;
    }
    if (c === "\\") {
      if (i + 1 < n) out += text[i + 1] === "\n" ? "" : text[i + 1];
      i += 2;
      continue;
    }
    if (c === "^") {
      i++;
      continue;
    }
    if (c === "$") {
      // Only look further when an expansion can start here: "$$$$" or "${${" must not cost a slice each.
      const nx = text.charCodeAt(i + 1);
      const braced = nx === 123 && closingBrace(text, i + 2) - i <= 35;
      const m =
        braced || (nx >= 97 && nx <= 122) || nx === 95 || EXPANSION_CHAR.has(text[i + 1] ?? "")
          ? EXPANSION.exec(text.slice(i, i + 36))
          : null;
      if (m) {
        const name = (m[1] ?? m[2] ?? "").replace(/[:%#/].*$/, "");
        if (name === "ifs") return { text: out, end: i + m[0].length, ifs: true };
        if (m[2] && out === "") {
          // $HOME, $PATH as a whole word: a value, not a command; keep it readable.
          out += m[0];
        }
        i += m[0].length;
        continue;
      }
    }
    if (c === "%") {
      // cmd.exe expands %var% and %var:~0,1%; an attacker builds a command name out of them.
      const m = /^%[a-z_][\w()]{0,31}(?::~-?\d+(?:,-?\d+)?)?%/.exec(text.slice(i, i + 48));
      if (m) {
        i += m[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return { text: out, end: i, ifs: false };
}

/** The command name a word runs: its last path segment without a Windows extension. */
function commandName(word: string): string {
  const slash = Math.max(word.lastIndexOf("/"), word.lastIndexOf("\\"));
  return word.slice(slash + 1).replace(/\.(?:exe|com|bat|cmd|ps1)$/, "");
}

/** Commands that count even after a shell snippet's own first command: downloaders, network shells, recon. */
const SNIPPET_DANGER = new Set(
  "nc ncat netcat socat wget curl telnet tftp mkfifo xterm busybox whoami powershell pwsh certutil bitsadmin mshta rundll32 regsvr32".split(
    " ",
  ),
);

/** An argument that looks like one: an option, a path, a number, a host or file name, a variable, a quote. */
const ARGUMENT = /^(?:[-/~$.'"\\]|\d|[a-z]:[\\/]|\S*[./\\]\S)/;

function globMatch(pattern: string, words: ReadonlySet<string>): string | undefined {
  if (pattern.length > 32) return undefined;
  // Only ? and * are wildcards here; every other character (a stray "[" included) is literal.
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\?/g, ".")
      .replace(/\*/g, "[^/]{0,16}")}$`,
  );
  for (const w of words) if (w.length >= 2 && re.test(w)) return w;
  return undefined;
}

function classify(
  word: Word,
  strong: ReadonlySet<string>,
  weak: ReadonlySet<string>,
  loose = false,
): boolean {
  let name = commandName(word.text);
  if (name === "") return false;
  if (/[?*]/.test(name)) {
    // A glob in command position is itself an evasion; it counts when it can only mean a known command.
    if (!word.text.includes("/") && !word.text.includes("\\")) return false;
    name = globMatch(name, strong) ?? globMatch(name, weak) ?? "";
    return name !== "";
  }
  const sub = word.sep === "$(" || word.sep === "`" || word.sep === "{" || word.sep === "(" || word.ifs;
  if (sub) return strong.has(name) || weak.has(name);
  // In a line that starts with a command of its own (a snippet in a forum post), only the words an attack
  // needs count: the shell line would already be the attack if it reached a shell.
  const snippet = word.head !== "" && word.sep !== "$(" && word.sep !== "`";
  if (snippet && !SNIPPET_DANGER.has(name)) return false;
  // At the value's start a word is only a command with an argument shaped like one.
  const start = word.sep === "^";
  // A strong word at the start needs a URL or a substitution too: "ipconfig /all" is a search,
  // "python3 manage.py migrate && …" a snippet.
  if (strong.has(name)) return !start || (ARGUMENT.test(word.next) && word.pathy);
  if (!weak.has(name)) return false;
  if (start) return word.next.startsWith("-");
  // Paranoia 2: a weak word right after a separator counts whatever follows it (";cat notes").
  if (loose && word.sep !== " & ") return true;
  // A Markdown table cell (| cat |) is not a pipe.
  if (word.sep.startsWith("|") && word.after === "|" && word.next === "") return false;
  if (word.next === "" || word.sep.endsWith("!")) return word.sep !== " & ";
  return ARGUMENT.test(word.next) && (word.sep !== " & " || /^[-/~$]/.test(word.next));
}

const SHELLISH = /[;|&\n`{(]|\$\(|\$\{?ifs|:\/\//;
let lastText = "";
let lastWords: Word[] = [];

/**
 * Words in command position, memoised for the last text (the Unix and Windows rules read the same value).
 * As with SQL, the value may land inside a quoted argument (cmd "$input"): then what follows its first quote
 * is read as shell too (" | type c:\\boot.ini | ").
 */
function wordsOf(text: string): Word[] {
  if (text !== lastText) {
    // Without a separator, substitution, brace or URL there is no command position to look at.
    lastWords = SHELLISH.test(text) ? commandWords(text) : [];
    for (const q of ['"', "'"]) {
      const at = text.indexOf(q);
      if (at !== -1 && /^\s*[;|&`\n]/.test(text.slice(at + 1, at + 8))) {
        for (const w of commandWords(text.slice(at + 1)))
          lastWords.push({ ...w, at: w.at + at + 1, end: w.end + at + 1 });
      }
    }
    lastText = text;
  }
  return lastWords;
}

/** The first Unix command in command position, if any. */
export function detectUnixCommand(text: string, loose = false): CommandHit | undefined {
  for (const w of wordsOf(text)) {
    if (classify(w, STRONG_UNIX, WEAK_UNIX, loose))
      return { at: w.at, end: w.end, note: w.text, dialect: "unix" };
  }
  return undefined;
}

/** Paranoia 2: any known Unix or Windows word after a separator, whatever its arguments. */
export function detectCommandLoose(text: string): CommandHit | undefined {
  return detectUnixCommand(text, true) ?? detectWindowsCommand(text, true);
}

/** The first Windows (cmd.exe or PowerShell) command in command position, if any. */
export function detectWindowsCommand(text: string, loose = false): CommandHit | undefined {
  for (const w of wordsOf(text)) {
    if (classify(w, STRONG_WINDOWS, WEAK_WINDOWS, loose))
      return { at: w.at, end: w.end, note: w.text, dialect: "windows" };
  }
  return undefined;
}

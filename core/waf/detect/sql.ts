// SQL injection by structure: the value is tokenized as SQL as if it were pasted into a query in each quote
// context (unquoted, after ', after ", after `), the first tokens are folded into a short fingerprint (one
// character per token), and the fingerprint is matched against the shapes an injection takes: a closed string
// then a boolean comparison, a UNION SELECT, a stacked statement, a comment that cuts the rest of the query.
// The idea is libinjection's; the token classes, folding and fingerprint shapes here are our own.
import type { Hit } from "./hit.ts";

// Token classes, one character each in a fingerprint:
//   s string   1 number/NULL/TRUE   n identifier   v @variable   f known function   k keyword
//   E statement (SELECT, DROP, …)   U UNION   B clause (ORDER BY, GROUP BY, HAVING)   & AND/OR/XOR/&&/||
//   o equality comparison (=, <>, !=)   g ordering comparison (<, >, <=, >=)   i word operator (LIKE, IN, IS)
//   a arithmetic or unary (+ - * / NOT)   ( ) , ;   c trailing comment
//   x anything else (breaks every shape)

const words = (list: string, cls: string): Array<[string, string]> =>
  list.split(" ").map((w) => [w, cls] as [string, string]);

const WORDS = new Map<string, string>([
  ...words(
    "select insert update delete drop create alter truncate exec execute declare shutdown grant waitfor",
    "E",
  ),
  ...words("union intersect", "U"),
  ...words("having limit", "B"),
  ...words("and or xor div", "&"),
  ...words("like rlike regexp is in between sounds glob", "i"),
  ...words("order group", "O"),
  ...words("by", "y"),
  ...words("all distinct", "d"),
  ...words("not", "a"),
  ...words("null true false", "1"),
  ...words(
    "from where into table database schema set values as on join top when then else end case procedure offset outfile dumpfile",
    "k",
  ),
]);

/** Functions an injection calls to leak, test or wait; an unknown word before "(" stays an identifier. */
const FUNCTIONS = new Set(
  (
    "sleep pg_sleep benchmark version user current_user session_user system_user database schema_name " +
    "char chr nchar concat concat_ws group_concat ascii ord hex unhex substring substr mid left right length " +
    "if ifnull nullif coalesce count extractvalue updatexml load_file cast convert md5 sha1 exp floor rand " +
    "randomblob utl_inaddr dbms_pipe elt make_set row_to_json db_name host_name suser_name is_srvrolemember " +
    "exists waitfor json_keys name_const geometrycollection multipoint polygon linestring iif lower upper"
  ).split(" "),
);

const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) =>
  (c >= 97 && c <= 122) || isDigit(c) || c === 95 || c === 36 || c === 46 || (c >= 65 && c <= 90) || c > 127;

/** At most this many tokens are read: every shape is decided by the first few. */
const MAX_TOKENS = 16;

/** The raw fingerprint of text read from `start`; `quote` (if any) is the quote the value is inside of. */
function tokenize(text: string, quote: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  if (quote !== "") {
    // The value's start is the tail of a string literal. It ends at the first quote even after a backslash:
    // an application that escapes ' as \' turns the attacker's \' into \\', which closes the string.
    const end = text.indexOf(quote);
    if (end === -1) return "";
    out = "s";
    i = end + 1;
  }
  while (i < n && out.length < MAX_TOKENS) {
    const c = text.charCodeAt(i);
    const ch = text[i]!;
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 11 || c === 12 || c === 160) {
      i++;
    } else if (ch === "'" || ch === '"') {
      const end = closeQuote(text, i + 1, ch);
      out += "s";
      if (end === -1) break;
      i = end + 1;
    } else if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      out += "n";
      if (end === -1) break;
      i = end + 1;
    } else if (ch === "#" || (ch === "-" && text[i + 1] === "-")) {
      // A line comment: the rest of the query is cut off when it reaches the end (or a newline).
      const nl = text.indexOf("\n", i);
      if (nl === -1) {
        out += "c";
        break;
      }
      i = nl + 1;
    } else if (ch === "/" && text[i + 1] === "*") {
      if (text[i + 2] === "!") {
        // MySQL runs what is inside /*!50000 … */: read on as code.
        i += 3;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
        continue;
      }
      const end = text.indexOf("*/", i + 2);
      if (end === -1) {
        out += "c";
        break;
      }
      i = end + 2;
    } else if (ch === "*" && text[i + 1] === "/") {
      i += 2;
    } else if (ch === "@") {
      let j = i + 1;
      if (text[j] === "@") j++;
      while (j < n && isWord(text.charCodeAt(j))) j++;
      out += "v";
      i = j;
    } else if (isDigit(c) || (ch === "." && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n && isWord(text.charCodeAt(j))) j++;
      out += "1";
      i = j;
    } else if (isWord(c)) {
      let j = i + 1;
      while (j < n && isWord(text.charCodeAt(j))) j++;
      // Lower case already (the rule's pipeline ends with it); a direct call may pass anything.
      const w = text.slice(i, j).toLowerCase();
      i = j;
      let k = j;
      while (k < n && text.charCodeAt(k) === 32) k++;
      const call = text[k] === "(";
      const cls = WORDS.get(w);
      // An unknown word before "(" is as good as an identifier; a dotted one is a package function.
      out += cls ?? (call && (FUNCTIONS.has(w) || w.includes(".")) ? "f" : "n");
    } else if (ch === "&" || ch === "|") {
      if (text[i + 1] === ch) {
        out += "&";
        i += 2;
      } else {
        out += "a";
        i++;
      }
    } else if (ch === "=" || ch === "<" || ch === ">" || (ch === "!" && text[i + 1] === "=")) {
      let j = i + 1;
      while (j < n && j < i + 3 && "=<>".includes(text[j]!)) j++;
      const op = text.slice(i, j);
      // "2 < 3 and 5 > 4" is arithmetic prose; only equality-like operators make a bare tautology.
      out += op === "<" || op === ">" || op === "<=" || op === ">=" ? "g" : "o";
      i = j;
    } else if ("+-*/%^~!".includes(ch)) {
      out += "a";
      i++;
    } else if (ch === "(" || ch === ")" || ch === "," || ch === ";") {
      out += ch;
      i++;
    } else {
      out += "x";
      i++;
    }
  }
  return out;
}

/** Index of the quote closing a string opened before `from` ('' and \' escape it), or -1. */
function closeQuote(text: string, from: number, q: string): number {
  let i = from;
  for (;;) {
    const j = text.indexOf(q, i);
    if (j === -1) return -1;
    let bs = 0;
    for (let k = j - 1; k >= from && text[k] === "\\"; k--) bs++;
    if (bs % 2 === 1) {
      i = j + 1;
      continue;
    }
    if (text[j + 1] === q) {
      i = j + 2;
      continue;
    }
    return j;
  }
}

/**
 * Folding: ORDER/GROUP then BY is one clause (comments between them already gone) and either word alone an
 * identifier; UNION ALL and UNION DISTINCT are UNION; parentheses go, SELECT * reads as a value, unary operators go, arithmetic joins its operands.
 */
export function fold(raw: string): string {
  return raw
    .replace(/Oy/g, "B")
    .replace(/[Oy]/g, "n")
    .replace(/Ud/g, "U")
    .replace(/d/g, "k")
    .replace(/[()]/g, "")
    .replace(/Ea/g, "E1")
    .replace(/(^|[&ogi,;EUkBa])a+/g, "$1")
    .replace(/([1snv])(?:a[1snv])+/g, "$1")
    .slice(0, 8);
}

// A SELECT that reads like a query, not prose: a value, a function, or a column list or FROM after it.
const BODY = "(?:[1vfsc]|n[,ks]|k|$)";
/** Shapes of an injection after the value's start closed a string (quote contexts). */
const QUOTED = new RegExp(
  [
    "^s&[1snvf][ogi][1snvfE]", // ' or 'a'='a   ' and 1=1   ' and 2>1   ' or 1 in (…)
    "^s&[1snvfE](?:c|;)", // ' or 1--
    "^s&[fvE]", // ' and sleep(5)   ' or @@version   '||(select …)
    "^s[1n]?UE(?:[1vfs]|n[,k])", // ' union select 1,2
    `^s;E${BODY}`, // '; drop table t--
    "^s;?c", // admin'--
    "^sB", // ' order by 3--   ' having 1=1
    "^s[og][1snv](?:c|;|&|$)", // '='   '=0--
    "^s[og][Ef]", // '=(select …)   '=sleep(5)
    "^saf", // '+sleep(5)+'
    "^sf[1sn]?(?:s|c|$)", // " sleep(10) "
  ].join("|"),
);
/** Shapes when the value is pasted unquoted (a numeric parameter). */
const BARE = new RegExp(
  [
    "^[1v]&[1snvf][oi][1snvfE]", // 1 or 1=1   1 and 1 in (select …)
    "^[1v]&[1snvf]g[1snvfE](?:c|;)", // 1 and 2>1--
    "^n&1o1", // x or 1=1
    "^1&[fvE]", // 1 and sleep(5)
    "^1&1(?:c|;)", // 1 or 1--
    "^[1n]?UE(?:[1vfs]|n[,k])", // 1 union select 1,2
    `^[1n];E${BODY}`, // 1; drop table t
    "^1B1", // 1 order by 3
    "^f[1sn]?$", // sleep(20)   version()
  ].join("|"),
);

const CONTEXTS = ["", "'", '"', "`"];

/**
 * Characters or words without which no shape can match, in any context (a quote context's tail is part of the
 * value too): a boolean, comparison or word operator, a comment, a call, a statement or clause keyword. Most
 * values have none and are not tokenized at all.
 */
const SQL_CHARS = ";()=<>&|#!*";
const SQL_WORDS = (
  "or and xor div union intersect order group having limit select exec execute drop delete insert update " +
  "create alter truncate declare shutdown grant waitfor like rlike regexp in is between sounds glob"
).split(" ");
/**
 * What mayBeSql() looks for, as substrings: a text without any of them is not SQL to this detector. For the
 * engine's pre-filter (rules' `words`), which skips the detector on values that hold none of them.
 */
export const SQL_TRIGGERS: readonly string[] = [...SQL_CHARS, "--", ...SQL_WORDS];
const SQL_CHAR = new RegExp(`[${SQL_CHARS}]|--`);
// \b is a change between [A-Za-z0-9_] and anything else: a keyword counts only as a whole word.
const SQL_WORD = new RegExp(`\\b(?:${SQL_WORDS.join("|")})\\b`);

/**
 * Whether text has one of those characters, "--", or one of those words standing alone. Two native scans: a
 * JavaScript pass over the characters cost about twice the instructions on ordinary values.
 */
export const mayBeSql = (text: string): boolean => SQL_CHAR.test(text) || SQL_WORD.test(text);
/** Token classes at least one of which every shape needs after the start. */
const TELLING = /[&UE;cBogif]/;

/** Looser shapes for paranoia 2: a closed string or a number followed by any boolean, comparison, UNION or statement. */
const QUOTED_LOOSE = /^s(?:[&;][1snvfE]|[og][1snvf]|U|E[1vf])/;
const BARE_LOOSE = /^[1v](?:&[1snvf]|U|;[Ek]|B)|^[1n]&[1nv][ogi]/;

/** The fingerprint and quote context of an injection in text (already decoded and lower case), if any. */
export function sqlInjection(
  text: string,
  loose = false,
): { fingerprint: string; context: string } | undefined {
  if (!mayBeSql(text)) return undefined;
  for (const q of CONTEXTS) {
    if (q !== "" && !text.includes(q)) continue;
    const raw = tokenize(text, q);
    if (!TELLING.test(raw)) continue;
    const f = fold(raw);
    const shapes = q === "" ? (loose ? BARE_LOOSE : BARE) : loose ? QUOTED_LOOSE : QUOTED;
    if (shapes.test(f)) return { fingerprint: f, context: q || "none" };
  }
  return undefined;
}

const hitOf = (text: string, found: { fingerprint: string; context: string } | undefined): Hit | undefined =>
  found
    ? { at: 0, end: Math.min(text.length, 64), note: `${found.context}:${found.fingerprint}` }
    : undefined;

/** The detector as a rule uses it: where the injection starts (the whole value; fingerprints have no span). */
export const detectSqli = (text: string): Hit | undefined => hitOf(text, sqlInjection(text));

/** Paranoia 2: the looser shapes. */
export const detectSqliLoose = (text: string): Hit | undefined => hitOf(text, sqlInjection(text, true));

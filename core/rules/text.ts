// String helpers with Cloudflare's semantics: ASCII-only case mapping, byte lengths, url_decode,
// wildcard patterns, and Rust-regex syntax mapped onto JavaScript RegExp.
import { backtrackingRisk } from "./regex-safety.ts";

/** Lower-cases ASCII letters only, as Cloudflare's lower() does (other bytes are unaffected). */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

export function asciiUpper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
  }
  return s;
}

/** Length in UTF-8 bytes, as Cloudflare's len() counts. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function bytesToString(bytes: number[]): string {
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    // Not UTF-8: keep one character per byte so nothing an attacker sent disappears.
    return String.fromCharCode(...bytes);
  }
}

const hexVal = (c: number) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;

function decodeOnce(s: string, unicode: boolean): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  let out = "";
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) out += bytesToString(bytes);
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (
        unicode &&
        (s[i + 1] === "u" || s[i + 1] === "U") &&
        /^[0-9A-Fa-f]{4}$/.test(s.slice(i + 2, i + 6))
      ) {
        flush();
        out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 6), 16));
        i += 5;
        continue;
      }
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    flush();
    out += c === 43 /* + */ ? " " : s[i];
  }
  flush();
  return out;
}

/** Cloudflare's url_decode(): %XX and + decode; option "r" repeats until stable, "u" adds %uXXXX. */
export function urlDecode(s: string, options = ""): string {
  const unicode = options.includes("u");
  let cur = decodeOnce(s, unicode);
  if (!options.includes("r")) return cur;
  // Bounded: each round only shrinks the string, but a cap keeps the worst case obvious.
  for (let i = 0; i < 16; i++) {
    const next = decodeOnce(cur, unicode);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

/**
 * Compiles a wildcard pattern: `*` is zero or more characters and the whole value must match.
 * `\*` is a literal star and `\\` a backslash; `**` is invalid. Returns a message when invalid.
 */
export function compileWildcard(pattern: string, caseSensitive: boolean): ((s: string) => boolean) | string {
  const segs: string[] = [];
  let cur = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n !== "*" && n !== "\\") return 'in a wildcard pattern "\\" only escapes "*" or "\\"';
      cur += n;
      i++;
    } else if (c === "*") {
      if (pattern[i + 1] === "*")
        return '"**" is not allowed in a wildcard pattern; one "*" already matches any run';
      segs.push(cur);
      cur = "";
    } else cur += c;
  }
  segs.push(cur);
  const fold = caseSensitive ? (s: string) => s : asciiLower;
  const parts = segs.map(fold);
  if (parts.length === 1) {
    const only = parts[0]!;
    return (s) => fold(s) === only;
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1);
  const minLen = parts.reduce((n, p) => n + p.length, 0);
  return (input) => {
    if (input.length < minLen) return false;
    const s = fold(input);
    if (!s.startsWith(first) || !s.endsWith(last)) return false;
    let pos = first.length;
    const limit = s.length - last.length;
    // Leftmost placement of each middle part is optimal when the only metacharacter is "*".
    for (const m of middle) {
      const at = s.indexOf(m, pos);
      if (at === -1 || at + m.length > limit) return false;
      pos = at + m.length;
    }
    return pos <= limit;
  };
}

/**
 * Maps a regex written for Cloudflare (Rust `regex` crate syntax) to a JavaScript RegExp.
 * Leading inline flags (?i) (?s) (?m) become RegExp flags, (?P<n>…) becomes (?<n>…), \A and \z become ^ and $.
 * Look-around and back-references are rejected: Rust's engine has neither, so a rule using them would not work
 * on Cloudflare, and without them matching time stays predictable.
 */
export function compileRegex(source: string): RegExp | string {
  let src = source;
  let flags = "";
  const lead = /^\(\?([imsux]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === "x") return "the (?x) flag is not supported; remove the whitespace from the pattern instead";
      if (f === "i" || f === "m" || f === "s") flags += flags.includes(f) ? "" : f;
    }
    src = src.slice(lead[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) return "the pattern ends with a lone backslash";
      if (!inClass && n >= "1" && n <= "9")
        return "back-references (\\1) are not supported by Cloudflare's regex engine";
      if (!inClass && n === "A") out += "^";
      else if (!inClass && n === "z") out += "$";
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (src[i + 1] === "^") out += src[++i];
      if (src[i + 1] === "]") out += src[++i];
      continue;
    }
    if (c === "(" && src[i + 1] === "?") {
      const rest = src.slice(i + 2, i + 4);
      if (rest.startsWith("=") || rest.startsWith("!") || rest === "<=" || rest === "<!") {
        return "look-around ((?=…), (?!…), (?<=…), (?<!…)) is not supported by Cloudflare's regex engine";
      }
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 3;
        continue;
      }
      if (/^\(\?[imsux-]+\)/.test(src.slice(i)))
        return "inline flags such as (?i) are only supported at the start";
    }
    out += c;
  }
  let re: RegExp;
  try {
    re = new RegExp(out, `${flags}u`);
  } catch {
    try {
      re = new RegExp(out, flags);
    } catch (e) {
      return `invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`;
    }
  }
  return backtrackingRisk(out, flags) ?? re;
}

// Lexer for the rules language: turns an expression into tokens with their offsets.
// Bare literals (numbers, IPs, CIDRs, a..b ranges) are lexed as one run and classified afterwards.
import { RuleError } from "./errors.ts";

export type TokenKind =
  | "ident" // field names, function names and English operators: http.request.uri.path, lower, eq, and
  | "string" // "quoted" or r#"raw"#; `text` is the content as written between the delimiters
  | "bare" // 42, -1, 10.0.0.0/8, 2001:db8::1, 80..90, 1.2.3.4..1.2.3.9
  | "op" // == != < <= > >= ~ && || ^^ !
  | "punct" // ( ) { } [ ] , [*]
  | "list" // $name (named lists, rejected by the parser with a hint)
  | "eof";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** For strings: true when written r"…"; raw strings have no escapes. */
  raw?: boolean;
}

const OPS = ["==", "!=", "<=", ">=", "&&", "||", "^^", "<", ">", "~", "!"];

const isIdentStart = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
const isIdentPart = (c: string) => isIdentStart(c) || (c >= "0" && c <= "9") || c === ".";
const isBare = (c: string) =>
  (c >= "0" && c <= "9") ||
  (c >= "a" && c <= "f") ||
  (c >= "A" && c <= "F") ||
  c === ":" ||
  c === "." ||
  c === "/";
const isHex = (c: string) => (c >= "0" && c <= "9") || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new RuleError("syntax", msg, src, at);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      // Comments run to the end of the line, as in Cloudflare's expression editor.
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    const start = i;
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === "\\" ? 2 : 1;
      if (i >= src.length) fail("this string is never closed; add the closing double quote", start);
      tokens.push({ kind: "string", text: src.slice(start + 1, i), start, end: ++i, raw: false });
      continue;
    }
    if (c === "r" && (src[i + 1] === '"' || src[i + 1] === "#")) {
      let j = i + 1;
      while (src[j] === "#") j++;
      if (src[j] === '"') {
        const hashes = j - i - 1;
        const close = `"${"#".repeat(hashes)}`;
        const endAt = src.indexOf(close, j + 1);
        if (endAt === -1) fail(`this raw string is never closed; end it with ${close}`, start);
        tokens.push({
          kind: "string",
          text: src.slice(j + 1, endAt),
          start,
          end: endAt + close.length,
          raw: true,
        });
        i = endAt + close.length;
        continue;
      }
    }
    // An IPv6 address may start with hex letters ("fe80::1"): it is a literal when a ':' follows the hex digits.
    let hexRun = i;
    while (hexRun < src.length && isHex(src[hexRun]!)) hexRun++;
    const startsBare =
      (c >= "0" && c <= "9") ||
      c === ":" ||
      (c === "-" && src[i + 1] !== undefined && src[i + 1]! >= "0" && src[i + 1]! <= "9") ||
      (isHex(c) && src[hexRun] === ":");
    if (startsBare) {
      i++;
      while (i < src.length && isBare(src[i]!)) i++;
      tokens.push({ kind: "bare", text: src.slice(start, i), start, end: i });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < src.length && isIdentPart(src[i]!)) i++;
      tokens.push({ kind: "ident", text: src.slice(start, i), start, end: i });
      continue;
    }
    if (c === "$") {
      i++;
      while (i < src.length && isIdentPart(src[i]!)) i++;
      tokens.push({ kind: "list", text: src.slice(start, i), start, end: i });
      continue;
    }
    if (src.startsWith("[*]", i)) {
      i += 3;
      tokens.push({ kind: "punct", text: "[*]", start, end: i });
      continue;
    }
    if ("(){}[],".includes(c)) {
      tokens.push({ kind: "punct", text: c, start, end: ++i });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      i += op.length;
      tokens.push({ kind: "op", text: op, start, end: i });
      continue;
    }
    if (c === "=") fail('"=" is not an operator; compare with "eq" or "=="', start);
    if (c === "&" || c === "|" || c === "^")
      fail(`"${c}" is not an operator; did you mean "${c}${c}"?`, start);
    if (c === "'") fail("strings are written in double quotes, not single quotes", start);
    fail(`unexpected character ${JSON.stringify(c)}`, start);
  }
  tokens.push({ kind: "eof", text: "", start: src.length, end: src.length });
  return tokens;
}

/**
 * Decodes a quoted string with the basic escapes (\" \\ \xHH, plus \n \r \t).
 * Returns the decoded text, or the offset (inside the token's text) of a bad escape.
 */
export function unescapeBasic(text: string): string | { badAt: number } {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = text[i + 1];
    if (n === '"' || n === "\\") out += n;
    else if (n === "n") out += "\n";
    else if (n === "r") out += "\r";
    else if (n === "t") out += "\t";
    else if (n === "x" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 4), 16));
      i += 2;
    } else return { badAt: i };
    i++;
  }
  return out;
}

// The transformations a managed rule names (as CRS rules name t:urlDecodeUni, t:lowercase, …), to defeat the
// usual evasions: repeated URL decoding (%2527, %u0027), overlong UTF-8 (%c0%ae), HTML entities (&#x3c; &lt;),
// JS and CSS escapes (\x3c, \3c), NUL bytes, Unicode compatibility forms (＜ → <), case, runs of whitespace,
// SQL comments (UNION/**/SELECT, /*!50000SELECT*/), shell quoting (c'a't) and path spellings (..\, //).
// A rule's pipeline is a list of these names; pipelines.ts runs shared prefixes once per value.
import { urlDecode } from "../rules/index.ts";

const NAMED: Record<string, string> = {
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  amp: "&",
  colon: ":",
  sol: "/",
  bsol: "\\",
  lpar: "(",
  rpar: ")",
  semi: ";",
  equals: "=",
  comma: ",",
  period: ".",
  grave: "`",
  tab: "\t",
  newline: "\n",
  nbsp: " ",
  lsqb: "[",
  rsqb: "]",
  lcub: "{",
  rcub: "}",
  excl: "!",
  num: "#",
  percnt: "%",
  dollar: "$",
};

const ENTITY = /&(?:#x([0-9a-f]{1,6})|#([0-9]{1,7})|([a-z]{2,8}));?/gi;

function codePoint(n: number): string {
  return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : "";
}

export function htmlEntityDecode(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(
    ENTITY,
    (m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
      if (hex) return codePoint(Number.parseInt(hex, 16));
      if (dec) return codePoint(Number(dec));
      return NAMED[name!.toLowerCase()] ?? m;
    },
  );
}

const JS_ESCAPE = /\\(?:x([0-9a-f]{2})|u\{?([0-9a-f]{4,6})\}?)/gi;

export function jsDecode(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(JS_ESCAPE, (_m, x: string | undefined, u: string | undefined) =>
    codePoint(Number.parseInt((x ?? u)!, 16)),
  );
}

const PLUS = /\+/g;

/** One round: the native decoder when the input is well-formed UTF-8, else the lenient one (%u, bad bytes). */
function decodeRound(s: string): string {
  try {
    return decodeURIComponent(s.includes("+") ? s.replace(PLUS, " ") : s);
  } catch {
    return urlDecode(s, "u");
  }
}

/** Decodes %XX, %uXXXX and + until stable (at most 4 rounds: %25252527 is still caught). */
export function deepUrlDecode(s: string): string {
  let cur = s;
  for (let i = 0; i < 4 && (cur.includes("%") || cur.includes("+")); i++) {
    const next = decodeRound(cur);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

// Overlong UTF-8: two-byte (%c0%ae) and three-byte (%e0%80%ae) spellings of ASCII, which strict decoders refuse
// but some servers still accept. Decoded to the character they spell before ordinary URL decoding.
const OVERLONG = /%c([01])%([89ab][0-9a-f])|%e0%80%([89ab][0-9a-f])/gi;

export function overlongUtf8Decode(s: string): string {
  if (!s.includes("%")) return s;
  return s.replace(
    OVERLONG,
    (m, lead: string | undefined, b2: string | undefined, b3: string | undefined) => {
      const low = Number.parseInt((b2 ?? b3)!, 16) & 0x3f;
      const code = lead === undefined ? low : (Number(lead) << 6) | low;
      return code < 0x80 ? `%${code.toString(16).padStart(2, "0")}` : m;
    },
  );
}

const CSS_ESCAPE = /\\([0-9a-f]{1,6})[ \t\n]?|\\([^\n0-9a-f])/gi;

/** CSS escapes: \65 xpression, \000065, ja\vascript (a backslash before a letter stands for the letter). */
export function cssDecode(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(CSS_ESCAPE, (_m, hex: string | undefined, ch: string | undefined) =>
    hex ? codePoint(Number.parseInt(hex, 16)) : ch!,
  );
}

// A run of slashes after a scheme ("php://") is part of a URL, not a path spelling.
const SLASHES = /(?<!:)[\\/]{2,}|\\/g;
const SELF_SEGMENT = /\/(?:\.\/)+/g;

/** Path spellings made one: backslashes become slashes, runs of slashes one, "/./" gone. Dot-dot stays. */
export function normalizePath(s: string): string {
  if (!/[\\/]/.test(s)) return s;
  return s.replace(SLASHES, "/").replace(SELF_SEGMENT, "/");
}

const NUL = /\u0000/g;
// Entities, escapes, NUL, non-ASCII, CR, tabs and other non-space whitespace, or runs of spaces.
const NEEDS_MORE = /[&\\\u0000\r]|[^\u0000-\u007f]|[^\S \n]| {2}/;
// Newlines stay: they separate shell commands; other whitespace runs become one space.
const WS = /[^\S\n]+/g;

/** The value of an ASCII hex digit by character code, -1 for any other character below 128. */
export const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}
// Characters (raw or decoded) that leave work for the general path: a second decoding round (% +), entities
// (&), escapes (\), NUL, and whitespace other than space and newline (CR, tab, vertical tab, form feed).
const NOT_SIMPLE = new Uint8Array(128);
for (const c of "%+&\\\u0000\r\t\u000b\f") NOT_SIMPLE[c.charCodeAt(0)] = 1;

/** Longer values take the general path: its native decoder beats a JavaScript loop on long input. */
const SIMPLE_MAX_LENGTH = 1024;
const ASCII = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

/** What scanSimple() found: the normal form (undefined: the value needs the general path) and the caller's bits. */
export interface SimpleScan {
  text: string | undefined;
  /** The OR of charBits over the raw characters, with escapeBit and charBits of the character for each %XX. */
  bits: number;
  /** The OR of pairBits over each two consecutive characters of the normal form (see scanSimple). */
  pairs: number;
}

const NO_BITS = new Int32Array(128);
const NO_PAIRS = new Int32Array(1);
const scratch: SimpleScan = { text: undefined, bits: 0, pairs: 0 };

/**
 * normal() for the common value in one scan: ASCII only, %XX escapes of ASCII characters, + for space, and
 * nothing any later step would change. Undefined when the value needs the general path; otherwise exactly
 * what that path returns (one decoding round, then only case folding).
 */
export function simpleNormal(raw: string): string | undefined {
  scanSimple(raw, NO_BITS, 0, NO_PAIRS, scratch);
  return scratch.text;
}

/**
 * simpleNormal() and, in the same pass, what the engine's pre-filters read (so a value is read once): the OR of
 * a per-character table over the value, and of a table indexed by two consecutive characters of the normal form
 * (first * 128 + second; the first character of the text pairs with 0). pairBits' length is a power of two and
 * indexes wrap, so a one-entry table turns that part off.
 */
export function scanSimple(
  raw: string,
  charBits: Int32Array,
  escapeBit: number,
  pairBits: Int32Array,
  out: SimpleScan,
): void {
  out.text = undefined;
  const n = raw.length;
  if (n > SIMPLE_MAX_LENGTH) return;
  let bits = 0;
  let pairs = 0;
  const wrap = pairBits.length - 1;
  let upper = false;
  // The previous character of the normal form (decoded, lower case).
  let prev = 0;
  // The decoded text so far, up to `from`, built only at escapes and pluses (most values have few).
  let text = "";
  let from = 0;
  for (let i = 0; i < n; i++) {
    let c = raw.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= n) return;
      const a = raw.charCodeAt(i + 1);
      const b = raw.charCodeAt(i + 2);
      const hi = a < 128 ? HEX[a]! : -1;
      const lo = b < 128 ? HEX[b]! : -1;
      // Malformed, or a byte of a multi-byte character: the general path's decoders handle those.
      if (hi < 0 || hi > 7 || lo < 0) return;
      c = hi * 16 + lo;
      bits |= escapeBit | charBits[c]!;
      text += raw.slice(from, i) + ASCII[c];
      i += 2;
      from = i + 1;
    } else if (c > 127) return;
    else {
      bits |= charBits[c]!;
      if (c === 43 /* + */) {
        c = 32;
        text += `${raw.slice(from, i)} `;
        from = i + 1;
      }
    }
    if (NOT_SIMPLE[c] === 1 || (c === 32 && prev === 32)) return;
    if (c >= 65 && c <= 90) {
      upper = true;
      c += 32;
    }
    pairs |= pairBits[((prev << 7) | c) & wrap]!;
    prev = c;
  }
  if (from === 0) text = raw;
  else if (from < n) text += raw.slice(from);
  // Case folding only when there is a capital: it copies the whole text otherwise for nothing.
  out.text = upper ? text.toLowerCase() : text;
  out.bits = bits;
  out.pairs = pairs;
}

/** The general form most rules match: decoded, de-entitied, NUL-free, NFKC, lower case, whitespace compressed. */
export function normal(raw: string): string {
  // Most names and values are plain words or %XX-escaped ASCII: one scan decodes them and only case remains.
  return simpleNormal(raw) ?? generalNormal(raw);
}

/** normal() for any value; exported so tests can hold simpleNormal() to it. */
export function generalNormal(raw: string): string {
  let s = deepUrlDecode(overlongUtf8Decode(raw));
  // One scan decides whether any of the later steps has work to do; usually only case folding remains.
  if (!NEEDS_MORE.test(s)) return s.toLowerCase();
  s = htmlEntityDecode(s);
  s = jsDecode(s);
  if (s.includes("\u0000")) s = s.replace(NUL, "");
  if (/[^\u0000-\u007f]/.test(s)) s = s.normalize("NFKC");
  s = s.toLowerCase();
  if (s.includes("\r")) s = s.replace(/\r\n?/g, "\n");
  return /[^\S\n]{2}|[^\S \n]/.test(s) ? s.replace(WS, " ") : s;
}

/**
 * For SQL rules: comments become a space; MySQL's /*!50000 … *\/ keeps its content, as MySQL runs it.
 * One forward scan (each comment's end is searched for once), so crafted input stays linear.
 */
export function sqlForm(normalized: string): string {
  if (!normalized.includes("/*")) return normalized;
  const n = normalized.length;
  let out = "";
  let i = 0;
  while (i < n) {
    const open = normalized.indexOf("/*", i);
    if (open === -1) {
      out += normalized.slice(i);
      break;
    }
    out += normalized.slice(i, open);
    const close = normalized.indexOf("*/", open + 2);
    const end = close === -1 ? n : close;
    if (normalized[open + 2] === "!") {
      let j = open + 3;
      while (j < end && j < open + 8 && normalized.charCodeAt(j) >= 48 && normalized.charCodeAt(j) <= 57) j++;
      out += ` ${normalized.slice(j, end)} `;
    } else out += " ";
    i = close === -1 ? n : close + 2;
  }
  return out.replace(WS, " ").trim();
}

/** For shell rules: quotes, backslashes and carets that split command names (c'a't, w\ho\am\i, n^et) removed. */
export function cmdForm(normalized: string): string {
  if (!/['"\\^]/.test(normalized)) return normalized;
  return normalized.replace(/['"\\^]/g, "");
}

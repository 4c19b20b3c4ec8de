// Request body bytes to text: the charset comes from a byte-order mark first, then the Content-Type charset
// parameter, then the zero-byte pattern of the first characters (how RFC 8259 readers tell UTF-16/32 JSON
// apart), else UTF-8. UTF-16 and UTF-32 are decoded here rather than by TextDecoder, which has no UTF-32 and,
// depending on the runtime, no UTF-16BE; latin-1 family charsets map bytes to code points.

export type Charset = "utf-8" | "utf-16le" | "utf-16be" | "utf-32le" | "utf-32be" | "latin1";

/** The charset parameter of a Content-Type, lower-cased, or "" when there is none. */
export function charsetParam(contentType: string): string {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType);
  return m ? m[1]!.toLowerCase() : "";
}

const NAMED: Record<string, Charset> = {
  "utf-8": "utf-8",
  utf8: "utf-8",
  "us-ascii": "utf-8",
  ascii: "utf-8",
  "utf-16": "utf-16le",
  "utf-16le": "utf-16le",
  "utf-16be": "utf-16be",
  "utf-32": "utf-32le",
  "utf-32le": "utf-32le",
  "utf-32be": "utf-32be",
  "iso-8859-1": "latin1",
  "iso-8859-15": "latin1",
  latin1: "latin1",
  "windows-1252": "latin1",
};

/** The charset a body is in and how many BOM bytes to skip. */
export function detectCharset(b: Uint8Array, contentType: string): { charset: Charset; skip: number } {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { charset: "utf-8", skip: 3 };
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) {
    return { charset: "utf-32le", skip: 4 };
  }
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) {
    return { charset: "utf-32be", skip: 4 };
  }
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { charset: "utf-16le", skip: 2 };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { charset: "utf-16be", skip: 2 };
  const named = NAMED[charsetParam(contentType)];
  if (named) {
    // "utf-16" without a BOM: the zero bytes say which end is first.
    if (named === "utf-16le" && b.length >= 2 && b[0] === 0 && b[1] !== 0)
      return { charset: "utf-16be", skip: 0 };
    return { charset: named, skip: 0 };
  }
  // Text starts with ASCII in practice ({, [, <, a name): its zero bytes give the encoding away.
  if (b.length >= 4) {
    const z = (i: number) => b[i] === 0;
    if (z(0) && z(1) && z(2) && !z(3)) return { charset: "utf-32be", skip: 0 };
    if (!z(0) && z(1) && z(2) && z(3)) return { charset: "utf-32le", skip: 0 };
    if (z(0) && !z(1) && z(2) && !z(3)) return { charset: "utf-16be", skip: 0 };
    if (!z(0) && z(1) && !z(2) && z(3)) return { charset: "utf-16le", skip: 0 };
  }
  return { charset: "utf-8", skip: 0 };
}

const CHUNK = 8192;

function fromUnits(units: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < units.length; i += CHUNK) {
    out += String.fromCharCode(...Array.prototype.slice.call(units, i, i + CHUNK));
  }
  return out;
}

function utf16(b: Uint8Array, start: number, le: boolean): string {
  const n = (b.length - start) >> 1;
  const units = new Uint16Array(n);
  for (let i = 0, p = start; i < n; i++, p += 2)
    units[i] = le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
  return fromUnits(units);
}

function utf32(b: Uint8Array, start: number, le: boolean): string {
  const units: number[] = [];
  let out = "";
  for (let p = start; p + 3 < b.length; p += 4) {
    let cp = le
      ? b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)
      : (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    cp >>>= 0;
    if (cp > 0x10ffff) cp = 0xfffd;
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
    if (units.length >= CHUNK) {
      out += fromUnits(units);
      units.length = 0;
    }
  }
  return out + fromUnits(units);
}

const utf8 = new TextDecoder();

/** The body as text in the charset it declares or shows. */
export function decodeBody(b: Uint8Array, contentType: string): { text: string; charset: Charset } {
  const { charset, skip } = detectCharset(b, contentType);
  switch (charset) {
    case "utf-8":
      return { text: utf8.decode(skip ? b.subarray(skip) : b), charset };
    case "utf-16le":
    case "utf-16be":
      return { text: utf16(b, skip, charset === "utf-16le"), charset };
    case "utf-32le":
    case "utf-32be":
      return { text: utf32(b, skip, charset === "utf-32le"), charset };
    case "latin1":
      return { text: fromUnits(b), charset };
  }
}

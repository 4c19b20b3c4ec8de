// Crafted 128 KiB request bodies, one per body decoder, built to make a naive parser recurse, rescan or keep
// state without bound. Shared by test/core/waf.body-bounds.test.ts (bounds) and bench/waf-body.bench.ts (time).
import type { InspectBody } from "../core/waf/inspect.ts";

const SIZE = 128 * 1024;
const fill = (unit: string, size = SIZE) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const body = (text: string, contentType: string): InspectBody => ({ text, contentType, truncated: false });

const half = SIZE / 2;
const parts = (n: number, boundary: string, content: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => `--${boundary}\r\n${content(i)}\r\n`).join("");

function nestedMultipart(levels: number): string {
  let inner = `--b${levels}\r\nContent-Disposition: form-data; name="q"\r\n\r\nvalue\r\n--b${levels}--\r\n`;
  for (let l = levels - 1; l >= 0; l--) {
    inner = `--b${l}\r\nContent-Disposition: form-data; name="n${l}"\r\nContent-Type: multipart/mixed; boundary=b${l + 1}\r\n\r\n${inner}\r\n--b${l}--\r\n`;
  }
  return inner.padEnd(SIZE, " ");
}

export const CRAFTED = {
  "deep JSON arrays": body(`${"[".repeat(half)}${"]".repeat(half)}`, "application/json"),
  "deep JSON objects": body(
    `${'{"a":'.repeat(SIZE / 10)}1${"}".repeat(SIZE / 10)}`.padEnd(SIZE, " "),
    "application/json",
  ),
  "many multipart parts": body(
    fill(parts(6000, "B", (i) => `Content-Disposition: form-data; name="f${i}"\r\n\r\nv`)),
    "multipart/form-data; boundary=B",
  ),
  "nested multipart": body(nestedMultipart(6), "multipart/form-data; boundary=b0"),
  "multipart without header ends": body(
    fill(parts(3000, "B", () => "Content-Disposition: form-data; name=x\r\nX-A: 1\r\nX-B: 2")),
    "multipart/form-data; boundary=B",
  ),
  "XML unclosed elements": body(fill("<a>"), "application/xml"),
  "XML unterminated quote": body(`<a b="${fill("x", SIZE - 6)}`, "application/xml"),
  "XML unterminated DOCTYPE": body(`<!DOCTYPE x [${fill("<!ENTITY a 'b'>", SIZE - 13)}`, "application/xml"),
  "XML many attributes": body(`<a ${fill('b="<c>" ', SIZE - 5)}/>`, "application/xml"),
  "form of 20k pairs": body(fill("a=1&"), "application/x-www-form-urlencoded"),
} satisfies Record<string, InspectBody>;

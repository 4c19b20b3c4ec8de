// Body inspection through the real app in workerd: each way of hiding a payload that the WAF blocks in a plain
// form (nesting, another Content-Type, compression, another charset, multipart tricks, padding past body_limit,
// XML) is blocked too, with the finding named in the log; ordinary bodies pass untouched.
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { makeCaller, upstreams, url } from "./helpers.ts";

const config = {
  services: [{ name: "web", backends: [{ url: url(upstreams.a) }] }],
  routes: [
    { name: "prefix", match: { host: "prefix.test" }, service: "web", waf: { oversize: "inspect-prefix" } },
    { name: "refuse", match: { host: "refuse.test" }, service: "web", waf: { oversize: "block" } },
    { name: "main", service: "web" },
  ],
  waf: { explain_header: true },
} satisfies ConfigInput;

const { call, logs } = makeCaller(config);
const lastLog = () =>
  JSON.parse(logs.at(-1)!) as {
    waf?: { action: string; rules: string[]; matched?: string[]; notes?: string[] };
  };

/** Blocked in a plain form field at paranoia 1 (XSS with an event handler). */
const PAYLOAD = "<img src=x onerror=alert(document.cookie)>";
const post = (body: BodyInit, headers: Record<string, string>) =>
  call("http://main.test/echo", { method: "POST", headers, body });
const status = async (res: Response) => {
  await res.arrayBuffer();
  return res.status;
};
const bytesOf = async (stream: ReadableStream<Uint8Array>) =>
  new Uint8Array(await new Response(stream).arrayBuffer());
const compress = (text: string, format: "gzip" | "deflate") =>
  bytesOf(new Blob([text]).stream().pipeThrough(new CompressionStream(format)));
const utf16le = (text: string) => {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    out[i * 2] = text.charCodeAt(i) & 0xff;
    out[i * 2 + 1] = text.charCodeAt(i) >> 8;
  }
  return out;
};
const multipart = (disposition: string, value: string, boundary = "b0undary") =>
  `--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n${value}\r\n--${boundary}--\r\n`;
const JSON_DOC = JSON.stringify({ comment: PAYLOAD });

describe("the payload is blocked in its plain form (the reference for every case below)", () => {
  it("form and JSON", async () => {
    expect(
      await status(
        await post(`comment=${encodeURIComponent(PAYLOAD)}`, {
          "content-type": "application/x-www-form-urlencoded",
        }),
      ),
    ).toBe(403);
    expect(await status(await post(JSON_DOC, { "content-type": "application/json" }))).toBe(403);
    expect(
      await status(
        await post(JSON.stringify({ comment: "hello <b>world</b>" }), { "content-type": "application/json" }),
      ),
    ).toBe(200);
  });
});

describe("bypass 1: JSON nested deeper than the parser's depth cap", () => {
  it("inspects the raw text past the cap and scores the depth itself", async () => {
    const deep = `${'{"a":'.repeat(40)}${JSON.stringify(PAYLOAD)}${"}".repeat(40)}`;
    expect(await status(await post(deep, { "content-type": "application/json" }))).toBe(403);
    expect(lastLog().waf?.rules).toContain("920900");
  });

  it("an ordinary deep-ish document (20 levels) passes", async () => {
    const ok = `${'{"a":'.repeat(20)}"fine"${"}".repeat(20)}`;
    expect(await status(await post(ok, { "content-type": "application/json" }))).toBe(200);
  });
});

describe("bypass 2: the same JSON under another Content-Type, compressed, or in UTF-16", () => {
  it("application/octet-stream and no Content-Type at all: JSON is found by sniffing", async () => {
    expect(await status(await post(JSON_DOC, { "content-type": "application/octet-stream" }))).toBe(403);
    expect(await status(await post(JSON_DOC, { "content-type": "image/png" }))).toBe(403);
  });

  it("Content-Encoding gzip and deflate are decoded", async () => {
    for (const format of ["gzip", "deflate"] as const) {
      const body = await compress(JSON_DOC, format);
      const res = await post(body, { "content-type": "application/json", "content-encoding": format });
      expect(await status(res), format).toBe(403);
    }
    const ok = await compress(JSON.stringify({ comment: "fine" }), "gzip");
    expect(
      await status(await post(ok, { "content-type": "application/json", "content-encoding": "gzip" })),
    ).toBe(200);
  });

  it("a decompression bomb is scored, not expanded; br and unknown encodings are scored", async () => {
    const bomb = await compress(`{"a":"${"0".repeat(4 * 1024 * 1024)}"}`, "gzip");
    expect(bomb.byteLength).toBeLessThan(16 * 1024);
    expect(
      await status(await post(bomb, { "content-type": "application/json", "content-encoding": "gzip" })),
    ).toBe(403);
    expect(lastLog().waf?.rules).toContain("920902");
    for (const encoding of ["br", "zstd", "x-custom"]) {
      expect(
        await status(
          await post(JSON_DOC, { "content-type": "application/json", "content-encoding": encoding }),
        ),
        encoding,
      ).toBe(403);
      expect(lastLog().waf?.rules).toContain("920901");
    }
    const corrupt = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5]);
    expect(
      await status(await post(corrupt, { "content-type": "application/json", "content-encoding": "gzip" })),
    ).toBe(403);
  });

  it("UTF-16LE under application/json, with or without a BOM, and a charset from Content-Type", async () => {
    const plain = utf16le(JSON_DOC);
    expect(await status(await post(plain, { "content-type": "application/json" }))).toBe(403);
    const bom = new Uint8Array([0xff, 0xfe, ...plain]);
    expect(await status(await post(bom, { "content-type": "application/json" }))).toBe(403);
    const form = utf16le(`comment=${encodeURIComponent(PAYLOAD)}`);
    expect(
      await status(
        await post(form, { "content-type": "application/x-www-form-urlencoded; charset=utf-16le" }),
      ),
    ).toBe(403);
  });
});

describe("bypass 3 and 4: multipart parameters per RFC 7578", () => {
  it("an unquoted name (name=q) is a field like any other", async () => {
    const body = multipart("form-data; name=q", PAYLOAD);
    expect(await status(await post(body, { "content-type": "multipart/form-data; boundary=b0undary" }))).toBe(
      403,
    );
  });

  it("xfilename is not filename: the part is a field and its value is inspected", async () => {
    const body = multipart('form-data; name="q"; xfilename="a"', PAYLOAD);
    expect(await status(await post(body, { "content-type": "multipart/form-data; boundary=b0undary" }))).toBe(
      403,
    );
  });

  it("text file contents are inspected; binary ones are not; an ordinary upload passes", async () => {
    const text = multipart('form-data; name="f"; filename="notes.txt"\r\nContent-Type: text/plain', PAYLOAD);
    expect(await status(await post(text, { "content-type": "multipart/form-data; boundary=b0undary" }))).toBe(
      403,
    );
    const upload = multipart(
      'form-data; name="avatar"; filename="me.png"\r\nContent-Type: image/png',
      "\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR<script>",
    );
    expect(
      await status(await post(upload, { "content-type": "multipart/form-data; boundary=b0undary" })),
    ).toBe(200);
  });

  it("nested multipart/mixed parts are inspected", async () => {
    const inner = multipart('form-data; name="q"', PAYLOAD, "inner");
    const outer = multipart(
      'form-data; name="files"\r\nContent-Type: multipart/mixed; boundary=inner',
      inner,
    );
    expect(
      await status(await post(outer, { "content-type": "multipart/form-data; boundary=b0undary" })),
    ).toBe(403);
  });
});

describe("bypass 5: a payload after body_limit", () => {
  const padded = `pad=${"a".repeat(128 * 1024)}&comment=${encodeURIComponent(PAYLOAD)}`;
  const form = { "content-type": "application/x-www-form-urlencoded" };

  it('oversize = "score" (default): the uninspected end is scored and the decision says so', async () => {
    const res = await post(padded, form);
    expect(res.status).toBe(403);
    expect(res.headers.get("x-switchyard-waf")).toContain("920904@body>131072");
    expect(res.headers.get("x-switchyard-waf")).toContain("(oversize=score)");
  });

  it("an upload whose cut falls inside a binary file only notes it (920905), so large images pass", async () => {
    const png = new Uint8Array(256 * 1024);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
    const fd = new FormData();
    fd.set("title", "holiday");
    fd.set("photo", new File([png], "beach.png", { type: "image/png" }));
    const res = await call("http://main.test/echo", { method: "POST", body: fd });
    expect(await status(res)).toBe(200);
    expect(lastLog().waf?.rules).toEqual(["920905"]);
  });

  it('oversize = "block" refuses it; "inspect-prefix" lets it through and says only the prefix was seen', async () => {
    const refused = await call("http://refuse.test/echo", { method: "POST", headers: form, body: padded });
    expect(await status(refused)).toBe(403);
    expect(lastLog().waf?.matched?.join(" ")).toContain("(oversize=block)");
    const prefix = await call("http://prefix.test/echo", { method: "POST", headers: form, body: padded });
    expect(prefix.status).toBe(200);
    expect(prefix.headers.get("x-switchyard-waf")).toContain("note=only the first 131072 bytes");
    expect((await prefix.text()).length).toBe(padded.length);
  });
});

describe("XML", () => {
  it("element text and attribute values are inspected", async () => {
    const esc = PAYLOAD.replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const text = `<?xml version="1.0"?><order><note>${esc}</note></order>`;
    expect(await status(await post(text, { "content-type": "application/xml" }))).toBe(403);
    const attr = `<order><note text="${esc.replace(/"/g, "&quot;")}"/></order>`;
    expect(await status(await post(attr, { "content-type": "text/xml" }))).toBe(403);
    const cdata = `<order><note><![CDATA[${PAYLOAD}]]></note></order>`;
    expect(await status(await post(cdata, { "content-type": "application/soap+xml" }))).toBe(403);
    const ok = '<order id="7"><item sku="A-1" qty="2">Blue mug &amp; saucer</item></order>';
    expect(await status(await post(ok, { "content-type": "application/xml" }))).toBe(200);
  });
});

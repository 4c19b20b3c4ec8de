// Protocol enforcement (920) and protocol attacks (921) through the real app in workerd: what each check blocks,
// and that ordinary clients (a browser, curl, a JSON API client, GraphQL, an upload) are not blocked.
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { makeCaller, upstreams, url } from "./helpers.ts";

const config = {
  services: [{ name: "web", backends: [{ url: url(upstreams.a) }] }],
  routes: [
    { name: "pl2", match: { host: "pl2.test" }, service: "web", waf: { paranoia: 2, threshold: 2 } },
    { name: "main", service: "web" },
  ],
  waf: {
    explain_header: true,
    managed: { allowed_methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] },
  },
} satisfies ConfigInput;

const { call, logs } = makeCaller(config);
const rules = () => (JSON.parse(logs.at(-1)!) as { waf?: { rules: string[] } }).waf?.rules ?? [];

const BROWSER = {
  "user-agent":
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-encoding": "gzip, deflate, br, zstd",
  "accept-language": "en-GB,en;q=0.9",
  "cache-control": "max-age=0",
};
const CURL = { "user-agent": "curl/8.11.1", accept: "*/*" };

async function send(path: string, init: RequestInit & { host?: string } = {}) {
  const res = await call(`http://${init.host ?? "main.test"}${path}`, init);
  await res.arrayBuffer();
  return { status: res.status, rules: rules() };
}

describe("ordinary clients pass", () => {
  it("a browser page load, a curl GET, a JSON API call, GraphQL, a form and an upload", async () => {
    expect((await send("/products?page=2&sort=price", { headers: BROWSER })).status).toBe(200);
    expect((await send("/health", { headers: CURL })).status).toBe(200);
    const json = { ...CURL, "content-type": "application/json; charset=utf-8" };
    expect(
      (
        await send("/api/orders", {
          method: "POST",
          headers: json,
          body: '{"items":[{"sku":"A-1","qty":2}]}',
        })
      ).status,
    ).toBe(200);
    const gql = { ...CURL, "content-type": "application/json" };
    const query = JSON.stringify({
      query: "query Order { order(id: 7) { id total } }",
      variables: { id: "7" },
    });
    expect((await send("/graphql", { method: "POST", headers: gql, body: query })).status).toBe(200);
    expect(
      (
        await send("/graphql", {
          method: "POST",
          headers: { ...CURL, "content-type": "application/graphql" },
          body: "{ me { id } }",
        })
      ).status,
    ).toBe(200);
    const form = { ...BROWSER, "content-type": "application/x-www-form-urlencoded" };
    expect(
      (await send("/login", { method: "POST", headers: form, body: "user=jdoe&remember=on" })).status,
    ).toBe(200);
    const fd = new FormData();
    fd.set("title", "holiday");
    fd.set(
      "photo",
      new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d])], "beach.png", { type: "image/png" }),
    );
    expect((await send("/upload", { method: "POST", headers: BROWSER, body: fd })).status).toBe(200);
    expect((await send("/video.mp4", { headers: { ...BROWSER, range: "bytes=0-1023" } })).status).toBe(200);
    expect((await send("/doc", { method: "DELETE", headers: CURL })).status).toBe(200);
    expect((await send("/doc", { method: "OPTIONS", headers: { ...CURL, accept: "" } })).status).toBe(200);
  });
});

describe("920: protocol enforcement", () => {
  it("a method outside allowed_methods", async () => {
    const r = await send("/", { method: "PROPFIND", headers: CURL });
    expect(r).toMatchObject({ status: 403, rules: expect.arrayContaining(["920800"]) });
  });

  it("Content-Type: outside the allow-list, malformed, a disallowed or doubled charset, a second type hidden after it", async () => {
    const post = (ct: string) =>
      send("/", { method: "POST", headers: { ...CURL, "content-type": ct }, body: "a=1" });
    expect((await post("my-new-content-type")).rules).toContain("920812");
    expect((await post("application/x-foobar")).rules).toContain("920813");
    expect((await post("text/plain; charset=utf-7")).rules).toContain("920814");
    expect((await post("text/plain; charset=utf-8; charset=utf-7")).rules).toContain("920814");
    expect((await post("application/x-www-form-urlencoded; x=application/json")).rules).toContain("921806");
    for (const ct of ["my-new-content-type", "application/x-foobar", "text/plain; charset=utf-7"]) {
      expect((await post(ct)).status, ct).toBe(403);
    }
  });

  it("restricted headers, an oversized Accept-Encoding, an Accept charset, a \\u escape outside JSON", async () => {
    for (const [name, value, id] of [
      ["proxy", "http://evil.example:8080", "920816"],
      ["x-http-method-override", "DELETE", "920816"],
      ["x-middleware-subrequest", "middleware", "920816"],
      ["accept-encoding", `gzip,${"x".repeat(120)}`, "920817"],
      ["accept", "text/html;charset=utf-7", "920818"],
      ["x-note", "\\u003cscript\\u003e", "920819"],
    ] as const) {
      const r = await send("/", { headers: { ...CURL, [name]: value } });
      expect(r.status, name).toBe(403);
      expect(r.rules, name).toContain(id);
    }
    const q = await send(`/?q=${encodeURIComponent("\\u0027 or 1=1")}`, { headers: CURL });
    expect(q.rules).toContain("920819");
  });

  it("backup and configuration files", async () => {
    for (const path of ["/index.php~", "/db/backup.sql", "/web.config", "/app.bak"]) {
      expect((await send(path, { headers: CURL })).status, path).toBe(403);
    }
    expect((await send("/files/report.pdf", { headers: CURL })).status).toBe(200);
  });

  it("Range abuse, Request-Range, Connection, a GET with a body, an IP as Host (scored, not blocked alone)", async () => {
    expect((await send("/", { headers: { ...CURL, range: "bytes=100-10" } })).rules).toContain("920804");
    expect((await send("/", { headers: { ...CURL, "request-range": "bytes=0-1" } })).rules).toContain(
      "920804",
    );
    const many = `bytes=${Array.from({ length: 8 }, (_, i) => `${i * 10}-${i * 10 + 5}`).join(",")}`;
    expect((await send("/", { host: "pl2.test", headers: { ...CURL, range: many } })).rules).toContain(
      "920815",
    );
    expect((await send("/", { headers: { ...CURL, connection: "keep-alive, close" } })).rules).toContain(
      "920805",
    );
    const ip = await send("/", { host: "192.0.2.10", headers: CURL });
    expect(ip).toMatchObject({ status: 200, rules: ["920810"] });
  });

  it("missing and empty User-Agent and Accept at their paranoia levels", async () => {
    expect((await send("/", { headers: { "user-agent": "", accept: "*/*" } })).rules).toEqual(["920807"]);
    expect((await send("/", { headers: { "user-agent": "x", accept: "" } })).rules).toEqual(["920806"]);
    expect((await send("/", { headers: { accept: "*/*" } })).rules).toEqual([]);
    const pl2 = await send("/", { host: "pl2.test", headers: { accept: "*/*" } });
    expect(pl2).toMatchObject({ status: 403, rules: ["920808"] });
  });

  it("_method override at paranoia 2", async () => {
    expect((await send("/?_method=DELETE", { host: "pl2.test", headers: CURL })).rules).toContain("920823");
  });
});

describe("921: protocol attacks", () => {
  it("request smuggling and response splitting in arguments, CR/LF in names, header values and the path", async () => {
    const cases: Array<[string, string]> = [
      [`/?x=${encodeURIComponent("a GET /admin HTTP/1.1")}`, "921801"],
      [`/?lang=${encodeURIComponent("en\r\nSet-Cookie: session=attacker")}`, "921802"],
      [`/?r=${encodeURIComponent("x\r\n\r\nHTTP/1.1 200 OK")}`, "921802"],
      ["/?arg1=GET%20http%3A%2F%2Fwww.foo.bar%20HTTP%2F1.2", "921801"],
      [`/?${encodeURIComponent("a\nb")}=1`, "921804"],
      ["/foo%0d%0aSet-Cookie:x=1", "921805"],
      [`/?u=${encodeURIComponent("unix:AAAA|http://evil.example/")}`, "921807"],
      [`/?user=${encodeURIComponent("*)(uid=*))(|(uid=*")}`, "921809"],
    ];
    for (const [path, id] of cases) {
      const r = await send(path, { headers: CURL });
      expect(r.status, path).toBe(403);
      expect(r.rules, path).toContain(id);
    }
    const header = await send("/", { headers: { ...CURL, "x-forwarded-host": "a%0d%0aSet-Cookie: x=1" } });
    expect(header.rules).toContain("921803");
    const cookie = await send("/", { headers: { ...CURL, cookie: '$Version=1; session="abc"' } });
    expect(cookie.rules).toContain("921808");
    const split = await send("/", {
      headers: { ...CURL, cookie: "oreo=munch%0d%0a%0d%0a<HTML><title></title></HTML>" },
    });
    expect(split.rules).toContain("921802");
    const smuggled = "barGET /a.html HTTP/1.1\r\nHost: foo.com\r\n\r\n";
    const body = await send("/", {
      method: "POST",
      headers: { ...CURL, "content-type": "text/plain" },
      body: smuggled,
    });
    expect(body).toMatchObject({ status: 403, rules: expect.arrayContaining(["921801"]) });
  });

  it("CR/LF in a query value at paranoia 2; parameter pollution only from paranoia 3", async () => {
    expect((await send(`/?note=${encodeURIComponent("line1\nline2")}`, { headers: CURL })).status).toBe(200);
    expect(
      (await send(`/?note=${encodeURIComponent("line1\nline2")}`, { host: "pl2.test", headers: CURL })).rules,
    ).toContain("921810");
    expect((await send("/?a=1&a=2&b[]=1&b[]=2", { headers: CURL })).status).toBe(200);
  });

  it("prose that mentions HTTP or parentheses passes", async () => {
    const text = "We moved from HTTP/1.1 to HTTP/2 (see the notes) and GET requests got faster (about 20%).";
    const form = { ...CURL, "content-type": "application/x-www-form-urlencoded" };
    expect(
      (await send("/post", { method: "POST", headers: form, body: `body=${encodeURIComponent(text)}` }))
        .status,
    ).toBe(200);
  });
});

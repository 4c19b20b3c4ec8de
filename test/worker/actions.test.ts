// Route actions through real requests: weighted split, redirects, rewrites (prefix, full path, template, host),
// header modifiers both ways, direct responses, forwarding headers and trust, internal headers, WebSockets.
import { describe, expect, it } from "vitest";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const services = [
  { name: "a", backends: [{ url: url(upstreams.a) }] },
  { name: "b", backends: [{ url: url(upstreams.b) }] },
  { name: "named", backends: [{ url: `http://localhost:${upstreams.c}` }] },
];
const echo = async (res: Response | Promise<Response>) => (await (await res).json()) as Echo;

describe("split", () => {
  it("splits requests across services by weight, exactly and interleaved", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        {
          name: "canary",
          split: [
            { service: "a", weight: 3 },
            { service: "b", weight: 1 },
          ],
        },
      ],
    });
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push((await echo(call("http://h.test/"))).backend);
    expect(seen.filter((b) => b === "b")).toHaveLength(2);
    expect(seen.slice(0, 4).filter((b) => b === "b")).toHaveLength(1);
  });
});

describe("redirect", () => {
  const { call } = makeCaller({
    services,
    routes: [
      { name: "https", match: { path: { prefix: "/secure" } }, redirect: { scheme: "https", status: 301 } },
      { name: "moved", match: { path: { prefix: "/old" } }, redirect: { prefix: "/new", status: 308 } },
      { name: "root", match: { path: { prefix: "/strip" } }, redirect: { prefix: "/" } },
      {
        name: "host",
        match: { host: "old.test" },
        redirect: { host: "new.test", port: 8443, keep_query: false },
      },
      {
        name: "full",
        match: { path: { template: "/u/:id" } },
        redirect: { path: "/users/:id", status: 303 },
      },
      { name: "temp", match: { path: { exact: "/t" } }, redirect: { path: "/elsewhere", status: 307 } },
    ],
  });
  const loc = async (u: string) => {
    const res = await call(u);
    return [res.status, res.headers.get("location")];
  };

  it("changes the scheme, dropping the old scheme's port", async () => {
    expect(await loc("http://h.test:8080/secure/x?q=1")).toEqual([301, "https://h.test/secure/x?q=1"]);
  });
  it("replaces a prefix, segment-aware, without leaving //", async () => {
    expect(await loc("http://h.test/old/a/b")).toEqual([308, "http://h.test/new/a/b"]);
    expect(await loc("http://h.test/old")).toEqual([308, "http://h.test/new"]);
    expect(await loc("http://h.test/strip/a")).toEqual([302, "http://h.test/a"]);
    expect(await loc("http://h.test/strip")).toEqual([302, "http://h.test/"]);
  });
  it("changes host and port and can drop the query", async () => {
    expect(await loc("http://old.test/p?q=1")).toEqual([302, "http://new.test:8443/p"]);
  });
  it("fills a full path from template parameters", async () => {
    expect(await loc("http://h.test/u/42?x=1")).toEqual([303, "http://h.test/users/42?x=1"]);
  });
  it("uses 307 when asked", async () => {
    expect(await loc("http://h.test/t")).toEqual([307, "http://h.test/elsewhere"]);
  });
});

describe("rewrite", () => {
  const { call } = makeCaller({
    services,
    routes: [
      { name: "prefix", match: { path: { prefix: "/api" } }, rewrite: { prefix: "/" }, service: "a" },
      { name: "v2", match: { path: { prefix: "/v1" } }, rewrite: { prefix: "/v2/" }, service: "a" },
      {
        name: "full",
        match: { path: { exact: "/health" } },
        rewrite: { path: "/internal/status" },
        service: "a",
      },
      {
        name: "tmpl",
        match: { path: { template: "/u/:id/p/:post" } },
        rewrite: { path: "/posts/:post/by/:id" },
        service: "a",
      },
      { name: "host", match: { host: "rw.test" }, rewrite: { host: "127.0.0.1" }, service: "named" },
      { name: "plain", match: { host: "plain.test" }, service: "named" },
    ],
  });

  it("replaces a prefix with / without leaving //, and keeps the query", async () => {
    expect((await echo(call("http://h.test/api/users?x=1"))).path).toBe("/users");
    expect((await echo(call("http://h.test/api"))).path).toBe("/");
    expect((await echo(call("http://h.test/api/"))).path).toBe("/");
    expect((await echo(call("http://h.test/api/users?x=1"))).search).toBe("?x=1");
  });
  it("replaces a prefix with a longer one", async () => {
    expect((await echo(call("http://h.test/v1/items/3"))).path).toBe("/v2/items/3");
  });
  it("replaces the full path, and builds it from template parameters", async () => {
    expect((await echo(call("http://h.test/health"))).path).toBe("/internal/status");
    expect((await echo(call("http://h.test/u/ann/p/7"))).path).toBe("/posts/7/by/ann");
  });
  it("rewrites the host by changing the fetch URL (the backend sees the new Host)", async () => {
    const plain = await echo(call("http://plain.test/"));
    expect(plain.headers.host).toBe(`localhost:${upstreams.c}`);
    const rewritten = await echo(call("http://rw.test/"));
    expect(rewritten.backend).toBe("c");
    expect(rewritten.headers.host).toBe(`127.0.0.1:${upstreams.c}`);
    expect(rewritten.headers["x-forwarded-host"]).toBe("rw.test");
  });
  it("cannot change Host with a header: workerd's fetch() takes it from the URL (why rewrite.host edits the URL)", async () => {
    const res = await fetch(`${url(upstreams.a)}/`, { headers: { host: "other.example" } });
    expect(((await res.json()) as Echo).headers.host).toBe(`127.0.0.1:${upstreams.a}`);
  });
});

describe("header modifiers", () => {
  const { call } = makeCaller({
    services,
    routes: [
      {
        name: "h",
        service: "a",
        request_headers: { set: { "X-Env": "prod" }, add: { "X-Tags": "edge" }, remove: ["X-Drop"] },
        response_headers: {
          set: { "Cache-Control": "no-store" },
          add: { "X-Backend": "via-edge" },
          remove: ["content-type"],
        },
      },
    ],
  });

  it("sets, appends with a comma, and removes request headers, names case-insensitive", async () => {
    const got = await echo(
      call("http://h.test/", { headers: { "x-env": "dev", "x-tags": "client", "x-drop": "1" } }),
    );
    expect(got.headers["x-env"]).toBe("prod");
    expect(got.headers["x-tags"]).toBe("client, edge");
    expect(got.headers["x-drop"]).toBeUndefined();
    const fresh = await echo(call("http://h.test/"));
    expect(fresh.headers["x-tags"]).toBe("edge");
  });

  it("sets, appends and removes response headers", async () => {
    const res = await call("http://h.test/");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-backend")).toBe("a, via-edge");
    expect(res.headers.get("content-type")).toBeNull();
  });
});

describe("direct response", () => {
  it("answers with the configured status, body and content type, plus response headers", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        {
          name: "maint",
          match: { host: "down.test" },
          respond: { status: 503, body: "back soon" },
          response_headers: { set: { "retry-after": "120" } },
        },
        {
          name: "block",
          match: { path: { prefix: "/admin" } },
          respond: { status: 403, body: "{}", content_type: "application/json" },
        },
      ],
    });
    const res = await call("http://down.test/anything");
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("back soon");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("retry-after")).toBe("120");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const blocked = await call("http://x.test/admin/users");
    expect(blocked.status).toBe(403);
    expect(blocked.headers.get("content-type")).toBe("application/json");
  });
});

describe("forwarding headers", () => {
  const base = { services, routes: [{ name: "r", service: "a" }] };

  it("generates X-Request-Id, sends it to the backend and echoes it", async () => {
    const { call } = makeCaller(base);
    const res = await call("http://h.test/", {
      headers: { "x-request-id": "spoofed", "cf-connecting-ip": "192.0.2.1" },
    });
    const got = (await res.json()) as Echo;
    expect(got.headers["x-request-id"]).toBe(res.headers.get("x-request-id"));
    expect(got.headers["x-request-id"]).not.toBe("spoofed");
  });

  it("puts the request id on every kind of answer, where the answer is built", async () => {
    const { call, logs } = makeCaller({
      services,
      routes: [
        { name: "r", match: { host: "h.test" }, service: "a" },
        { name: "moved", match: { host: "moved.test" }, redirect: { host: "elsewhere.test" } },
      ],
    });
    const answers = [
      await call("http://h.test/"), // a backend's response (its headers are immutable)
      await call("http://moved.test/x"), // a redirect
      await call("http://nowhere.test/"), // an error Switchyard generates (404 SY_NO_ROUTE)
      await call("http://h.test/__switchyard"), // the admin API's redirect to its prefix
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 302, 404, 308]);
    const ids = answers.map((r) => r.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(4);
    // The log line names the same id as the response.
    expect(logs.map((l) => JSON.parse(l).request_id)).toEqual(ids);
  });

  it("takes the request id from CF-Ray, and leaves a backend's response as it is when nothing must change", async () => {
    const ray = "8c1f4e2a9b3d5f70-AMS";
    const { call, logs } = makeCaller({
      services,
      routes: [{ name: "r", match: { host: "h.test" }, service: "a" }],
    });
    // The echo backend answers with `connection: x-private-hop`: a copy drops that header; no X-Request-Id is added.
    const res = await call("http://h.test/", { headers: { "cf-ray": ray } });
    const got = (await res.json()) as Echo;
    expect(got.headers["x-request-id"]).toBe(ray);
    expect(res.headers.get("x-private-hop")).toBeNull();
    expect(res.headers.get("x-request-id")).toBeNull();
    expect(JSON.parse(logs[0]!).request_id).toBe(ray);
    // Answers Switchyard builds carry it.
    const missing = await call("http://nowhere.test/", { headers: { "cf-ray": ray } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-request-id")).toBe(ray);
    // A CF-Ray that is not an id (too long, or with spaces) is not taken.
    const odd = await call("http://nowhere.test/", { headers: { "cf-ray": "x y" } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("passes a backend's own Response through untouched, and copies it when a header is written", async () => {
    const answers: Response[] = [];
    const fetcher = (async () => {
      const r = new Response("ok", { headers: { "x-from": "backend" } });
      answers.push(r);
      return r;
    }) as typeof fetch;
    const doc = {
      services: [
        { name: "s", backends: [{ url: "http://10.0.0.1" }] },
        { name: "pinned", backends: [{ url: "http://10.0.0.2" }], sticky: { cookie: "aff" } },
      ],
      routes: [
        { name: "plain", match: { host: "plain.test" }, service: "s" },
        {
          name: "modified",
          match: { host: "modified.test" },
          service: "s",
          response_headers: { set: { "x-r": "1" } },
        },
        { name: "sticky", match: { host: "sticky.test" }, service: "pinned" },
      ],
    };
    const { call } = makeCaller(doc, { fetcher }, { STICKY_SECRET: "test-secret-0123456789" });
    const ray = { "cf-ray": "8c1f4e2a9b3d5f70-AMS" };
    const last = () => answers[answers.length - 1];
    expect(await call("http://plain.test/", { headers: ray })).toBe(last());
    // Without a CF-Ray the client gets X-Request-Id, so the response is copied to add it.
    const withId = await call("http://plain.test/");
    expect(withId).not.toBe(last());
    expect(withId.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    // A step that writes a header gets one copy: response header modifiers, a new sticky cookie.
    const modified = await call("http://modified.test/", { headers: ray });
    expect(modified).not.toBe(last());
    expect([modified.headers.get("x-r"), modified.headers.get("x-from")]).toEqual(["1", "backend"]);
    const first = await call("http://sticky.test/", { headers: ray });
    expect(first).not.toBe(last());
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    // A client that holds a valid cookie gets nothing written, and the backend's response as it came.
    expect(await call("http://sticky.test/", { headers: { ...ray, cookie } })).toBe(last());
  });

  it("keeps a trusted client's X-Request-Id and extends its X-Forwarded-For", async () => {
    const { call } = makeCaller({ ...base, forwarding: { trusted_proxies: ["10.0.0.0/8"] } });
    const res = await call("http://h.test/", {
      headers: {
        "x-request-id": "trace-123",
        "x-forwarded-for": "198.51.100.7",
        "cf-connecting-ip": "10.1.2.3",
      },
    });
    const got = (await res.json()) as Echo;
    expect(res.headers.get("x-request-id")).toBe("trace-123");
    expect(got.headers["x-request-id"]).toBe("trace-123");
    expect(got.headers["x-forwarded-for"]).toBe("198.51.100.7, 10.1.2.3");
  });

  it("replaces an untrusted client's X-Forwarded-For", async () => {
    const { call } = makeCaller({ ...base, forwarding: { trusted_proxies: ["10.0.0.0/8"] } });
    const got = await echo(
      call("http://h.test/", {
        headers: { "x-forwarded-for": "198.51.100.7", "cf-connecting-ip": "203.0.113.5" },
      }),
    );
    expect(got.headers["x-forwarded-for"]).toBe("203.0.113.5");
  });

  it("adds RFC 7239 Forwarded when asked, quoting IPv6", async () => {
    const { call } = makeCaller({ ...base, forwarding: { forwarded: true } });
    const got = await echo(
      call("https://h.test/", { headers: { "cf-connecting-ip": "2001:db8::1", forwarded: "for=evil" } }),
    );
    expect(got.headers.forwarded).toBe('for="[2001:db8::1]";proto=https;host="h.test"');
  });

  it("strips internal headers from requests and responses", async () => {
    const { call } = makeCaller({
      ...base,
      forwarding: { internal_headers: ["X-Internal-User", "x-private-hop", "x-backend"] },
    });
    const res = await call("http://h.test/", { headers: { "x-internal-user": "admin" } });
    const got = (await res.json()) as Echo;
    expect(got.headers["x-internal-user"]).toBeUndefined();
    expect(res.headers.get("x-backend")).toBeNull();
  });
});

describe("WebSocket", () => {
  it("passes an upgrade through to the backend and relays frames both ways", async () => {
    const { call } = makeCaller({ services, routes: [{ name: "ws", service: "b" }] });
    const res = await call("http://h.test/socket", { headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const reply = new Promise<string>((resolve) =>
      ws.addEventListener("message", (e) => resolve(String(e.data))),
    );
    ws.send("hello");
    expect(await reply).toBe("b:hello");
    ws.close();
  });
});

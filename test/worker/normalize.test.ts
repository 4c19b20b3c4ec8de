// Path normalisation and client identity through the real app inside workerd, against the real echo upstreams:
// what matching, rules and the backend see for paths written to slip past "/admin" rules, and which
// client-identity headers reach the backend from untrusted and trusted clients.
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

function setup(extra: Partial<ConfigInput> = {}, route: Record<string, unknown> = {}) {
  return makeCaller({
    services: [{ name: "web", backends: [{ url: url(upstreams.a) }] }],
    routes: [
      { name: "admin", match: { path: { prefix: "/admin" } }, respond: { status: 403, body: "no" } },
      { name: "all", service: "web", ...route },
    ],
    ...extra,
  } as ConfigInput);
}

async function echo(res: Response): Promise<Echo> {
  expect(res.status).toBe(200);
  return (await res.json()) as Echo;
}

describe("path normalisation", () => {
  it("sends /%61dmin/x and //admin/x to the /admin route", async () => {
    const { call } = setup();
    for (const path of ["/%61dmin/x", "//admin/x", "/%2561dmin/../admin/x", "/x/%2e%2e/admin", "/./admin"]) {
      const res = await call(`http://lb.test${path}`);
      expect([path, res.status]).toEqual([path, 403]);
    }
  });

  it("runs WAF rules on the normalised path, and offers the raw one as raw.http.request.uri.path", async () => {
    const { call } = setup({
      waf: {
        rules: [
          { id: "admin", expression: 'http.request.uri.path wildcard "/private*"', action: "block" },
          { id: "raw", expression: 'raw.http.request.uri.path contains "/%7E"', action: "block" },
        ],
      },
    });
    expect((await call("http://lb.test/%70rivate/x")).status).toBe(403);
    expect((await call("http://lb.test//private")).status).toBe(403);
    expect((await call("http://lb.test/%7Euser")).status).toBe(403);
    expect((await echo(await call("http://lb.test/~user"))).path).toBe("/~user");
  });

  it("forwards the normalised path: unreserved escapes decoded, others upper-cased, slashes merged", async () => {
    const { call } = setup();
    const got = await echo(await call("http://lb.test//a///b/%7euser/%c3%a9/./c/..?q=%61"));
    expect(got.path).toBe("/a/b/~user/%C3%A9/");
    expect(got.search).toBe("?q=%61");
  });

  it("forwards the path as received when the route says forward_raw_path", async () => {
    const { call } = setup({}, { forward_raw_path: true });
    expect((await echo(await call("http://lb.test/x//a/%7euser"))).path).toBe("/x//a/%7euser");
  });

  it("keeps, decodes or rejects escaped slashes as forwarding.path says", async () => {
    const keep = setup();
    expect((await echo(await keep.call("http://lb.test/a%2fb"))).path).toBe("/a%2Fb");
    const decode = setup({ forwarding: { path: "decode" } });
    expect((await decode.call("http://lb.test/%2fadmin/x")).status).toBe(403);
    expect((await echo(await decode.call("http://lb.test/a%2fb"))).path).toBe("/a/b");
    const reject = setup({ forwarding: { path: "reject" } });
    const res = await reject.call("http://lb.test/a%2Fb");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SY_PATH_REJECTED");
  });

  it("leaves the path alone with forwarding.normalize_path = false", async () => {
    const { call } = setup({ forwarding: { normalize_path: false } });
    expect((await echo(await call("http://lb.test/x//a/%7euser"))).path).toBe("/x//a/%7euser");
    expect((await call("http://lb.test/%61dmin")).status).toBe(200);
  });
});

describe("client identity headers", () => {
  const spoofed = {
    "x-real-ip": "10.0.0.1",
    "true-client-ip": "10.0.0.2",
    "x-client-ip": "10.0.0.3",
    "x-cluster-client-ip": "10.0.0.4",
    "client-ip": "10.0.0.5",
    "x-forwarded-port": "443",
    "x-forwarded-prefix": "/internal",
    "x-forwarded-server": "trusted.example",
    "x-original-url": "/admin/delete",
    "x-rewrite-url": "/admin/delete",
    "x-custom-ip": "10.0.0.6",
    "x-other": "kept",
  };

  it("removes them from an untrusted client, and the names forwarding.strip_untrusted adds", async () => {
    const { call } = setup({ forwarding: { strip_untrusted: ["X-Custom-IP"] } });
    const got = await echo(
      await call("http://lb.test/x", { headers: { ...spoofed, "cf-connecting-ip": "203.0.113.5" } }),
    );
    for (const name of Object.keys(spoofed)) {
      if (name === "x-other") continue;
      expect([name, got.headers[name]]).toEqual([name, undefined]);
    }
    expect(got.headers["x-other"]).toBe("kept");
    expect(got.headers["x-forwarded-for"]).toBe("203.0.113.5");
  });

  it("keeps them from a trusted proxy", async () => {
    const { call } = setup({ forwarding: { trusted_proxies: ["198.51.100.0/24"] } });
    const got = await echo(
      await call("http://lb.test/x", { headers: { ...spoofed, "cf-connecting-ip": "198.51.100.7" } }),
    );
    expect(got.headers["x-real-ip"]).toBe("10.0.0.1");
    expect(got.headers["x-original-url"]).toBe("/admin/delete");
  });
});

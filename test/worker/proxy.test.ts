// Proxying through real upstream servers: balancing, forwarding headers, hop-by-hop hygiene, streaming bodies.
import { describe, expect, it } from "vitest";
import { type Echo, generatedBody, makeCaller, sha256Hex, upstreams, url } from "./helpers.ts";

const config = {
  services: [
    {
      name: "pool",
      backends: [{ url: url(upstreams.a) }, { url: url(upstreams.b) }, { url: url(upstreams.c) }],
    },
    { name: "weighted", backends: [{ url: url(upstreams.a), weight: 3 }, { url: url(upstreams.b) }] },
    { name: "based", backends: [{ url: `${url(upstreams.a)}/base/` }] },
  ],
  routes: [
    { name: "weighted", match: { host: "weighted.test" }, service: "weighted" },
    { name: "based", match: { host: "based.test" }, service: "based" },
    { name: "pool", service: "pool" },
  ],
};

describe("balancing", () => {
  it("spreads requests round-robin over the service's backends", async () => {
    const { call } = makeCaller(config);
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push(((await (await call("http://pool.test/")).json()) as Echo).backend);
    expect(seen.filter((b) => b === "a")).toHaveLength(3);
    expect(seen.filter((b) => b === "b")).toHaveLength(3);
    expect(seen.filter((b) => b === "c")).toHaveLength(3);
    // smooth: never the same backend twice in a row with equal weights
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  it("honours weights", async () => {
    const { call } = makeCaller(config);
    const seen: string[] = [];
    for (let i = 0; i < 8; i++)
      seen.push(((await (await call("http://weighted.test/")).json()) as Echo).backend);
    expect(seen.filter((b) => b === "a")).toHaveLength(6);
  });
});

describe("forwarding", () => {
  it("sets X-Forwarded-For from CF-Connecting-IP and ignores the client's own", async () => {
    const { call } = makeCaller(config);
    const res = await call("https://pool.test:8443/p", {
      headers: { "cf-connecting-ip": "203.0.113.9", "x-forwarded-for": "6.6.6.6" },
    });
    const echo = (await res.json()) as Echo;
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.9");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-host"]).toBe("pool.test:8443");
  });

  it("drops a client X-Forwarded-For when the client IP is unknown", async () => {
    const { call } = makeCaller(config);
    const echo = (await (
      await call("http://pool.test/", { headers: { "x-forwarded-for": "6.6.6.6" } })
    ).json()) as Echo;
    expect(echo.headers["x-forwarded-for"]).toBeUndefined();
  });

  it("strips hop-by-hop headers both ways, including those named by Connection", async () => {
    const { call } = makeCaller(config);
    const res = await call("http://pool.test/", {
      headers: {
        connection: "x-secret-hop, te",
        "x-secret-hop": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        trailer: "x-checksum",
        upgrade: "h2c",
        "proxy-connection": "keep-alive",
        "proxy-authorization": "Basic Zm9vOmJhcg==",
        "x-kept": "yes",
      },
    });
    const echo = (await res.json()) as Echo;
    // Some of these are removed by the proxy, the connection-level ones by the runtime's HTTP layer: the
    // backend sees none of them either way.
    for (const name of [
      "x-secret-hop",
      "keep-alive",
      "te",
      "trailer",
      "upgrade",
      "connection",
      "proxy-connection",
      "proxy-authorization",
    ]) {
      expect(echo.headers[name], name).toBeUndefined();
    }
    expect(echo.headers["x-kept"]).toBe("yes");
    // the upstream answers with `connection: x-private-hop` and an x-private-hop header
    expect(res.headers.get("x-private-hop")).toBeNull();
    expect(res.headers.get("x-backend")).not.toBeNull();
  });

  it("prepends a backend URL's path to the request path without doubling the slash", async () => {
    const { call } = makeCaller(config);
    const echo = (await (await call("http://based.test/x/y?z=1")).json()) as Echo;
    expect(echo.path).toBe("/base/x/y");
    expect(echo.search).toBe("?z=1");
  });

  it("passes backend redirects and error statuses to the client untouched", async () => {
    const { call } = makeCaller(config);
    const res = await call("http://pool.test/r?status=302&location=/elsewhere");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/elsewhere");
    expect((await call("http://pool.test/r?status=503")).status).toBe(503);
  });
});

describe("streaming", () => {
  it("streams a 24 MB request body through and back unchanged (hash check)", async () => {
    const { call } = makeCaller(config);
    const size = 24 * 1024 * 1024;
    const [forHash, forSend] = generatedBody(size, 7).tee();
    const [expected, res] = await Promise.all([
      sha256Hex(forHash),
      call("http://pool.test/echo", { method: "POST", body: forSend }),
    ]);
    expect(res.status).toBe(200);
    const got = await sha256Hex(res.body!);
    expect(got.length).toBe(size);
    expect(got.hex).toBe(expected.hex);
  });

  it("streams a 32 MB response body from the backend", async () => {
    const { call } = makeCaller(config);
    const size = 32 * 1024 * 1024;
    const res = await call(`http://pool.test/bytes?n=${size}`);
    expect(res.status).toBe(200);
    const got = await sha256Hex(res.body!);
    expect(got.length).toBe(size);
  });

  it("hands a POST body to the backend with its hash intact", async () => {
    const { call } = makeCaller(config);
    const size = 3 * 1024 * 1024 + 17;
    const [forHash, forSend] = generatedBody(size, 3).tee();
    const [expected, res] = await Promise.all([
      sha256Hex(forHash),
      call("http://pool.test/up", { method: "POST", body: forSend }),
    ]);
    const echo = (await res.json()) as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.body).toEqual({ length: size, sha256: expected.hex });
  });
});

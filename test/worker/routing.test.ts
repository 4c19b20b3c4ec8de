// Host and path matching through real requests: exact and wildcard hosts, exact and segment-aware prefix paths.
import { describe, expect, it } from "vitest";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const config = {
  services: [
    { name: "a", backends: [{ url: url(upstreams.a) }] },
    { name: "b", backends: [{ url: url(upstreams.b) }] },
    { name: "c", backends: [{ url: url(upstreams.c) }] },
  ],
  routes: [
    { name: "api-v2", match: { host: "api.example.com", path: { prefix: "/v2" } }, service: "b" },
    { name: "api", match: { host: "api.example.com" }, service: "a" },
    { name: "wild", match: { host: "*.example.com" }, service: "c" },
    { name: "login", match: { path: { exact: "/login" } }, service: "b" },
    { name: "docs", match: { path: { prefix: "/docs/" } }, service: "a" },
  ],
};
const { call } = makeCaller(config);
const backendOf = async (res: Response) => {
  expect(res.status).toBe(200);
  return ((await res.json()) as Echo).backend;
};

describe("host matching", () => {
  it("routes an exact host, case-insensitively and ignoring the port", async () => {
    expect(await backendOf(await call("http://api.example.com/x"))).toBe("a");
    expect(await backendOf(await call("http://API.Example.COM:8443/x"))).toBe("a");
  });

  it("matches *.example.com for one or more labels below it", async () => {
    expect(await backendOf(await call("http://www.example.com/"))).toBe("c");
    expect(await backendOf(await call("http://a.b.example.com/"))).toBe("c");
  });

  it("never matches the apex with a wildcard", async () => {
    const res = await call("http://example.com/");
    expect(res.status).toBe(404);
  });

  it("prefers the exact host over the wildcard", async () => {
    expect(await backendOf(await call("http://api.example.com/"))).toBe("a");
  });

  it("uses the Host header, not only the URL", async () => {
    expect(await backendOf(await call("http://127.0.0.1/y", { headers: { host: "api.example.com" } }))).toBe(
      "a",
    );
  });
});

describe("path matching", () => {
  it("matches a segment-aware prefix: /v2, /v2/ and /v2/x but not /v2example", async () => {
    for (const p of ["/v2", "/v2/", "/v2/x/y"])
      expect(await backendOf(await call(`http://api.example.com${p}`))).toBe("b");
    expect(await backendOf(await call("http://api.example.com/v2example"))).toBe("a");
  });

  it("treats a trailing slash on a prefix as insignificant", async () => {
    expect(await backendOf(await call("http://other.test/docs"))).toBe("a");
    expect(await backendOf(await call("http://other.test/docs/intro"))).toBe("a");
    expect((await call("http://other.test/docsx")).status).toBe(404);
  });

  it("matches an exact path case-sensitively and nothing below it", async () => {
    expect(await backendOf(await call("http://other.test/login"))).toBe("b");
    expect((await call("http://other.test/Login")).status).toBe(404);
    expect((await call("http://other.test/login/x")).status).toBe(404);
  });

  it("passes path and query through to the backend unchanged", async () => {
    const echo = (await (await call("http://api.example.com/v2/items?q=a%20b&x=1")).json()) as Echo;
    expect(echo.path).toBe("/v2/items");
    expect(echo.search).toBe("?q=a%20b&x=1");
  });
});

describe("no route", () => {
  it("answers 404 JSON with SY_NO_ROUTE and the request id", async () => {
    const res = await call("http://nowhere.test/nothing");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string }; request_id: string };
    expect(body.error.code).toBe("SY_NO_ROUTE");
    expect(body.error.message).toContain("nowhere.test/nothing");
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-request-id")).toBe(body.request_id);
  });
});

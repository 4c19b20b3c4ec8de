// Gateway API precedence through real requests: most specific host, then exact path over prefix, the longest
// prefix, then method, then header count, then query count; remaining ties to the earlier rule. List order
// never beats specificity.
import { describe, expect, it } from "vitest";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const services = [
  { name: "a", backends: [{ url: url(upstreams.a) }] },
  { name: "b", backends: [{ url: url(upstreams.b) }] },
  { name: "c", backends: [{ url: url(upstreams.c) }] },
];
const winner = async (routes: unknown[], u: string, init?: RequestInit) => {
  const { call } = makeCaller({ services, routes } as never);
  const res = await call(u, init);
  expect(res.status).toBe(200);
  return ((await res.json()) as Echo).backend;
};

describe("precedence", () => {
  it("prefers an exact host over a wildcard, a longer wildcard over a shorter, any host last", async () => {
    const routes = [
      { name: "any", service: "c" },
      { name: "short", match: { host: "*.test" }, service: "b" },
      { name: "long", match: { host: "*.api.test" }, service: "a" },
      { name: "exact", match: { host: "x.api.test" }, service: "c" },
    ];
    expect(await winner(routes, "http://x.api.test/")).toBe("c");
    expect(await winner(routes, "http://y.api.test/")).toBe("a");
    expect(await winner(routes, "http://y.test/")).toBe("b");
    expect(await winner(routes, "http://y.example/")).toBe("c");
  });

  it("host outranks path: a wildcard host with prefix / beats any host with an exact path", async () => {
    const routes = [
      { name: "path", match: { path: { exact: "/x" } }, service: "a" },
      { name: "host", match: { host: "*.test" }, service: "b" },
    ];
    expect(await winner(routes, "http://h.test/x")).toBe("b");
  });

  it("prefers an exact path over a prefix, and the longest prefix, whatever the list order", async () => {
    const routes = [
      { name: "root", match: { path: { prefix: "/" } }, service: "a" },
      { name: "api", match: { path: { prefix: "/api" } }, service: "b" },
      { name: "api-v1", match: { path: { prefix: "/api/v1" } }, service: "c" },
      { name: "login", match: { path: { exact: "/api/v1/login" } }, service: "a" },
    ];
    expect(await winner(routes, "http://h.test/api/v1/login")).toBe("a");
    expect(await winner(routes, "http://h.test/api/v1/users")).toBe("c");
    expect(await winner(routes, "http://h.test/api/v2")).toBe("b");
  });

  it("a header match outranks a plain prefix / (no path is prefix /)", async () => {
    const routes = [
      { name: "all", match: { path: { prefix: "/" } }, service: "a" },
      { name: "tenant", match: { headers: { "x-tenant": "acme" } }, service: "b" },
    ];
    expect(await winner(routes, "http://h.test/any", { headers: { "x-tenant": "acme" } })).toBe("b");
    expect(await winner(routes, "http://h.test/any")).toBe("a");
  });

  it("path outranks method outranks header outranks query", async () => {
    const routes = [
      { name: "query", match: { path: { prefix: "/p" }, query: { q: "1" } }, service: "a" },
      { name: "header", match: { path: { prefix: "/p" }, headers: { "x-h": "1" } }, service: "b" },
      { name: "method", match: { path: { prefix: "/p" }, method: "GET" }, service: "c" },
      { name: "longer-path", match: { path: { prefix: "/p/deep" } }, service: "a" },
    ];
    const h = { headers: { "x-h": "1" } };
    expect(await winner(routes, "http://h.test/p/deep?q=1", h)).toBe("a"); // longest prefix beats everything
    expect(await winner(routes, "http://h.test/p?q=1", h)).toBe("c"); // method beats header and query
    expect(await winner(routes, "http://h.test/p?q=1", { method: "POST", body: "", ...h })).toBe("b"); // header beats query
    expect(await winner(routes, "http://h.test/p?q=1", { method: "POST", body: "" })).toBe("a");
  });

  it("more header matches win, then more query matches", async () => {
    const routes = [
      { name: "one", match: { headers: { "x-a": "1" } }, service: "a" },
      { name: "two", match: { headers: { "x-a": "1", "x-b": "1" } }, service: "b" },
      { name: "q1", match: { query: { a: "1" } }, service: "a" },
      { name: "q2", match: { query: { a: "1", b: "1" } }, service: "c" },
    ];
    expect(await winner(routes, "http://h.test/", { headers: { "x-a": "1", "x-b": "1" } })).toBe("b");
    expect(await winner(routes, "http://h.test/", { headers: { "x-a": "1" } })).toBe("a");
    expect(await winner(routes, "http://h.test/?a=1&b=1")).toBe("c");
  });

  it("breaks remaining ties by list order", async () => {
    const routes = [
      { name: "first", match: { headers: { "x-a": "1" } }, service: "a" },
      { name: "second", match: { headers: { "x-b": "1" } }, service: "b" },
    ];
    expect(await winner(routes, "http://h.test/", { headers: { "x-a": "1", "x-b": "1" } })).toBe("a");
  });

  it("ranks exact, then template, then regex, then prefix paths", async () => {
    const routes = [
      { name: "prefix", match: { path: { prefix: "/users" } }, service: "a" },
      { name: "regex", match: { path: { regex: "^/users/" } }, service: "b" },
      { name: "template", match: { path: { template: "/users/:id" } }, service: "c" },
      { name: "exact", match: { path: { exact: "/users/me" } }, service: "a" },
    ];
    expect(await winner(routes, "http://h.test/users/me")).toBe("a");
    expect(await winner(routes, "http://h.test/users/42")).toBe("c");
    expect(await winner(routes, "http://h.test/users/42/x")).toBe("b");
    expect(await winner(routes, "http://h.test/users")).toBe("a");
  });

  it("prefers static template segments over parameters", async () => {
    const routes = [
      { name: "param", match: { path: { template: "/u/:id" } }, service: "a" },
      { name: "static", match: { path: { template: "/u/new" } }, service: "b" },
    ];
    expect(await winner(routes, "http://h.test/u/new")).toBe("b");
    expect(await winner(routes, "http://h.test/u/7")).toBe("a");
  });
});

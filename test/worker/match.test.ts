// Every match field through real requests: several hosts, regex and template paths, methods, headers (exact,
// regex, present, absent; names case-insensitive), query (case-sensitive), cookies, several blocks (OR).
import { describe, expect, it } from "vitest";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const services = [
  { name: "a", backends: [{ url: url(upstreams.a) }] },
  { name: "b", backends: [{ url: url(upstreams.b) }] },
];
const routeTo = async (
  call: (u: string, i?: RequestInit) => Promise<Response>,
  u: string,
  init?: RequestInit,
) => {
  const res = await call(u, init);
  if (res.status === 404) return "404";
  return ((await res.json()) as Echo).backend;
};

describe("match fields", () => {
  it("serves every host a route lists", async () => {
    const { call } = makeCaller({
      services,
      routes: [{ name: "r", match: { host: ["one.test", "*.two.test"] }, service: "b" }],
    });
    expect(await routeTo(call, "http://one.test/")).toBe("b");
    expect(await routeTo(call, "http://x.y.two.test/")).toBe("b");
    expect(await routeTo(call, "http://two.test/")).toBe("404");
  });

  it("matches a path regex", async () => {
    const { call } = makeCaller({
      services,
      routes: [{ name: "r", match: { path: { regex: "^/v[0-9]+/" } }, service: "a" }],
    });
    expect(await routeTo(call, "http://h.test/v12/x")).toBe("a");
    expect(await routeTo(call, "http://h.test/vx/x")).toBe("404");
  });

  it("matches a path template; a parameter takes exactly one non-empty segment", async () => {
    const { call } = makeCaller({
      services,
      routes: [{ name: "r", match: { path: { template: "/users/:id/posts" } }, service: "a" }],
    });
    expect(await routeTo(call, "http://h.test/users/42/posts")).toBe("a");
    expect(await routeTo(call, "http://h.test/users/42/x/posts")).toBe("404");
    expect(await routeTo(call, "http://h.test/users//posts")).toBe("404");
  });

  it("matches one method or a list", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        { name: "w", match: { method: ["post", "PUT"] }, service: "b" },
        { name: "r", match: { method: "GET" }, service: "a" },
      ],
    });
    expect(await routeTo(call, "http://h.test/", { method: "POST", body: "x" })).toBe("b");
    expect(await routeTo(call, "http://h.test/", { method: "PUT", body: "x" })).toBe("b");
    expect(await routeTo(call, "http://h.test/")).toBe("a");
    expect(await routeTo(call, "http://h.test/", { method: "DELETE" })).toBe("404");
  });

  it("matches headers exactly, by regex, present and absent, with case-insensitive names", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        { name: "exact", match: { path: { prefix: "/e" }, headers: { "X-Tenant": "acme" } }, service: "b" },
        {
          name: "regex",
          match: { path: { prefix: "/r" }, headers: { "user-agent": { regex: "^curl/" } } },
          service: "b",
        },
        {
          name: "present",
          match: { path: { prefix: "/p" }, headers: { "x-debug": { present: true } } },
          service: "b",
        },
        {
          name: "absent",
          match: { path: { prefix: "/a" }, headers: { authorization: { absent: true } } },
          service: "b",
        },
      ],
    });
    expect(await routeTo(call, "http://h.test/e", { headers: { "x-tenant": "acme" } })).toBe("b");
    expect(await routeTo(call, "http://h.test/e", { headers: { "x-tenant": "ACME" } })).toBe("404");
    expect(await routeTo(call, "http://h.test/r", { headers: { "user-agent": "curl/8.5" } })).toBe("b");
    expect(await routeTo(call, "http://h.test/r", { headers: { "user-agent": "Mozilla/5.0" } })).toBe("404");
    expect(await routeTo(call, "http://h.test/p", { headers: { "x-debug": "" } })).toBe("b");
    expect(await routeTo(call, "http://h.test/p")).toBe("404");
    expect(await routeTo(call, "http://h.test/a")).toBe("b");
    expect(await routeTo(call, "http://h.test/a", { headers: { authorization: "Bearer x" } })).toBe("404");
  });

  it("matches query parameters with case-sensitive names and values", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        { name: "exact", match: { path: { prefix: "/e" }, query: { mode: "beta" } }, service: "b" },
        {
          name: "regex",
          match: { path: { prefix: "/r" }, query: { id: { regex: "^[0-9]+$" } } },
          service: "b",
        },
        {
          name: "present",
          match: { path: { prefix: "/p" }, query: { debug: { present: true } } },
          service: "b",
        },
      ],
    });
    expect(await routeTo(call, "http://h.test/e?mode=beta")).toBe("b");
    expect(await routeTo(call, "http://h.test/e?mode=Beta")).toBe("404");
    expect(await routeTo(call, "http://h.test/e?Mode=beta")).toBe("404");
    expect(await routeTo(call, "http://h.test/r?id=123")).toBe("b");
    expect(await routeTo(call, "http://h.test/r?id=12a")).toBe("404");
    expect(await routeTo(call, "http://h.test/p?debug")).toBe("b");
    expect(await routeTo(call, "http://h.test/p?nodebug=1")).toBe("404");
  });

  it("matches cookies exactly, by regex and present", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        { name: "exact", match: { path: { prefix: "/e" }, cookies: { plan: "pro" } }, service: "b" },
        {
          name: "regex",
          match: { path: { prefix: "/r" }, cookies: { uid: { regex: "^u-" } } },
          service: "b",
        },
        {
          name: "present",
          match: { path: { prefix: "/p" }, cookies: { session: { present: true } } },
          service: "b",
        },
      ],
    });
    expect(await routeTo(call, "http://h.test/e", { headers: { cookie: "a=1; plan=pro" } })).toBe("b");
    expect(await routeTo(call, "http://h.test/e", { headers: { cookie: "plan=free" } })).toBe("404");
    expect(await routeTo(call, "http://h.test/r", { headers: { cookie: "uid=u-7" } })).toBe("b");
    expect(await routeTo(call, "http://h.test/p", { headers: { cookie: "session=abc" } })).toBe("b");
    expect(await routeTo(call, "http://h.test/p", { headers: { cookie: "other=abc" } })).toBe("404");
  });

  it("ANDs the fields of one block and ORs several blocks", async () => {
    const { call } = makeCaller({
      services,
      routes: [
        {
          name: "either",
          match: [
            { host: "api.test", headers: { "x-v": "2" } },
            { path: { exact: "/v2" }, method: "GET" },
          ],
          service: "b",
        },
      ],
    });
    expect(await routeTo(call, "http://api.test/", { headers: { "x-v": "2" } })).toBe("b");
    expect(await routeTo(call, "http://api.test/")).toBe("404"); // block 1 needs both host and header
    expect(await routeTo(call, "http://any.test/v2")).toBe("b");
    expect(await routeTo(call, "http://any.test/v2", { method: "POST", body: "" })).toBe("404");
  });
});

// core/routing without a runtime: host and path helpers, the compiled table's lookups, rewrite helpers, and
// the shadowed-route warnings that checkConfig returns.
import { describe, expect, it } from "vitest";
import { checkConfig, parseConfig } from "../../core/config/index.ts";
import {
  compileRouteTable,
  type MatchRequest,
  normalizeHost,
  prefixKeys,
  replacePrefix,
  wildcardSuffixes,
} from "../../core/routing/index.ts";

const req = (host: string, path: string, extra: Partial<MatchRequest> = {}): MatchRequest => ({
  host,
  path,
  method: "GET",
  header: () => null,
  query: () => null,
  cookie: () => undefined,
  ...extra,
});

describe("helpers", () => {
  it("normalizes hosts: lower case, no port, no trailing dot, IPv6 kept bracketed", () => {
    expect(normalizeHost("API.Example.com:8443")).toBe("api.example.com");
    expect(normalizeHost("example.com.")).toBe("example.com");
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
  });
  it("lists wildcard suffixes longest first, never the host itself", () => {
    expect(wildcardSuffixes("a.b.example.com")).toEqual(["b.example.com", "example.com", "com"]);
  });
  it("lists prefix keys segment by segment", () => {
    expect(prefixKeys("/v2/x/")).toEqual(["/v2/x", "/v2", "/"]);
    expect(prefixKeys("/")).toEqual(["/"]);
  });
  it("replaces prefixes without doubling or dropping slashes", () => {
    expect(replacePrefix("/api/x", "/api", "/")).toBe("/x");
    expect(replacePrefix("/api", "/api", "/")).toBe("/");
    expect(replacePrefix("/api/", "/api", "/v2")).toBe("/v2/");
    expect(replacePrefix("/x", "/", "/base")).toBe("/base/x");
    expect(replacePrefix("/api/x", "/api", "/v2/")).toBe("/v2/x");
  });
});

describe("compiled table", () => {
  const config = parseConfig({
    services: [{ name: "s", backends: [{ url: "http://10.0.0.1" }] }],
    routes: [
      {
        name: "users",
        match: { host: "*.example.com", path: { template: "/users/:id/posts/:post" } },
        service: "s",
      },
      {
        name: "login",
        match: [{ path: { exact: "/login" }, method: ["POST"] }, { path: { exact: "/signin" } }],
        service: "s",
      },
    ],
  });
  const table = compileRouteTable(config.routes);

  it("returns template parameters and the matching block", () => {
    const m = table.match(req("a.example.com", "/users/7/posts/9"))!;
    expect(m.route.name).toBe("users");
    expect(m.params).toEqual({ id: "7", post: "9" });
    expect(table.match(req("x.test", "/signin"))!.block).toBe(1);
    expect(table.match(req("x.test", "/login"))).toBeUndefined();
    expect(table.match(req("x.test", "/login", { method: "POST" }))!.block).toBe(0);
  });
});

describe("warnings", () => {
  const base = { services: [{ name: "s", backends: [{ url: "http://10.0.0.1" }] }] };

  it("reports a duplicate and a route shadowed by a broader one of equal rank", () => {
    const { warnings, problems } = checkConfig({
      ...base,
      routes: [
        { name: "a", match: { host: "x.test", path: { prefix: "/api" } }, service: "s" },
        { name: "dup", match: { host: "x.test", path: { prefix: "/api/" } }, service: "s" },
        { name: "present", match: { headers: { "x-t": { present: true } } }, service: "s" },
        { name: "exact", match: { headers: { "X-T": "1" } }, service: "s" },
        { name: "fine", match: { headers: { "x-t": "1" }, method: "GET" }, service: "s" },
      ],
    });
    expect(problems).toEqual([]);
    expect(warnings.map((w) => w.path)).toEqual(["routes[1].match", "routes[3].match"]);
    expect(warnings[0]!.message).toContain('routes[0] (route "a")');
  });

  it("does not warn when a later route is more specific or only partly covered", () => {
    const { warnings } = checkConfig({
      ...base,
      routes: [
        { name: "root", service: "s" },
        { name: "api", match: { path: { prefix: "/api" } }, service: "s" },
        { name: "wild", match: { host: "*.test" }, service: "s" },
        { name: "multi", match: [{ host: "a.test" }, { host: "b.test" }], service: "s" },
        { name: "half", match: { host: ["a.test", "c.test"] }, service: "s" },
      ],
    });
    expect(warnings).toEqual([]);
  });
});

describe("route schema problems", () => {
  const base = { services: [{ name: "s", backends: [{ url: "http://10.0.0.1" }] }] };
  const problems = (routes: unknown[]) =>
    checkConfig({ ...base, routes }).problems.map((p) => `${p.path}: ${p.message}`);

  it("names each mistake in a route with its path", () => {
    expect(
      problems([
        { name: "none", match: { path: { prefix: "/a" } } },
        { name: "two", service: "s", respond: { status: 503 } },
        { name: "re", match: { path: { regex: "([" } }, service: "s" },
        { name: "rw", match: { path: { exact: "/x" } }, rewrite: { prefix: "/" }, service: "s" },
        { name: "tp", match: { path: { template: "/u/:id" } }, rewrite: { path: "/p/:name" }, service: "s" },
        {
          name: "sp",
          split: [
            { service: "s", weight: 1 },
            { service: "nope", weight: 1 },
          ],
        },
        { name: "rd", match: { path: { prefix: "/r" } }, redirect: { status: 304 } },
      ]),
    ).toEqual([
      'routes[0]: a route needs an action: "service", "split", "redirect" or "respond"',
      'routes[1]: a route takes one action, got "service" and "respond"',
      expect.stringMatching(/^routes\[2\]\.match\.path\.regex: "\(\[" is not a valid regular expression/),
      "routes[3].rewrite.prefix: replacing a prefix needs every match block of the route to have a path prefix",
      'routes[4].rewrite.path: ":name" is not a parameter of the path template of every match block',
      'routes[5].split[1].service: no service named "nope" (services: s)',
      expect.stringMatching(/^routes\[6\]\.redirect\.status: /),
    ]);
  });
});

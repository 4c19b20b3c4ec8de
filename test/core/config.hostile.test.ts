// Configs built to break the checker, or to pass it and then fail every request: each becomes a config problem
// with its path, never an exception, a stack overflow or a per-request TypeError.
import { describe, expect, it } from "vitest";
import { checkConfig, renderProblem } from "../../core/config/index.ts";
import { compileExpression, RuleError } from "../../core/rules/index.ts";

const web = { name: "web", backends: [{ url: "http://10.0.0.1:8080" }] };
const named = { name: "named", backends: [{ url: "http://api.internal:8080" }] };
const problems = (raw: unknown) => checkConfig(raw).problems.map(renderProblem);
const withRule = (expression: string) => ({
  services: [web],
  routes: [{ name: "all", service: "web" }],
  waf: { rules: [{ id: "r", expression, action: "block" }] },
});

describe("rules expressions built to exhaust the stack", () => {
  it("refuses 1,700 nested parentheses with a clear error at the rule's path", () => {
    const expression = `${"(".repeat(1700)}http.host eq "a"${")".repeat(1700)}`;
    const found = problems(withRule(expression));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^waf\.rules\[0\]\.expression: .*nests more than 100 levels deep/);
  });

  it("refuses 5,000 nots and 5,000 indexes the same way", () => {
    expect(problems(withRule(`${"not ".repeat(5000)}ssl`))[0]).toMatch(/nests more than 100 levels/);
    const indexes = `http.request.headers["a"]${"[0]".repeat(5000)} eq "x"`;
    expect(problems(withRule(indexes))[0]).toMatch(/nests more than 100 levels/);
  });

  it("accepts 2,000 or terms (60 KB) and evaluates them in order", () => {
    const terms = Array.from({ length: 2000 }, (_, i) => `http.host eq "h${i}.example"`);
    expect(terms.join(" or ").length).toBeGreaterThan(50_000);
    expect(problems(withRule(terms.join(" or ")))).toEqual([]);
    const e = compileExpression(terms.join(" or "));
    const req = (host: string) => ({
      method: "GET",
      url: `http://${host}/`,
      headers: new Headers(),
      clientIp: "192.0.2.1",
    });
    expect(e.matches(req("h1999.example"))).toBe(true);
    expect(e.matches(req("h0.example"))).toBe(true);
    expect(e.matches(req("nope.example"))).toBe(false);
    const and = compileExpression(Array.from({ length: 3000 }, () => 'http.host ne "x"').join(" and "));
    expect(and.matches(req("y"))).toBe(true);
    expect(and.matches(req("x"))).toBe(false);
  });

  it("keeps the column of an error deep inside a long chain", () => {
    const terms = Array.from({ length: 500 }, () => 'http.host eq "a"');
    terms[321] = "http.host eq 5";
    try {
      compileExpression(terms.join(" or "));
      throw new Error("not rejected");
    } catch (e) {
      expect(e).toBeInstanceOf(RuleError);
      expect((e as RuleError).offset).toBe(terms.slice(0, 321).join(" or ").length + 4 + 13);
    }
  });
});

describe("anything thrown while checking becomes a problem with its path", () => {
  it("a getter that throws in routes[1] is reported at routes[1]", () => {
    const evil = {
      name: "evil",
      get service(): string {
        throw new RangeError("Maximum call stack size exceeded");
      },
    };
    const check = checkConfig({ services: [web], routes: [{ name: "ok", service: "web" }, evil] });
    expect(check.config).toBeUndefined();
    expect(check.problems).toHaveLength(1);
    expect(check.problems[0]!.path).toBe("routes[1]");
    expect(check.problems[0]!.message).toContain("RangeError: Maximum call stack size exceeded");
  });
});

describe("headers that would make every request fail", () => {
  it("refuses header names that are not RFC 9110 tokens, wherever a name is configured", () => {
    const found = problems({
      services: [{ ...web, hash: { header: "x user" } }],
      routes: [
        {
          name: "all",
          service: "web",
          request_headers: { set: { "x bad": "1" }, remove: ["x:colon"] },
          response_headers: { add: { "x-fine": "ok", 'x"q': "1" } },
        },
      ],
      forwarding: { internal_headers: ["x internal"] },
    });
    expect(found).toEqual([
      expect.stringMatching(/^forwarding\.internal_headers\[0\]: "x internal" is not a header name/),
      expect.stringMatching(/^routes\[0\]\.request_headers\.remove\[0\]: "x:colon" is not a header name/),
      expect.stringMatching(/^routes\[0\]\.request_headers\.set.*"x bad" is not a header name/),
      expect.stringMatching(/^routes\[0\]\.response_headers\.add.*"x\\"q" is not a header name/),
      expect.stringMatching(/^services\[0\]\.hash\.header: "x user" is not a header name/),
    ]);
  });

  it("refuses header values with CR, LF or NUL", () => {
    for (const value of ["a\nb", "a\r\nx-injected: 1", "a\u0000b"]) {
      const found = problems({
        services: [web],
        routes: [{ name: "all", service: "web", request_headers: { set: { "x-v": value } } }],
      });
      expect(found).toEqual([expect.stringMatching(/x-v.*may not contain CR, LF or NUL/)]);
    }
  });
});

describe("admin.prefix and routes", () => {
  const route = (path: Record<string, string>) => ({ name: "v1", match: { path }, service: "web" });
  it("refuses a route the admin prefix would shadow", () => {
    const admin = { prefix: "/v1/" };
    for (const [path, field] of [
      [{ prefix: "/v1" }, "prefix"],
      [{ exact: "/v1/users" }, "exact"],
      [{ template: "/v1/users/:id" }, "template"],
      [{ regex: "^/v1/" }, "regex"],
    ] as const) {
      const found = problems({ services: [web], routes: [route(path)], admin });
      expect(found).toEqual([
        expect.stringMatching(
          new RegExp(`^routes\\[0\\]\\.match\\.path\\.${field}: overlaps admin\\.prefix "/v1/"`),
        ),
      ]);
    }
  });

  it("accepts catch-all routes and routes beside the prefix", () => {
    const admin = { prefix: "/v1/" };
    const routes = [
      { name: "all", service: "web" },
      route({ prefix: "/" }),
      { ...route({ prefix: "/v10" }), name: "v10" },
      { ...route({ template: "/:tenant/x" }), name: "t" },
      { ...route({ regex: "^/" }), name: "re" },
    ];
    expect(problems({ services: [web], routes, admin })).toEqual([]);
  });
});

describe("rewrite.host", () => {
  it("is refused on a service with IP-addressed backends, accepted with named ones", () => {
    const routes = [
      { name: "ip", match: { path: { prefix: "/a" } }, service: "web", rewrite: { host: "example.com" } },
      { name: "dns", match: { path: { prefix: "/b" } }, service: "named", rewrite: { host: "example.com" } },
    ];
    expect(problems({ services: [web, named], routes })).toEqual([
      expect.stringMatching(
        /^routes\[0\]\.rewrite\.host: service "web" has a backend addressed by IP \(10\.0\.0\.1\)/,
      ),
    ]);
    const v6 = { name: "v6", backends: [{ url: "http://[2001:db8::1]:8080" }] };
    const split = [{ name: "s", split: [{ service: "v6", weight: 1 }], rewrite: { host: "x.example" } }];
    expect(problems({ services: [v6], routes: split })[0]).toMatch(
      /^routes\[0\]\.rewrite\.host: .*2001:db8::1/,
    );
  });
});

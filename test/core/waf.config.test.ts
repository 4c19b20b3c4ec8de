// The waf section and the route-level `when`/`waf` fields: defaults, and every mistake reported by path,
// expression errors with the column and a caret line.
import { describe, expect, it } from "vitest";
import { checkConfig, parseConfig, renderProblem } from "../../core/config/index.ts";

const services = [{ name: "web", backends: [{ url: "http://10.0.0.1:8080" }] }];
const doc = (extra: Record<string, unknown>, routes: unknown[] = [{ name: "r", service: "web" }]) => ({
  services,
  routes,
  ...extra,
});
const problems = (raw: unknown) => checkConfig(raw).problems.map(renderProblem);

describe("waf section", () => {
  it("has defaults: managed ruleset on, paranoia 1, threshold 5, block mode, 128 KiB of body", () => {
    const c = parseConfig(doc({}));
    expect(c.waf.rules).toEqual([]);
    expect(c.waf.explain_header).toBe(false);
    expect(c.waf.managed).toEqual({
      enabled: true,
      paranoia: 1,
      threshold: 5,
      mode: "block",
      disabled_rules: [],
      oversize: "score",
      body_limit: 131072,
      max_args: 255,
    });
  });

  it("accepts rules, policies and route settings", () => {
    const c = parseConfig(
      doc(
        {
          waf: {
            rules: [{ id: "a", expression: 'http.host eq "x"', action: "block", status: 451, body: "no" }],
            managed: { paranoia: 2, mode: "log", body_limit: "8kb", disabled_rules: ["942100"] },
            policies: [
              {
                name: "api",
                rules: [{ id: "b", expression: "ssl", action: "log" }],
                managed: { threshold: 10 },
              },
            ],
          },
        },
        [
          {
            name: "r",
            service: "web",
            when: 'http.request.method in {"GET" "HEAD"}',
            waf: { policy: "api", paranoia: 3 },
          },
        ],
      ),
    );
    expect(c.waf.managed.body_limit).toBe(8192);
    expect(c.routes[0]!.when).toBe('http.request.method in {"GET" "HEAD"}');
    expect(c.routes[0]!.waf).toEqual({ policy: "api", paranoia: 3 });
  });

  it("reports an expression error with its path, column and a caret line", () => {
    const p = problems(
      doc({ waf: { rules: [{ id: "a", expression: 'ip.src contains "10."', action: "block" }] } }),
    );
    expect(p).toEqual([
      [
        'waf.rules[0].expression: type error at column 8: "contains" does not work on an IP address; use eq, ne or in {…} with an IP address',
        '  ip.src contains "10."',
        "         ^",
      ].join("\n"),
    ]);
  });

  it("reports a bad route `when` by path", () => {
    const p = problems(doc({}, [{ name: "r", service: "web", when: "http.request.method eq" }]));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^routes\[0\]\.when: syntax error at column 23: expected a value after "eq"/);
  });

  it("lists every mistake at once", () => {
    const p = problems(
      doc(
        {
          waf: {
            rules: [
              { id: "a", expression: "ssl", action: "log", status: 403 },
              { id: "a", expression: "ssl", action: "deny" },
            ],
            managed: { paranoia: 5, disabled_rules: ["SQLI"] },
            policies: [{ name: "none" }, { name: "p" }, { name: "p" }],
          },
        },
        [{ name: "r", service: "web", waf: { policy: "missing" } }],
      ),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'waf.rules[0]: status and body only apply to action "block", not "log"',
        expect.stringMatching(/^waf\.rules\[1\]\.action: /),
        'waf.rules[1].id: "a" is already the id of waf.rules[0]',
        "waf.managed.paranoia: paranoia is 1 to 4",
        'waf.managed.disabled_rules[0]: a managed rule id is six digits, e.g. "942100"',
        expect.stringMatching(/^waf\.policies\[0\]\.name: a WAF policy cannot be called "global" or "none"/),
        'waf.policies[2].name: another WAF policy is already called "p"',
        'routes[0].waf.policy: no WAF policy named "missing" (policies: none, p, p; or "global", "none")',
      ]),
    );
  });

  it("rejects unknown keys", () => {
    expect(problems(doc({ waf: { managed: { paranioa: 2 } } }))[0]).toMatch(/^waf\.managed/);
  });
});

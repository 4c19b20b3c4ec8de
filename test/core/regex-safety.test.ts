// Patterns from a config that could backtrack exponentially are refused when the config loads, wherever a
// regex is accepted: rules' matches, route regex paths, header and query regexes. Safe shapes still load.
import { describe, expect, it } from "vitest";
import { checkConfig, renderProblem } from "../../core/config/index.ts";
import { backtrackingRisk } from "../../core/rules/regex-safety.ts";

const web = { name: "web", backends: [{ url: "http://10.0.0.1:8080" }] };
const problems = (raw: unknown) => checkConfig(raw).problems.map(renderProblem);

describe("backtrackingRisk", () => {
  it.each([
    "^/(\\w+\\s?)+$",
    "(a+)+",
    "(a*)*b",
    "(x+x+)+y",
    "^(a?){25}a{25}$",
    "(a|aa)+",
    "(\\w|\\d)*$",
    "(?:a|b|)+",
    "((ab)*)+",
    "(a)\\1",
    "(?<n>a)\\k<n>",
  ])("refuses %s", (pattern) => {
    expect(backtrackingRisk(pattern)).toBeTypeOf("string");
  });

  it.each([
    "^/v[0-9]+/",
    "^/api/.*/x/.*$",
    "^(/[a-z0-9-]+)+$",
    "([a-z]+\\.)+com$",
    "\\((\\w+,)*\\)",
    "(GET|PUT)+",
    "(?:ab|cd)+",
    "(\\d{3})+",
    "[(a+)+]",
    "\\p",
    "a{2,3}b?",
  ])("accepts %s", (pattern) => {
    expect(backtrackingRisk(pattern)).toBeUndefined();
  });
});

describe("in a config", () => {
  it("refuses the 1.7-second rule of the report with a message at its path", () => {
    const found = problems({
      services: [web],
      routes: [{ name: "all", service: "web" }],
      waf: {
        rules: [{ id: "r", expression: 'http.request.uri.path matches "^/(\\w+\\s?)+$"', action: "block" }],
      },
    });
    expect(found).toEqual([
      expect.stringMatching(/^waf\.rules\[0\]\.expression: .*repeated group contains another repeat/s),
    ]);
  });

  it("refuses risky route regex paths and header and query regexes", () => {
    const found = problems({
      services: [web],
      routes: [
        { name: "p", match: { path: { regex: "^/(a+)+$" } }, service: "web" },
        { name: "h", match: { headers: { "x-a": { regex: "(a|ab)*c" } } }, service: "web" },
        { name: "q", match: { query: { q: { regex: "(\\w+\\s?)+$" } } }, service: "web" },
      ],
    });
    expect(found).toEqual([
      expect.stringMatching(
        /^routes\[0\]\.match\.path\.regex: "\^\/\(a\+\)\+\$" is refused: a repeated group/,
      ),
      expect.stringMatching(
        /^routes\[1\]\.match\.headers\["x-a"\]\.regex: .* is refused: a repeated group has alternatives/,
      ),
      expect.stringMatching(/^routes\[2\]\.match\.query\.q\.regex: .* is refused/),
    ]);
  });

  it("loads safe patterns", () => {
    const ok = checkConfig({
      services: [web],
      routes: [{ name: "p", match: { path: { regex: "^(/[a-z0-9-]+)+$" } }, service: "web" }],
      waf: {
        rules: [{ id: "r", expression: 'http.request.uri.path matches "^/v[0-9]+/"', action: "block" }],
      },
    });
    expect(ok.problems).toEqual([]);
  });
});

// Property tests (fast-check) for the parts that read hostile input: the config checker, the rules language
// (parser, type checker, compiler, evaluator), the path normaliser and the regex-safety check. Each must
// answer with its own error type or a result, never throw anything else, and never hang (a hang fails the test
// on its timeout). 2,000 cases per property in CI; SWITCHYARD_FUZZ_RUNS=100000 for a longer run.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkConfig } from "../../core/config/index.ts";
import { normalizePath, PathRejected } from "../../core/routing/normalize-path.ts";
import { compileExpression, RequestFields, RuleError } from "../../core/rules/index.ts";
import { backtrackingRisk } from "../../core/rules/regex-safety.ts";

const RUNS = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? 2000);
const TIMEOUT = 120_000;

// ---- rules expressions: token soup close enough to the grammar to get deep into the parser and checker ----
const TOKENS = [
  "http.host",
  "http.request.uri.path",
  "raw.http.request.uri.path",
  "http.request.method",
  'http.request.headers["x-a"]',
  'http.request.headers["x-a"][0]',
  "http.request.headers.names[*]",
  "http.request.uri.args",
  "ip.src",
  "ssl",
  "len(",
  "lower(",
  "any(",
  "url_decode(",
  "starts_with(",
  "concat(",
  "eq",
  "ne",
  "==",
  "<",
  ">=",
  "contains",
  "matches",
  "wildcard",
  "strict",
  "in",
  "and",
  "or",
  "xor",
  "not",
  "!",
  "&&",
  "||",
  "(",
  ")",
  "{",
  "}",
  "[",
  "]",
  "[*]",
  ",",
  '"a"',
  '"/admin*"',
  '"^/(\\\\w+\\\\s?)+$"',
  '"(a|b)+"',
  'r"x"',
  "10.0.0.0/8",
  "2001:db8::/32",
  "1..5",
  "42",
  "#",
  "$list",
];
const expression = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join(" ")),
  fc.string({ maxLength: 80 }),
  fc
    .tuple(fc.nat({ max: 300 }), fc.constantFrom("(", "not ", "lower("))
    .map(([n, open]) => `${open.repeat(n)}http.host eq "a"${(open === "not " ? "" : ")").repeat(n)}`),
);
const request = fc.record({
  path: fc.string({ maxLength: 20 }),
  header: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
  ip: fc.constantFrom("10.1.2.3", "2001:db8::1", "", "not-an-ip"),
});

describe("rules language", () => {
  it(
    "compiles or throws RuleError, and a compiled expression evaluates without throwing",
    () => {
      fc.assert(
        fc.property(expression, request, (src, r) => {
          let compiled: ReturnType<typeof compileExpression> | undefined;
          try {
            compiled = compileExpression(src);
          } catch (e) {
            expect(e).toBeInstanceOf(RuleError);
            return;
          }
          const headers = new Headers();
          if (r.header !== undefined) {
            try {
              headers.set("x-a", r.header);
            } catch {}
          }
          const fields = new RequestFields({
            clientIp: r.ip,
            method: "GET",
            url: `http://h.test/${encodeURI(r.path)}`,
            headers,
          });
          expect(typeof compiled.test(fields)).toBe("boolean");
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

// ---- the config checker: arbitrary JSON, and documents shaped like configs with hostile values in them ----
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("", "/", "/v1/", "web", "x bad", "a\nb", "^(a+)+$"),
);
const valueMatch = fc.oneof(
  text,
  fc.record({ regex: text }),
  fc.record({ present: fc.boolean() }),
  fc.anything(),
);
const configish = fc.record(
  {
    services: fc.array(
      fc.record(
        {
          name: fc.constantFrom("web", "api", "x y"),
          backends: fc.array(
            fc.record(
              { url: fc.oneof(fc.webUrl(), text), address: text, weight: fc.integer() },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
          passive: fc.oneof(
            fc.constant(false),
            fc.record({ failures: fc.integer() }, { requiredKeys: [] }),
            fc.anything(),
          ),
          retry: fc.record(
            { attempts: fc.integer(), budget_min_concurrent: fc.integer() },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ["name"] },
      ),
      { maxLength: 3 },
    ),
    routes: fc.array(
      fc.record(
        {
          name: fc.constantFrom("r1", "r2", "bad name"),
          service: fc.constantFrom("web", "api", "nope"),
          match: fc.record(
            {
              host: text,
              path: fc.oneof(
                fc.record({ prefix: text }),
                fc.record({ regex: text }),
                fc.record({ template: text }),
                fc.record({ exact: text }),
              ),
              headers: fc.dictionary(text, valueMatch, { maxKeys: 2 }),
              query: fc.dictionary(text, valueMatch, { maxKeys: 2 }),
            },
            { requiredKeys: [] },
          ),
          when: expression,
          rewrite: fc.record({ host: text, prefix: text }, { requiredKeys: [] }),
          request_headers: fc.record({ set: fc.dictionary(text, text, { maxKeys: 2 }) }),
        },
        { requiredKeys: ["name"] },
      ),
      { maxLength: 4 },
    ),
    forwarding: fc.record(
      { internal_headers: fc.array(text), path: text, strip_untrusted: fc.array(text) },
      { requiredKeys: [] },
    ),
    rate_limits: fc.array(
      fc.record({
        name: fc.constant("rl"),
        key: expression,
        limit: fc.integer(),
        period: text,
        ipv6_prefix: fc.integer(),
      }),
      { maxLength: 2 },
    ),
    waf: fc.record({
      rules: fc.array(fc.record({ expression, action: fc.constantFrom("block", "log", "nope") })),
    }),
    admin: fc.record({ prefix: text }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

describe("config checker", () => {
  it(
    "never throws: a config, or problems that each have a path and a message",
    () => {
      fc.assert(
        fc.property(fc.oneof(configish, fc.anything(), fc.string({ maxLength: 200 }), fc.json()), (doc) => {
          const check = checkConfig(doc);
          expect(check.config === undefined).toBe(check.problems.length > 0);
          for (const p of check.problems) {
            expect(typeof p.path).toBe("string");
            expect(p.message.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

// ---- the path normaliser ----
const pathChars = fc.constantFrom(
  "/",
  ".",
  "%",
  "2",
  "e",
  "E",
  "f",
  "F",
  "5",
  "c",
  "a",
  "~",
  "%2e",
  "%2F",
  "%5c",
  "%41",
  "%7e",
  "é",
  "?",
);
const path = fc.oneof(
  fc.array(pathChars, { maxLength: 40 }).map((xs) => xs.join("")),
  fc.string({ maxLength: 60 }),
);

describe("path normaliser", () => {
  it(
    "returns a path with no empty, . or .. segments and no lower-case escape, and is idempotent",
    () => {
      fc.assert(
        fc.property(
          path,
          fc.constantFrom("keep", "decode") as fc.Arbitrary<"keep" | "decode">,
          (p, slashes) => {
            const out = normalizePath(p, slashes);
            expect(out.startsWith("/")).toBe(true);
            expect(
              out
                .slice(1, out.endsWith("/") ? -1 : undefined)
                .split("/")
                .filter((s) => s === "" || s === "." || s === ".."),
            ).toEqual(out === "/" ? [""] : []);
            expect(/%(?:[a-f][0-9A-Fa-f]|[0-9A-Fa-f][a-f])/.test(out)).toBe(false);
            expect(normalizePath(out, slashes)).toBe(out);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it("with reject, throws only PathRejected, and only for an escaped slash", () => {
    fc.assert(
      fc.property(path, (p) => {
        try {
          normalizePath(p, "reject");
        } catch (e) {
          expect(e).toBeInstanceOf(PathRejected);
          expect(/%(2f|5c)/i.test(p)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- the regex-safety check ----
const regexChars = fc.constantFrom(
  "a",
  "b",
  "(",
  ")",
  "(?:",
  "(?<n>",
  "(?=",
  "|",
  "*",
  "+",
  "?",
  "{2}",
  "{1,}",
  "[",
  "]",
  "^",
  "-",
  "\\",
  "\\w",
  "\\1",
  "\\k<n>",
  "\\p",
  ".",
  "$",
  "{",
  "}",
);
describe("regex-safety check", () => {
  it("answers for every pattern RegExp accepts, without throwing", () => {
    fc.assert(
      fc.property(
        fc.array(regexChars, { maxLength: 30 }).map((xs) => xs.join("")),
        fc.constantFrom("", "i"),
        (src, flags) => {
          try {
            new RegExp(src, flags);
          } catch {
            return;
          }
          const r = backtrackingRisk(src, flags);
          expect(r === undefined || typeof r === "string").toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

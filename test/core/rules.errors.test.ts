// Error messages of the rules language: the rule's name, line and column, a caret line, and a fix.
import { describe, expect, it } from "vitest";
import { compileExpression, RuleError, tryCompileExpression } from "../../core/rules/index.ts";

function errorOf(expression: string, name = "waf.rules[0]", scope?: "http" | "l4"): RuleError {
  const r = tryCompileExpression(expression, { name, scope });
  if (r.ok) throw new Error(`expected ${JSON.stringify(expression)} to be rejected`);
  return r.error;
}

describe("syntax errors", () => {
  it("names the rule and the column, with a caret under the spot", () => {
    const e = errorOf('http.request.uri.path eq "/a" and', "block-admin");
    expect(e.kind).toBe("syntax");
    expect(e.column).toBe(34);
    expect(e.message).toBe(
      [
        'block-admin: syntax error at column 34: the expression ends too early; expected a field, a function or "("',
        '  http.request.uri.path eq "/a" and',
        "                                   ^",
      ].join("\n"),
    );
  });

  it("gives the line as well for multi-line expressions", () => {
    const e = errorOf('http.host eq "a"\nand http.host eq "b"\nand (ip.src in {10.0.0.0/8}');
    expect([e.line, e.column]).toEqual([3, 28]);
    expect(e.message).toContain("line 3, column 28");
    expect(e.message).toMatch(/\n {2}and \(ip\.src in \{10\.0\.0\.0\/8\}\n {29}\^$/);
  });

  it.each([
    ["", 1, "the expression is empty"],
    ['http.host = "a"', 11, '"=" is not an operator; compare with "eq" or "=="'],
    ['http.host eq "a" & ssl', 18, '"&" is not an operator; did you mean "&&"?'],
    ["http.host eq 'a'", 14, "strings are written in double quotes"],
    ['http.host eq "abc', 14, "this string is never closed"],
    ['http.host eq r#"abc"', 14, 'this raw string is never closed; end it with "#'],
    ['http.host eq "a" http.host eq "b"', 18, 'unexpected "http.host"; join conditions with "and" or "or"'],
    ['(http.host eq "a"', 18, 'expected ")" to close the "(" at column 1'],
    ['http.host eq "a")', 17, 'this parenthesis has no matching "("'],
    ["http.host eq", 13, 'expected a value after "eq", found the end of the expression'],
    ['http.host in {"a", "b"}', 18, "set values are separated by spaces, not commas"],
    ["http.host in {}", 14, "an empty set matches nothing"],
    ['http.host in {"a"', 14, 'this set is never closed; add "}"'],
    ["ip.src in $office", 11, "named lists ($office) are not supported"],
    ['http.host strict "a"', 18, '"strict" must be followed by "wildcard"'],
    ['http.request.uri.path ends_with ".html"', 23, "ends_with is a function, not an operator"],
    ['"/a" eq http.request.uri.path', 1, "a comparison starts with a field or function"],
    ['http.host eq "a\\qb"', 16, "unknown escape in a string"],
    ["ip.src.asnum in {10..5}", 18, "the range 10..5 is empty"],
    ["ssl eq true", 8, "there are no true/false literals"],
    ["http.host eq zz", 14, 'expected a value after "eq", found "zz"'],
  ])("%j at column %i: %s", (expression, column, message) => {
    const e = errorOf(expression);
    expect(e.column).toBe(column);
    expect(e.reason).toContain(message);
  });
});

describe("type errors", () => {
  it.each([
    [
      'ip.src contains "10."',
      8,
      '"contains" does not work on an IP address; use eq, ne or in {…} with an IP address',
    ],
    ['ip.src eq "10.0.0.1"', 11, "expected an IP address (no quotes)"],
    ["ip.src eq 10.0.0.0/8", 11, "CIDRs and ranges only work in sets: write `in {10.0.0.0/8}`"],
    ["ip.src in {10.0.0.0/33}", 12, "not a CIDR block"],
    ['ip.src in {"10.0.0.1"}', 12, "expected an IP address"],
    ["http.host eq 3", 14, "expected a string in double quotes to compare with a String"],
    ['ip.src.asnum eq "13335"', 17, "expected a whole number"],
    ["ip.src.asnum contains 1", 14, '"contains" does not work on an Integer'],
    ['ssl eq "true"', 5, "is a Boolean: use it on its own, or with not"],
    ['http.hots eq "a"', 1, 'unknown field "http.hots"'],
    ['http.request.path eq "/"', 1, 'did you mean "http.request.uri.path"?'],
    ['lower eq "a"', 1, "lower is a function: call it like lower(…)"],
    ['http.request.headers["accept"] eq "x"', 1, "is an Array<String> and operators do not take arrays"],
    [
      'http.request.headers["Accept"][0] eq "x"',
      22,
      'header names are lower case in http.request.headers; write ["accept"]',
    ],
    ['http.request.headers[0][0] eq "x"', 22, 'is a map: use a "name" between brackets'],
    ['http.request.uri.args.names["a"] eq "x"', 29, "is an array: use a number such as [0]"],
    ['http.host[0] eq "x"', 11, "is a String and cannot be indexed"],
    ['http.host[*] eq "x"', 1, "[*] unpacks an array, but `http.host` is a String"],
    ['http.request.headers.names[*] eq "x"', 1, "wrap it in any(…) or all(…)"],
    ["any(http.request.headers.names[*])", 1, "any() takes an array of booleans"],
    ["http.host", 1, "an expression must be true or false, but this is a String"],
    ['http.host eq "a" and http.host', 22, '"and" needs true or false, but `http.host` is a String'],
    ["not http.host", 5, '"not" needs true or false'],
    ['lower(http.host, "x") eq "a"', 1, "lower() takes 1 argument, not 2"],
    ['lower(ip.src) eq "a"', 7, "argument 1 of lower() must be a String, not an IP address"],
    [
      "starts_with(http.host, http.request.headers.names[*])",
      24,
      "[*] can only be used in the first argument",
    ],
    ['url_decode(http.host, "x") eq "a"', 23, 'options of url_decode() are a string literal of "r"'],
    ['regex_replace(http.host, "a", "b") eq "c"', 1, "regex_replace() is not supported"],
    ["frobnicate(http.host)", 1, "unknown function frobnicate(); available: any, all, concat"],
    [
      'concat(http.host, http.request.uri.args.names) eq "a"',
      1,
      "concat() joins Strings, or arrays of one type",
    ],
    ['http.host wildcard "a**b"', 20, '"**" is not allowed in a wildcard pattern'],
    ['http.host wildcard "a\\\\qb"', 20, 'in a wildcard pattern "\\" only escapes "*" or "\\"'],
    ['http.host matches "(a"', 19, "invalid regular expression"],
    ['http.host matches "a(?=b)"', 19, "look-around"],
    ['http.host matches r"(a)\\1"', 19, "back-references"],
    ['http.host matches "a(?i)b"', 19, "only supported at the start"],
  ])("%j at column %i: %s", (expression, column, message) => {
    const e = errorOf(expression);
    expect(e.kind).toBe("type");
    expect(e.column).toBe(column);
    expect(e.reason).toContain(message);
  });

  it("keeps HTTP fields out of the L4 sidecar", () => {
    const e = errorOf('ip.src in {10.0.0.0/8} or http.host eq "a"', "listeners[0].allow", "l4");
    expect(e.message).toMatch(
      /^listeners\[0\]\.allow: type error at column 27: the field "http\.host" is not available in the L4 sidecar, which sees only ip\.src/,
    );
    expect(
      compileExpression("ip.src in {10.0.0.0/8}", { scope: "l4" }).matches({ clientIp: "10.9.9.9" }),
    ).toBe(true);
  });

  it("throws RuleError with a stable code", () => {
    expect(() => compileExpression("http.host eq")).toThrow(RuleError);
    expect(errorOf("http.host eq").code).toBe("SY_RULE_INVALID");
  });
});

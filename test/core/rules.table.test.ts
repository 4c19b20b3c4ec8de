// Table-driven tests of the rules language: expression × request → expected match, checked against
// Cloudflare's documented semantics (operators, wildcards, arrays and [*], missing values, functions).
import { describe, expect, it } from "vitest";
import {
  compileExpression,
  RequestFields,
  type RuleRequest,
  ruleRequestFrom,
} from "../../core/rules/index.ts";

const REQUESTS: Record<string, RuleRequest> = {
  // A browser GET with query args (one repeated, one empty, one without "="), cookies and common headers.
  shop: {
    clientIp: "203.0.113.7",
    method: "GET",
    url: "https://shop.example.com/products/Shoes.html?q=red+shoes&page=2&tag=a&tag=b&empty=&flag",
    headers: new Headers({
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
      referer: "https://www.google.com/search?q=shoes",
      cookie: "session=abc123; theme=dark; %74heme=light; cart=%7B%7D",
      accept: "text/html",
      "x-multi": "a, b",
      "X-Api-Key": "Secret",
    }),
    country: "GB",
    asn: 64500,
  },
  // An IPv6 API client over plain http, no cookies, no query.
  api: {
    clientIp: "2001:db8::42",
    method: "POST",
    url: "http://api.example.com/v1/users/42",
    headers: new Headers({ "content-type": "application/json", "user-agent": "okhttp/4.12" }),
    country: "US",
    asn: 13335,
  },
  // Encoded and odd input; no cf data.
  odd: {
    clientIp: "10.0.0.5",
    method: "DELETE",
    url: "https://example.com/a%20b/..%2f/Admin*?x=%2527&y=%253Cscript%253E&u=%u0041",
    headers: new Headers({ "user-agent": "sqlmap/1.7#stable", referer: "" }),
  },
  // What the L4 sidecar can build: the client address only.
  l4: { clientIp: "192.0.2.10" },
};

type Row = [expression: string, request: keyof typeof REQUESTS, expected: boolean];

const ROWS: Row[] = [
  // --- string fields and eq / ne
  ['http.host eq "shop.example.com"', "shop", true],
  ['http.host == "shop.example.com"', "shop", true],
  ['http.host eq "SHOP.example.com"', "shop", false],
  ['http.host ne "shop.example.com"', "shop", false],
  ['http.host != "api.example.com"', "shop", true],
  ['http.request.method eq "GET"', "shop", true],
  ['http.request.method eq "get"', "shop", false],
  ['http.request.method in {"POST" "PUT"}', "api", true],
  ['http.request.method in {"POST" "PUT"}', "shop", false],
  ['http.request.uri.path eq "/products/Shoes.html"', "shop", true],
  ['http.request.uri eq "/v1/users/42"', "api", true],
  ['http.request.uri eq "/products/Shoes.html?q=red+shoes&page=2&tag=a&tag=b&empty=&flag"', "shop", true],
  ['http.request.uri.query eq "q=red+shoes&page=2&tag=a&tag=b&empty=&flag"', "shop", true],
  ['http.request.uri.query eq ""', "api", true],
  ['http.request.full_uri eq "http://api.example.com/v1/users/42"', "api", true],
  ['http.user_agent contains "Firefox"', "shop", true],
  ['http.user_agent contains "firefox"', "shop", false],
  ['http.referer contains "google."', "shop", true],
  ['http.referer eq ""', "api", true],
  ['http.cookie contains "session=abc123"', "shop", true],
  ['http.cookie eq ""', "api", true],
  ['http.x_forwarded_for eq ""', "shop", true],
  // --- ordering on strings and integers
  ['http.request.method lt "HEAD"', "shop", true],
  ['http.request.method < "GET"', "shop", false],
  ['http.request.method le "GET"', "shop", true],
  ['http.request.method gt "GET"', "api", true],
  ['http.request.method >= "POST"', "api", true],
  ["ip.src.asnum eq 64500", "shop", true],
  ["ip.src.asnum ne 64500", "api", true],
  ["ip.src.asnum lt 64500", "api", true],
  ["ip.src.asnum le 64500", "shop", true],
  ["ip.src.asnum gt 64499", "shop", true],
  ["ip.src.asnum ge 64501", "shop", false],
  ["ip.src.asnum > 13335", "api", false],
  ["ip.src.asnum in {13335 15169}", "api", true],
  ["ip.src.asnum in {64000..65000}", "shop", true],
  ["ip.src.asnum in {1 2 64501..64600}", "shop", false],
  ["ip.geoip.asnum eq 13335", "api", true],
  // --- missing values (no cf data): every comparison is false, so its negation is true
  ["ip.src.asnum eq 0", "odd", false],
  ["ip.src.asnum ne 0", "odd", false],
  ["not ip.src.asnum ge 0", "odd", true],
  ['ip.src.country eq "GB"', "shop", true],
  ['ip.src.country in {"US" "CA"}', "api", true],
  ['ip.src.country in {"US" "CA"}', "shop", false],
  ['ip.geoip.country eq "US"', "api", true],
  ['ip.src.country ne "GB"', "odd", false],
  // --- contains / matches
  ['http.request.uri.path contains "/products/"', "shop", true],
  ['http.request.uri.path contains "/PRODUCTS/"', "shop", false],
  ['http.request.uri.path matches "^/products/[A-Z][a-z]+\\.html$"', "shop", true],
  ['http.request.uri.path matches r"^/products/[A-Z][a-z]+\\.html$"', "shop", true],
  // A quoted regex keeps its backslashes: "\\." is a regex for a backslash then any character.
  ['http.request.uri.path matches "^/products/[A-Z][a-z]+\\\\.html$"', "shop", false],
  ['http.request.uri.path ~ "shoes"', "shop", false],
  ['http.request.uri.path ~ "(?i)shoes"', "shop", true],
  ['http.request.uri.path matches "^/v[0-9]+/users/\\d+$"', "api", true],
  ['http.request.uri.path matches r"\\d"', "shop", false],
  ['http.user_agent matches r"^(curl|sqlmap|nikto)/"', "odd", true],
  ['http.user_agent matches r"^(curl|sqlmap|nikto)/"', "shop", false],
  ['http.request.uri.path matches r"\\A/v1"', "api", true],
  ['http.request.uri.path matches r"42\\z"', "api", true],
  ['http.request.uri.path matches r"(?P<v>v\\d)/users"', "api", true],
  ['http.user_agent matches r#"sqlmap/1.7#stable"#', "odd", true],
  ['http.user_agent matches "1\\.7#stable"', "odd", true],
  // --- wildcard (case-insensitive, whole value) and strict wildcard (case-sensitive)
  ['http.request.uri.path wildcard "/products/*"', "shop", true],
  ['http.request.uri.path wildcard "/PRODUCTS/*"', "shop", true],
  ['http.request.uri.path strict wildcard "/PRODUCTS/*"', "shop", false],
  ['http.request.uri.path strict wildcard "/products/S*"', "shop", true],
  ['http.request.uri.path wildcard "/products"', "shop", false],
  ['http.request.uri.path wildcard "*.html"', "shop", true],
  ['http.request.uri.path wildcard "*.htm"', "shop", false],
  ['http.request.uri.path wildcard "/*/*.html"', "shop", true],
  ['http.request.uri.path wildcard "*"', "api", true],
  ['http.request.uri.path wildcard "/v1/*/42"', "api", true],
  ['http.request.uri.path wildcard "/v1/*/43"', "api", false],
  ['http.request.full_uri wildcard "https://*.example.com/*"', "shop", true],
  ['http.request.full_uri wildcard "https://*.example.com/*"', "api", false],
  ['http.request.full_uri wildcard "*.example.com/*/shoes.html"', "shop", false],
  ['http.request.uri.path wildcard "/a%20b/*"', "odd", true],
  ['http.request.uri.path wildcard r"*/admin\\*"', "odd", true],
  ['http.request.uri.path wildcard r"*/admin\\*x"', "odd", false],
  ['http.request.uri.path wildcard "*/admin\\\\*"', "odd", true],
  ['http.request.uri.path strict wildcard r"*/admin\\*"', "odd", false],
  ['http.host wildcard "shop.*.com"', "shop", true],
  ['http.host wildcard "*shop*example*"', "shop", true],
  ['http.host wildcard "*example*shop*"', "shop", false],
  // --- ip.src: eq, ne, sets with addresses, CIDRs and ranges, IPv4 and IPv6
  ["ip.src eq 203.0.113.7", "shop", true],
  ["ip.src == 203.0.113.8", "shop", false],
  ["ip.src ne 203.0.113.8", "shop", true],
  ["ip.src in {203.0.113.0/24}", "shop", true],
  ["ip.src in {203.0.112.0/24}", "shop", false],
  ["ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}", "odd", true],
  ["ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}", "shop", false],
  ["ip.src in {203.0.113.1..203.0.113.9}", "shop", true],
  ["ip.src in {203.0.113.8..203.0.113.9}", "shop", false],
  ["ip.src in {203.0.113.7}", "shop", true],
  ["ip.src in {2001:db8::/32}", "api", true],
  ["ip.src in {2001:db8::/32}", "shop", false],
  ["ip.src eq 2001:db8::42", "api", true],
  ["ip.src eq 2001:0db8:0:0:0:0:0:42", "api", true],
  ["ip.src in {2001:db8::40..2001:db8::50}", "api", true],
  ["ip.src in {::/0}", "api", true],
  ["ip.src in {0.0.0.0/0}", "api", false],
  ["ip.src in {0.0.0.0/0 ::/0}", "shop", true],
  ["not ip.src in {10.0.0.0/8}", "shop", true],
  ["ip.src in {192.0.2.0/24}", "l4", true],
  ["ip.src in {192.0.2.0/28} and not ip.src eq 192.0.2.1", "l4", true],
  ["ip.src in {::ffff:192.0.2.0/120}", "l4", true],
  // --- logic, precedence and grouping: not > and > xor > or
  ['http.host eq "shop.example.com" and http.request.method eq "GET"', "shop", true],
  ['http.host eq "shop.example.com" && http.request.method eq "POST"', "shop", false],
  ['http.host eq "x" or http.request.method eq "GET"', "shop", true],
  ['http.host eq "x" || http.request.method eq "PUT"', "shop", false],
  ['http.host eq "shop.example.com" xor http.request.method eq "GET"', "shop", false],
  ['http.host eq "shop.example.com" ^^ http.request.method eq "PUT"', "shop", true],
  ['not http.host eq "x"', "shop", true],
  ['! http.host eq "shop.example.com"', "shop", false],
  ['!(http.host eq "shop.example.com")', "shop", false],
  ['not not http.host eq "shop.example.com"', "shop", true],
  // "a or b and c" is "a or (b and c)"
  ['http.host eq "shop.example.com" or http.host eq "x" and http.host eq "y"', "shop", true],
  ['(http.host eq "shop.example.com" or http.host eq "x") and http.host eq "y"', "shop", false],
  // "a xor b or c" is "(a xor b) or c"; "a xor b and c" is "a xor (b and c)"
  ['http.host eq "shop.example.com" xor ssl or http.host eq "x"', "shop", false],
  ['http.host eq "shop.example.com" xor ssl and http.host eq "x"', "shop", true],
  ['not http.host eq "x" and not http.host eq "y"', "shop", true],
  ['not (http.host eq "shop.example.com" and ip.src in {203.0.113.0/24})', "shop", false],
  ["ssl", "shop", true],
  ["ssl", "api", false],
  ["not ssl", "api", true],
  [
    'ssl and (http.request.uri.path contains "Shoes" or http.request.uri.path contains "Boots")',
    "shop",
    true,
  ],
  ['(((http.request.method eq "GET")))', "shop", true],
  ['http.request.method eq "GET"\n  and http.host eq "shop.example.com" # trailing comment\n', "shop", true],
  // --- headers: lower-case names, arrays, [0], [*], missing
  ['http.request.headers["accept"][0] eq "text/html"', "shop", true],
  ['http.request.headers["x-api-key"][0] eq "Secret"', "shop", true],
  ['http.request.headers["x-multi"][0] eq "a, b"', "shop", true],
  ['http.request.headers["x-multi"][1] eq "b"', "shop", false],
  ['any(http.request.headers["accept"][*] == "text/html")', "shop", true],
  ['any(http.request.headers["accept"][*] == "text/plain")', "shop", false],
  ['all(http.request.headers["content-type"][*] == "application/json")', "api", true],
  ['all(http.request.headers["content-type"][*] == "application/json")', "shop", false],
  ['any(http.request.headers["content-type"][*] contains "json")', "shop", false],
  ['not any(http.request.headers["content-type"][*] contains "json")', "shop", true],
  ['http.request.headers["missing"][0] eq ""', "shop", false],
  ['http.request.headers["missing"][0] ne ""', "shop", false],
  ['any(http.request.headers.names[*] == "x-api-key")', "shop", true],
  ['any(http.request.headers.names[*] == "X-Api-Key")', "shop", false],
  ['any(upper(http.request.headers.names[*])[*] == "ACCEPT")', "shop", true],
  ['any(http.request.headers.values[*] contains "okhttp")', "api", true],
  ["len(http.request.headers.names) eq 6", "shop", true],
  ['len(http.request.headers["accept"]) eq 1', "shop", true],
  ['len(http.request.headers["accept"]) >= 0', "api", false],
  ['not len(http.request.headers["accept"]) >= 0', "api", true],
  // --- query args: not decoded, repeated names, empty values
  ['http.request.uri.args["q"][0] eq "red+shoes"', "shop", true],
  ['http.request.uri.args["q"][0] eq "red shoes"', "shop", false],
  ['url_decode(http.request.uri.args["q"][0]) eq "red shoes"', "shop", true],
  ['http.request.uri.args["tag"][1] eq "b"', "shop", true],
  ['len(http.request.uri.args["tag"]) eq 2', "shop", true],
  ['any(http.request.uri.args["tag"][*] in {"b" "c"})', "shop", true],
  ['all(http.request.uri.args["tag"][*] in {"b" "c"})', "shop", false],
  ['all(len(http.request.uri.args["tag"][*])[*] in {1 2})', "shop", true],
  ['all(not len(http.request.uri.args["tag"][*])[*] in {3 4})', "shop", true],
  ['http.request.uri.args["empty"][0] eq ""', "shop", true],
  ['http.request.uri.args["flag"][0] eq ""', "shop", true],
  ['len(http.request.uri.args["nope"]) >= 0', "shop", false],
  ['any(http.request.uri.args.names[*] eq "page")', "shop", true],
  ["len(http.request.uri.args.names) eq 6", "shop", true],
  ['any(http.request.uri.args.values[*] eq "2")', "shop", true],
  ['http.request.uri.args["x"][0] eq "%2527"', "odd", true],
  ['url_decode(http.request.uri.args["x"][0]) eq "%27"', "odd", true],
  ['url_decode(http.request.uri.args["x"][0], "r") eq "\'"', "odd", true],
  ['url_decode(http.request.uri.args["y"][0], "r") contains "<script>"', "odd", true],
  ['url_decode(http.request.uri.args["y"][0]) contains "<script>"', "odd", false],
  ['url_decode(http.request.uri.args["u"][0], "u") eq "A"', "odd", true],
  ['url_decode(http.request.uri.args["u"][0]) eq "A"', "odd", false],
  ['any(url_decode(http.request.uri.args.values[*], "r")[*] contains "<script>")', "odd", true],
  // --- cookies: names decoded and merged, values as sent
  ['http.request.cookies["session"][0] eq "abc123"', "shop", true],
  ['http.request.cookies["theme"][0] eq "dark"', "shop", true],
  ['http.request.cookies["theme"][1] eq "light"', "shop", true],
  ['len(http.request.cookies["theme"]) eq 2', "shop", true],
  ['http.request.cookies["cart"][0] eq "%7B%7D"', "shop", true],
  ['any(http.request.cookies["session"][*] eq "abc123")', "api", false],
  // --- functions
  ['lower(http.request.uri.path) eq "/products/shoes.html"', "shop", true],
  ['upper(http.request.method) eq "GET"', "shop", true],
  ['lower(http.host) == "example.com"', "odd", true],
  ['lower(http.request.uri.path) contains "/admin"', "odd", true],
  ["len(http.host) eq 16", "shop", true],
  ["len(http.request.uri.path) gt 100", "shop", false],
  ['starts_with(http.request.uri.path, "/products")', "shop", true],
  ['starts_with(http.request.uri.path, "/Products")', "shop", false],
  ['ends_with(http.request.uri.path, ".html")', "shop", true],
  ['ends_with(http.request.uri.path, ".php")', "shop", false],
  ['not ends_with(http.request.uri.path, ".php") and starts_with(http.host, "shop.")', "shop", true],
  ['url_decode(http.request.uri.path) contains "a b"', "odd", true],
  ['url_decode(http.request.uri.path) contains "../"', "odd", true],
  ['url_decode("John%20Doe") eq "John Doe"', "l4", true],
  ['url_decode("John+Doe") eq "John Doe"', "l4", true],
  ['url_decode("%2520") eq "%20"', "l4", true],
  ['url_decode("%2520", "r") eq " "', "l4", true],
  ['concat(http.request.method, " ", http.request.uri.path) eq "POST /v1/users/42"', "api", true],
  ['concat("a", "b", "c") eq "abc"', "l4", true],
  ['len(concat(http.request.uri.args["tag"], http.request.uri.args["q"])) eq 3', "shop", true],
  ['concat(http.request.headers["missing"][0], "x") eq "x"', "shop", false],
  ['any(ends_with(http.request.uri.args["tag"][*], "b")[*])', "shop", true],
  ['all(starts_with(http.request.uri.args["tag"][*], "a")[*])', "shop", false],
  ['lower(http.user_agent) matches "^mozilla/"', "shop", true],
  ["len(http.user_agent) le 0", "l4", true],
  // --- string escapes
  ['http.user_agent contains "#"', "odd", true],
  ['http.user_agent contains "\\x23"', "odd", true],
  ['http.request.uri.path contains "\\\\"', "odd", false],
];

describe("rules language table", () => {
  it("has at least 150 rows", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(150);
  });

  it.each(ROWS)("%s  [%s] → %s", (expression, request, expected) => {
    const rule = compileExpression(expression, { name: "table" });
    expect(rule.test(new RequestFields(REQUESTS[request]!))).toBe(expected);
  });
});

describe("the rules view of a Fetch request (ruleRequestFrom)", () => {
  /** A Request-shaped object whose cf reads are counted: workerd builds request.cf anew on every read. */
  function fetchLike(cf: object | undefined) {
    const reads = { cf: 0 };
    const req = {
      method: "GET",
      url: "https://shop.example.com/a?b=1",
      headers: new Headers({ "user-agent": "curl/8" }),
      get cf() {
        reads.cf++;
        return cf;
      },
    };
    return { req, reads };
  }
  const test = (expression: string, req: RuleRequest) =>
    compileExpression(expression, { name: "view" }).test(new RequestFields(req));

  it("reads cf once, and only when a rule asks for country or asn", () => {
    const { req, reads } = fetchLike({ country: "GB", asn: 64500 });
    const view = ruleRequestFrom(req, "203.0.113.7");
    expect(test('http.user_agent eq "curl/8"', view)).toBe(true);
    expect(reads.cf).toBe(0);
    expect(test('ip.src.country eq "GB"', view)).toBe(true);
    expect(test("ip.src.asnum eq 64500", view)).toBe(true);
    expect(reads.cf).toBe(1);
  });

  it("takes the headers and method it is given over the request's, and yields no country without cf", () => {
    const { req } = fetchLike(undefined);
    const view = ruleRequestFrom(req, "203.0.113.7", "/a", new Headers({ "user-agent": "other" }), "POST");
    expect(test('http.user_agent eq "other"', view)).toBe(true);
    expect(test('http.request.method eq "POST"', view)).toBe(true);
    expect(test('ip.src.country eq "GB"', view)).toBe(false);
    expect(view.country).toBeUndefined();
    expect(view.asn).toBeUndefined();
  });

  it("ignores a cf of another shape (a subrequest's init properties)", () => {
    const { req } = fetchLike({ country: 44, asn: "64500", cacheTtl: 5 });
    const view = ruleRequestFrom(req, "203.0.113.7");
    expect(view.country).toBeUndefined();
    expect(view.asn).toBeUndefined();
  });
});

// The managed ruleset's parts inside workerd: normalisation against evasions, what each paranoia level adds,
// disabled rules, excessive arguments, body parsing, and the score arithmetic.
import { describe, expect, it } from "vitest";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets, type InspectInput } from "../../core/waf/inspect.ts";
import { MANAGED_RULES } from "../../core/waf/managed-rules.ts";
import { cmdForm, normal, sqlForm } from "../../core/waf/normalize.ts";
import { managedSettings } from "../waf-corpus/settings.ts";

const settings = managedSettings;
const input = (query: string, o: Partial<InspectInput> = {}): InspectInput => ({
  method: "GET",
  path: "/",
  query,
  headers: new Headers(),
  ...o,
});
const ids = (e: ManagedEngine, i: InspectInput) => e.inspect(collectTargets(i)).matches.map((m) => m.id);

describe("normalisation", () => {
  it.each([
    ["%253Cscript%253E", "<script>"],
    ["%u003cscript%u003e", "<script>"],
    ["&lt;img src=x&gt;", "<img src=x>"],
    ["&#x3c;&#60;&#X3C", "<<<"],
    ["\\x3cscript\\u003e", "<script>"],
    ["sel\u0000ect", "select"],
    ["＜ＳＣＲＩＰＴ＞", "<script>"],
    ["UNION   \t SELECT", "union select"],
    ["a+b%2Bc", "a b c"],
    ["line1\r\nline2", "line1\nline2"],
  ])("%j → %j", (raw, want) => expect(normal(raw)).toBe(want));

  it("removes SQL comments, keeping MySQL's executable ones", () => {
    expect(sqlForm(normal("1 UNION/**/SELECT/*x*/1"))).toBe("1 union select 1");
    expect(sqlForm(normal("1/*!50000UNION*/SELECT"))).toBe("1 union select");
  });

  it("removes quote and caret tricks from shell words", () => {
    expect(cmdForm(normal("c'a't /et\"c\"/pa\\sswd"))).toBe("cat /etc/passwd");
    expect(cmdForm(normal("n^e^t user"))).toBe("net user");
  });

  it("defeats evasions end to end", () => {
    const e = new ManagedEngine(settings());
    expect(ids(e, input("q=%2527%2520UnIoN%2520SeLeCt%2520null--"))).toContain("942120");
    expect(ids(e, input("q=%EF%BC%9Cscript%EF%BC%9E"))).toContain("941100");
    expect(ids(e, input("h=x;w%5Cho%5Cam%5Ci"))).toContain("932100");
  });
});

describe("paranoia levels", () => {
  it("each level runs its own rules and all lower ones", () => {
    const counts = [1, 2, 3, 4].map((p) => new ManagedEngine(settings({ paranoia: p })).ruleCount);
    for (let p = 1; p <= 4; p++) {
      expect(counts[p - 1]).toBe(MANAGED_RULES.filter((r) => r.paranoia <= p).length);
    }
    expect(counts[0]).toBeLessThan(counts[1]!);
    expect(counts[2]).toBeLessThan(counts[3]!);
  });

  it("a stricter level catches what a lower one lets through", () => {
    const browser = new Headers({ "user-agent": "Mozilla/5.0 (X11; Linux x86_64)", accept: "text/html" });
    const i = input(`bio=${encodeURIComponent('<a href="/x">me</a>')}`, { headers: browser });
    expect(ids(new ManagedEngine(settings({ paranoia: 1 })), i)).toEqual([]);
    expect(ids(new ManagedEngine(settings({ paranoia: 2 })), i)).toEqual(["941200"]);
    expect(ids(new ManagedEngine(settings({ paranoia: 3 })), i)).toEqual(["941200", "941300"]);
  });
});

describe("scoring and settings", () => {
  it("adds severity scores, each rule once, and names where it matched", () => {
    const e = new ManagedEngine(settings());
    const r = e.inspect(collectTargets(input("a=1%27%20or%20%271%27%3D%271&b=%3Cscript%3E&c=%3Cscript%3E")));
    expect(r.matches.map((m) => [m.id, m.location])).toEqual([
      ["942100", "args:a"],
      ["941100", "args:b"],
    ]);
    expect(r.score).toBe(10);
  });

  it("disabled rules do not run", () => {
    const e = new ManagedEngine(settings({ disabled_rules: ["941100"] }));
    expect(ids(e, input("b=%3Cscript%3E"))).toEqual([]);
  });

  it("more arguments than max_args is a protocol anomaly", () => {
    const q = Array.from({ length: 11 }, (_, i) => `a${i}=1`).join("&");
    expect(ids(new ManagedEngine(settings({ max_args: 10 })), input(q))).toEqual(["920380"]);
    expect(ids(new ManagedEngine(settings({ max_args: 11 })), input(q))).toEqual([]);
  });

  it("a disabled ruleset scores nothing", () => {
    expect(
      new ManagedEngine(settings({ enabled: false })).inspect(collectTargets(input("q=%3Cscript%3E"))).score,
    ).toBe(0);
  });
});

describe("inspection", () => {
  it("splits form, JSON and multipart bodies into names and values", () => {
    const targets = (text: string, contentType: string) =>
      collectTargets(input("", { body: { text, contentType, truncated: false } })).targets.map(
        (t) => `${t.part}:${t.location}:${t.raw}`,
      );
    expect(targets("a=1&b=x%20y", "application/x-www-form-urlencoded")).toEqual([
      "path:path:/",
      "names:body_names:a",
      "values:body:a:1",
      "names:body_names:b",
      "values:body:b:x%20y",
    ]);
    expect(targets('{"u":{"n":"v","l":["w"]}}', "application/json")).toEqual([
      "path:path:/",
      "names:json_names:u",
      "names:json_names:u.n",
      "values:body:u.n:v",
      "names:json_names:u.l",
      "values:body:u.l[0]:w",
    ]);
    const mp =
      '--B\r\nContent-Disposition: form-data; name="t"\r\n\r\nhello\r\n--B\r\nContent-Disposition: form-data; name="f"; filename="x.php"\r\n\r\nBINARY\r\n--B--\r\n';
    expect(targets(mp, "multipart/form-data; boundary=B")).toEqual([
      "path:path:/",
      "names:body_names:t",
      "values:body:t:hello",
      "names:body_names:f",
      "values:body:f.filename:x.php",
      // A file that is text (a script, a web shell) is inspected; binary files are not.
      "values:body:f.content:BINARY",
    ]);
  });

  it("inspects a body of unknown type as text, but not binary data", () => {
    const t = (text: string) =>
      collectTargets(input("", { body: { text, contentType: "", truncated: false } })).targets.length;
    // Markup: its text and, since it may be HTML rather than XML, the whole body.
    expect(t("<script>alert(1)</script>")).toBe(3);
    expect(t("just some words")).toBe(2);
    expect(t("\u0000\u0001binary\u0000")).toBe(1);
  });

  it("reads User-Agent, Referer, cookies and other headers as their own parts", () => {
    const headers = new Headers({ "user-agent": "ua", referer: "ref", cookie: "a=1; b=2", "x-y": "z" });
    const parts = collectTargets(input("", { headers })).targets.map((t) => `${t.part}:${t.location}`);
    expect(parts).toEqual([
      "path:path",
      "cookies:cookie:a",
      "cookies:cookie:b",
      "referer:header:referer",
      "ua:header:user-agent",
      "headers:header:x-y",
    ]);
  });
});

describe("clean-value memo", () => {
  it("remembers only values every rule ran on, so a repeated value is still caught where it attacks", () => {
    const e = new ManagedEngine(settings());
    const xss = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    const ua = new Headers({ "user-agent": "Mozilla/5.0 bench" });
    expect(ids(e, input("page=2", { headers: ua }))).toEqual([]);
    expect(ids(e, input("page=2", { headers: ua }))).toEqual([]);
    // Both values match 941100; the rule scores at the first, so the second was never fully checked and must
    // not be remembered as clean.
    expect(ids(e, input(`a=${xss}&b=${xss}x`))).toContain("941100");
    expect(ids(e, input(`b=${xss}x`))).toContain("941100");
    expect(ids(e, input(`page=2&q=${xss}`, { headers: ua }))).toContain("941100");
  });
});

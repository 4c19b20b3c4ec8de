// The engine's pre-filters (a rule's characters, its words, the per-form gates, the clean-value memo) only skip
// work: on every value, the rules the engine reports are exactly the rules whose pattern or detector matches
// the value's transformed text when run without any pre-filter. Checked on every distinct value of the corpus
// and on generated values built from the fragments attacks are made of.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets, type Target } from "../../core/waf/inspect.ts";
import { MANAGED_RULES, type Part } from "../../core/waf/managed-rules.ts";
import { PipelineTree } from "../../core/waf/pipelines.ts";
import { ATTACKS, HELD_OUT, ORDINARY, toInput } from "../waf-corpus/run.ts";
import { managedSettings } from "../waf-corpus/settings.ts";

const RUNS = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? 2000);
// Generous: a few seconds on a quiet machine, and this is about correctness, not speed.
const TIMEOUT = 120_000;
const tree = new PipelineTree();
const RULES = MANAGED_RULES.map((r) => ({ rule: r, form: tree.intern(r.t) }));

/** The rules that match a value in its part, each run on its own transformed text, nothing skipped. */
function unfiltered(part: Part, raw: string): string[] {
  const memo: Array<string | undefined> = [raw];
  const ids: string[] = [];
  for (const { rule, form } of RULES) {
    if (!rule.on.includes(part)) continue;
    const text = tree.text(form, memo);
    if (rule.detect ? rule.detect(text) : rule.re!.test(text)) ids.push(rule.id);
  }
  return ids.sort();
}

/** The rules the engine reports for the value alone (paranoia 4: every rule is active). */
const reported = (engine: ManagedEngine, target: Target) =>
  engine
    .inspect({ targets: [target], argCount: 0, anomalies: [] })
    .matches.map((m) => m.id)
    .sort();

const PARTS: Part[] = ["path", "names", "values", "cookies", "ua", "referer", "headers"];
const FRAGMENTS = [
  "'",
  '"',
  "`",
  "(",
  ")",
  ";",
  "|",
  "&",
  "&&",
  "$(",
  "${",
  "{",
  "}",
  ",",
  "<",
  ">",
  "=",
  "/",
  "\\",
  ".",
  "..",
  ":",
  "://",
  "#",
  "--",
  "/*",
  "*/",
  "%",
  "%27",
  "%3c",
  "%0a",
  "%2e",
  "%252e",
  "%2B",
  "%5c",
  "%26lt;",
  "%0d",
  "%c0%ae",
  "%e0%80%ae",
  "%2",
  "%zz",
  "%3B",
  "%7C",
  "%60",
  "%24",
  "%28",
  "%u0027",
  "&lt;",
  "&#x3c;",
  "\\x3c",
  "\n",
  "\r",
  " ",
  "  ",
  "\t",
  "+",
  "@",
  "$",
  "?",
  "*",
  "[",
  "]",
  "_",
  "0",
  "1",
  "x",
  "a",
  "é",
  "＜",
  "or",
  "and",
  "union",
  "select",
  "from",
  "sleep",
  "script",
  "img",
  "onerror",
  "alert",
  "javascript",
  "cat",
  "id",
  "ls",
  "etc",
  "passwd",
  "bin",
  "sh",
  "cmd",
  "powershell",
  "php",
  "system",
  "eval",
  "jndi",
  "java",
  "proto",
  "__proto__",
  "constructor",
  "http",
  "127.0.0.1",
  "sessionid",
  "rO0AB",
  "file",
  "expression",
];

describe("managed engine pre-filters", () => {
  it(
    "report exactly the rules that match, on every distinct value of the corpus",
    () => {
      const engine = new ManagedEngine(managedSettings({ paranoia: 4 }));
      const seen = new Set<string>();
      const wrong: Array<{ part: Part; raw: string; engine: string[]; unfiltered: string[] }> = [];
      const entries = [...ATTACKS, ...ORDINARY, ...HELD_OUT.attacks, ...HELD_OUT.ordinary];
      for (const e of entries) {
        for (const t of collectTargets(toInput(e)).targets) {
          const key = `${t.part}\u0000${t.raw}`;
          if (t.raw === "" || seen.has(key)) continue;
          seen.add(key);
          const want = unfiltered(t.part, t.raw);
          const got = reported(engine, t);
          if (got.join() !== want.join())
            wrong.push({ part: t.part, raw: t.raw, engine: got, unfiltered: want });
        }
      }
      expect(seen.size).toBeGreaterThan(5000);
      expect(wrong.slice(0, 5)).toEqual([]);
    },
    TIMEOUT,
  );

  it("report exactly the rules that match, on values where a pre-filter once disagreed or might", () => {
    const engine = new ManagedEngine(managedSettings({ paranoia: 4 }));
    const cases: Array<[Part, string]> = [
      // 944110's words lacked the "${" opener its detector looks inside of (an assignment "#x=" in ${…}).
      ["path", "${#sleep='"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${…} payload.
      ["values", "${#a=1}"],
      // Words whose character pairs only exist once escapes, pluses and capitals are decoded.
      ["values", "1'+un%69on+SEL%45CT+1,2--"],
      ["values", "x'+%4Frder+by+1--"],
      ["values", "a%27+GROUP%20BY+1%23"],
      ["values", "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D"],
      ["names", "__PROTO__"],
      ["values", "javA.lang.Runtime"],
      // Words of the rules that read the raw value: escapes as written, case kept.
      ["values", "..%2F..%2Fetc%2Fpasswd"],
      ["path", "/a/%2E%2E/b"],
      ["values", "x%0Ay"],
      ["cookies", "rO0ABXNyABFqYXZh"],
      ["values", "%u002e%u002e"],
    ];
    for (const [part, raw] of cases) {
      expect([part, raw, reported(engine, { part, location: part, raw })]).toEqual([
        part,
        raw,
        unfiltered(part, raw),
      ]);
    }
  });

  it(
    "report exactly the rules that match, on values built from attack fragments",
    () => {
      const engine = new ManagedEngine(managedSettings({ paranoia: 4 }));
      const value = fc
        .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 14 })
        .map((a) => a.join(""));
      fc.assert(
        fc.property(fc.constantFrom(...PARTS), value, (part, raw) => {
          const target = { part, location: part, raw };
          expect(reported(engine, target)).toEqual(unfiltered(part, raw));
          // Again: a value remembered as clean must still be clean.
          expect(reported(engine, target)).toEqual(unfiltered(part, raw));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

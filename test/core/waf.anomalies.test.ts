// Structural findings are scored like pattern rules: once per id, only up to the paranoia level, never when
// disabled; a body over body_limit follows waf.managed.oversize, and the decision says which.
import { describe, expect, it } from "vitest";
import { ANOMALY_RULES, type Anomaly, OVERSIZE, snippet } from "../../core/waf/anomalies.ts";
import { type ManagedSettings, WafPolicyEngine } from "../../core/waf/engine.ts";
import { explain } from "../../core/waf/explain.ts";
import type { Inspection } from "../../core/waf/inspect.ts";
import { managedSettings } from "../waf-corpus/settings.ts";

const settings = managedSettings;
const inspection = (...anomalies: Anomaly[]): Inspection => ({ targets: [], argCount: 0, anomalies });
const decide = (s: ManagedSettings, ...a: Anomaly[]) =>
  new WafPolicyEngine([], s).evaluateManaged(inspection(...a), []);
const oversize: Anomaly = { id: OVERSIZE, location: "body>131072", snippet: "131072" };

describe("anomaly scoring", () => {
  it("every id has a paranoia level and a severity, in the 920/921 families", () => {
    for (const [id, r] of Object.entries(ANOMALY_RULES)) {
      expect(id).toMatch(/^92[01]\d{3}$/);
      expect([1, 2, 3, 4]).toContain(r.paranoia);
      expect(["critical", "error", "warning", "notice"]).toContain(r.severity);
    }
  });

  it("scores an id once, at its first location, with the snippet in the explanation", () => {
    const a = { id: "921800", location: "header:transfer-encoding", snippet: "chunked, identity" };
    const d = decide(settings(), a, { ...a, location: "elsewhere" });
    expect(d.score).toBe(5);
    expect(d.action).toBe("block");
    expect(d.matches.map((m) => m.location)).toEqual(["header:transfer-encoding"]);
    expect(explain(d)).toContain('921800@header:transfer-encoding"chunked, identity"');
  });

  it("respects paranoia and disabled_rules", () => {
    const pl2 = { id: "920808", location: "header:user-agent", snippet: "(none)" };
    expect(decide(settings(), pl2).score).toBe(0);
    expect(decide(settings({ paranoia: 2 }), pl2).score).toBe(2);
    const a = { id: "921800", location: "header:transfer-encoding", snippet: "x" };
    expect(decide(settings({ disabled_rules: ["921800"] }), a).matches).toEqual([]);
  });

  it("oversize: score by default, block whatever the threshold, or inspect the prefix and say so", () => {
    const scored = decide(settings(), oversize);
    expect(scored).toMatchObject({ action: "block", score: 5 });
    expect(explain(scored)).toContain("(oversize=score)");
    const blocked = decide(settings({ oversize: "block", threshold: 100 }), oversize);
    expect(blocked).toMatchObject({ action: "block", score: 0 });
    expect(explain(blocked)).toContain("(oversize=block)");
    const prefix = decide(settings({ oversize: "inspect-prefix" }), oversize);
    expect(prefix).toMatchObject({ action: "pass", score: 0, matches: [] });
    expect(explain(prefix)).toContain("note=only the first 131072 bytes of the body were inspected");
    const logged = decide(settings({ oversize: "block", mode: "log" }), oversize);
    expect(logged).toMatchObject({ action: "log", wouldBlock: true });
  });

  it("snippets are short and printable", () => {
    expect(snippet("a\r\nb\u0000c")).toBe("a\\x0d\\x0ab\\x00c");
    const long = `${"x".repeat(100)}<script>`;
    const s = snippet(long, 95);
    expect(s.startsWith("...")).toBe(true);
    expect(s).toContain("<script>");
  });
});

// The WAF part of an explanation: the same engine the waf stage runs (custom rules, then the managed ruleset on
// the URL and headers; a body is not part of an explain request), as a hook for core/explain.
import type { ExplainOptions } from "../../../core/explain/index.ts";
import type { WafDecision } from "../../../core/waf/engine.ts";
import { explain } from "../../../core/waf/explain.ts";
import { collectTargets } from "../../../core/waf/inspect.ts";
import type { CompiledWaf } from "../../../core/waf/policy.ts";

export function wafExplainer(compiled: CompiledWaf): NonNullable<ExplainOptions["waf"]> {
  return (index, fields) => {
    const engine = compiled.forRoute(index);
    if (!engine) return undefined;
    const custom = engine.evaluateCustom(fields);
    let d: WafDecision | undefined = custom.decided;
    if (!d && !engine.managed.settings.enabled) {
      d = {
        action: custom.matches.length ? "log" : "pass",
        score: 0,
        threshold: engine.managed.settings.threshold,
        wouldBlock: false,
        matches: custom.matches,
      };
    }
    if (!d) {
      const headers = fields.req.headers ?? { forEach() {} };
      const inspection = collectTargets({
        method: fields.req.method ?? "GET",
        path: fields.path(),
        query: fields.query(),
        headers,
        host: fields.host(),
        protocol: compiled.protocol,
      });
      d = engine.evaluateManaged(inspection, custom.matches);
    }
    return {
      action: d.action,
      summary: `${explain(d)}${d.rule ? `; decided by custom rule ${d.rule}` : ""}`,
      rules: d.matches.map((m) => ({
        id: m.id,
        source: m.source,
        action: m.action,
        category: m.category,
        location: m.location,
        part: m.part,
        transforms: m.transforms,
        snippet: m.snippet,
        note: m.note,
      })),
    };
  };
}

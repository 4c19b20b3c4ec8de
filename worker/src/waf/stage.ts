// waf stage: the route's WAF policy decides before anything is forwarded. Custom rules run in order (block,
// log, skip, allow); then the managed ruleset scores the request and blocks at the threshold (mode block) or
// only records it (mode log). The decision goes into the context for the log line, and, with
// waf.explain_header, into an x-switchyard-waf response header. A block is 403 JSON with the request id.
import type { RequestFields, RuleHeaders } from "../../../core/rules/index.ts";
import type { WafDecision, WafPolicyEngine } from "../../../core/waf/engine.ts";
import { explain } from "../../../core/waf/explain.ts";
import { collectTargets } from "../../../core/waf/inspect.ts";
import type { CompiledWaf } from "../../../core/waf/policy.ts";
import type { ProtocolPolicy } from "../../../core/waf/protocol.ts";
import type { RequestContext } from "../context.ts";
import { errorBody, ProxyError } from "../errors.ts";
import { ruleFieldsOf } from "../stages/match.ts";
import { type Ctx, type Step, writableResponse } from "../step.ts";
import { readBodyPrefix } from "./body.ts";

export const EXPLAIN_HEADER = "x-switchyard-waf";

/** The whole WAF for one request, without Hono: what the stage, the tests and the benchmark call. */
export async function decide(
  engine: WafPolicyEngine,
  req: Request,
  fields: RequestFields,
  bodyLimit: number,
  protocol?: ProtocolPolicy,
  headers: RuleHeaders = req.headers,
): Promise<WafDecision> {
  const custom = engine.evaluateCustom(fields);
  if (custom.decided) return custom.decided;
  if (!engine.managed.settings.enabled) {
    const s = engine.managed.settings;
    return {
      action: custom.matches.length ? "log" : "pass",
      score: 0,
      threshold: s.threshold,
      wouldBlock: false,
      matches: custom.matches,
    };
  }
  const body = await readBodyPrefix(req, bodyLimit);
  const inspection = collectTargets({
    method: fields.method(),
    path: fields.rawPath(),
    query: fields.query(),
    headers,
    body,
    host: fields.host(),
    protocol,
    paranoia: engine.managed.settings.paranoia,
  });
  return engine.evaluateManaged(inspection, custom.matches);
}

/** The route's WAF step (compiled with its plan); undefined when the route has no WAF or nothing to check. */
export function wafStep(compiled: CompiledWaf, engine: WafPolicyEngine | undefined): Step | undefined {
  if (!engine || (engine.custom.length === 0 && !engine.managed.settings.enabled)) return undefined;
  const before = async function wafStage(c: Ctx, sy: RequestContext): Promise<Response | undefined> {
    const decision = await decide(
      engine,
      c.req,
      ruleFieldsOf(sy, c.req),
      compiled.bodyLimit,
      compiled.protocol,
      sy.headers,
    );
    sy.waf = decision;
    if (decision.action === "block") {
      const r = decision.response;
      const headers = new Headers({ "x-request-id": sy.requestId });
      if (compiled.explainHeader) headers.set(EXPLAIN_HEADER, explain(decision));
      const err = new ProxyError(
        "SY_WAF_BLOCKED",
        "the request was blocked by the web application firewall",
        {
          status: r?.status ?? 403,
          details: compiled.explainHeader
            ? { rules: decision.matches.map((m) => m.id), score: decision.score }
            : undefined,
        },
      );
      sy.error = err;
      if (r?.body !== undefined) {
        headers.set("content-type", r.contentType ?? "text/plain; charset=utf-8");
        return new Response(r.body, { status: err.status, headers });
      }
      headers.set("content-type", "application/json; charset=utf-8");
      return new Response(JSON.stringify(errorBody(err, sy.requestId)), { status: err.status, headers });
    }
    return undefined;
  };
  if (!compiled.explainHeader) return { name: "waf", before };
  return {
    name: "waf",
    before,
    after: function wafExplainHeader(_c, sy, res) {
      const out = writableResponse(sy, res);
      out.headers.set(EXPLAIN_HEADER, explain(sy.waf!));
      return out;
    },
  };
}

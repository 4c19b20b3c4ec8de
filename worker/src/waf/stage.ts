// waf stage: the route's WAF policy decides before anything is forwarded. Custom rules run in order (block,
// log, skip, allow); then the managed ruleset scores the request and blocks at the threshold (mode block) or
// only records it (mode log). The decision goes into the context for the log line, and, with
// waf.explain_header, into an x-switchyard-waf response header. A block is 403 JSON with the request id.
import type { Context, Next } from "hono";
import { type FetchLikeRequest, RequestFields, ruleRequestFrom } from "../../../core/rules/index.ts";
import type { WafDecision, WafPolicyEngine } from "../../../core/waf/engine.ts";
import { explain } from "../../../core/waf/explain.ts";
import { collectTargets } from "../../../core/waf/inspect.ts";
import type { ProtocolPolicy } from "../../../core/waf/protocol.ts";
import type { AppEnv } from "../context.ts";
import { errorBody, ProxyError } from "../errors.ts";
import { readBodyPrefix } from "./body.ts";

export const EXPLAIN_HEADER = "x-switchyard-waf";

/** The whole WAF for one request, without Hono: what the stage, the tests and the benchmark call. */
export async function decide(
  engine: WafPolicyEngine,
  req: Request,
  fields: RequestFields,
  bodyLimit: number,
  protocol?: ProtocolPolicy,
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
    method: req.method,
    path: fields.rawPath(),
    query: fields.query(),
    headers: req.headers,
    body,
    host: fields.host(),
    protocol,
    paranoia: engine.managed.settings.paranoia,
  });
  return engine.evaluateManaged(inspection, custom.matches);
}

export function waf() {
  return async function wafStage(c: Context<AppEnv>, next: Next) {
    const sy = c.var.sy;
    const compiled = sy.runtime!.waf;
    const engine = sy.plan?.waf;
    if (!engine) return next();
    sy.ruleFields ??= new RequestFields(ruleRequestFrom(c.req.raw as FetchLikeRequest, sy.clientIp));
    const decision = await decide(engine, c.req.raw, sy.ruleFields, compiled.bodyLimit, compiled.protocol);
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
    await next();
    if (compiled.explainHeader) c.res.headers.set(EXPLAIN_HEADER, explain(decision));
  };
}

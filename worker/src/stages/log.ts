// log: always runs, after everything else has settled the response: one structured JSON line per request, in
// the sidecar's vocabulary (level, time, client, duration_ms, msg). Built field by field in a fixed order, each
// value escaped once, rather than by JSON.stringify over an object made for the purpose: the line is written for
// every request, and the generic path (an object of ~20 keys, most undefined, walked and escaped) was the
// largest self-time item of the request path in `npm run profile:worker`.
//
// level: "warn" when the answer is a 5xx (the backend's or Switchyard's) or any error Switchyard generated
// (SY_* codes: no route, WAF block, rate limited, …); "info" otherwise.
import { isoTime } from "../../../core/iso-time.ts";
import type { WafDecision } from "../../../core/waf/engine.ts";
import { matchDetail } from "../../../core/waf/explain.ts";
import type { RequestContext } from "../context.ts";

const str = JSON.stringify;

export function logLine(sy: RequestContext, method: string, status: number, configVersion: number): string {
  const warn = status >= 500 || sy.error !== undefined;
  let line = `{"level":"${warn ? "warn" : "info"}","time":"${isoTime(sy.startedAt)}"`;
  line += `,"request_id":${str(sy.requestId)}`;
  if (sy.clientIp) line += `,"client":${str(sy.clientIp)}`;
  line += `,"method":${str(method)},"host":${str(sy.host)},"path":${str(sy.url.pathname)}`;
  const route = sy.route?.route.name;
  if (route !== undefined) line += `,"route":${str(route)}`;
  if (sy.service !== undefined) line += `,"service":${str(sy.service.name)}`;
  const attempts = sy.attempts;
  if (attempts.length > 0) line += `,"backend":${str(attempts[attempts.length - 1]!.backend)}`;
  if (attempts.length > 1) line += `,"retries":${attempts.length - 1}`;
  if (configVersion) line += `,"config_version":${configVersion}`;
  line += `,"status":${status}`;
  if (sy.error !== undefined) line += `,"error":"${sy.error.code}"`;
  if (attempts.length > 0) line += `,"attempts":${str(attempts)}`;
  if (sy.panic) line += `,"panic":true`;
  if (sy.retryBudgetExhausted) line += `,"retry_budget_exhausted":true`;
  if (sy.rateLimits.length > 0) line += `,"rate_limits":${str(sy.rateLimits)}`;
  if (sy.waf !== undefined) line += `,"waf":${wafField(sy.waf)}`;
  return `${line},"duration_ms":${Date.now() - sy.startedAt},"msg":"request"}`;
}

/** The decision in the log line: rule ids always; per managed match where, how and what only when one fired. */
function wafField(d: WafDecision): string {
  if (d.matches.length === 0 && !d.notes?.length)
    return `{"action":"${d.action}","score":${d.score},"rules":[]}`;
  const managed = d.matches.filter((m) => m.source === "managed");
  return str({
    action: d.action,
    score: d.score,
    rules: d.matches.map((m) => m.id),
    matched: managed.length > 0 ? managed.map(matchDetail) : undefined,
    notes: d.notes,
  });
}

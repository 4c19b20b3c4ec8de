// log: always runs, after everything else has settled the response: one structured JSON line per request.

import type { Context, Next } from "hono";
import type { WafDecision } from "../../../core/waf/engine.ts";
import { matchDetail } from "../../../core/waf/explain.ts";
import { liveConfig } from "../config-source/live.ts";
import type { AppEnv } from "../context.ts";

export interface LogOptions {
  /** Where lines go; console.log by default (Workers Logs / wrangler tail pick it up). */
  write?: (line: string) => void;
}

export function logRequest({ write = (line) => console.log(line) }: LogOptions = {}) {
  return async function logStage(c: Context<AppEnv>, next: Next) {
    await next();
    const sy = c.var.sy;
    write(
      JSON.stringify({
        ts: new Date(sy.startedAt).toISOString(),
        request_id: sy.requestId,
        client_ip: sy.clientIp || undefined,
        method: c.req.method,
        host: sy.host,
        path: sy.url.pathname,
        route: sy.route?.route.name,
        service: sy.service?.name,
        backend: sy.attempts.at(-1)?.backend,
        retries: sy.attempts.length > 1 ? sy.attempts.length - 1 : undefined,
        config_version: liveConfig(c.env).version || undefined,
        status: c.res.status,
        error: sy.error?.code,
        attempts: sy.attempts.length > 0 ? sy.attempts : undefined,
        panic: sy.panic,
        retry_budget_exhausted: sy.retryBudgetExhausted,
        rate_limits: sy.rateLimits.length > 0 ? sy.rateLimits : undefined,
        waf: sy.waf && wafLogFields(sy.waf),
        ms: Date.now() - sy.startedAt,
      }),
    );
  };
}

/** The decision in the log line: rule ids always; per managed match where, how and what only when one fired. */
function wafLogFields(d: WafDecision) {
  const managed = d.matches.filter((m) => m.source === "managed");
  return {
    action: d.action,
    score: d.score,
    rules: d.matches.map((m) => m.id),
    matched: managed.length > 0 ? managed.map(matchDetail) : undefined,
    notes: d.notes,
  };
}

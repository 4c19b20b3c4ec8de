// observe: after the response is settled, one metrics point per request: into the isolate's batch (flushed to
// the MetricsAggregator object at most every FLUSH_MS, inside waitUntil) and, in production, one data point
// to Workers Analytics Engine (a non-blocking write, which is what it is made for).
//
// Analytics Engine layout (dataset from wrangler.toml's [[analytics_engine_datasets]]):
//   index1  route
//   blob1..9  route, service, backend, status class, method, host, error code, WAF action, rate-limit outcome
//   double1..4  status, latency ms, attempts, retries
import type { Context, Next } from "hono";
import { liveConfig } from "../config-source/live.ts";
import type { AppEnv } from "../context.ts";
import { waitUntilOf } from "../wait-until.ts";
import { aggregatorStub, batcherFor } from "./batcher.ts";
import { type Point, statusClass } from "./metrics.ts";

export function observe() {
  return async function observeStage(c: Context<AppEnv>, next: Next) {
    await next();
    const sy = c.var.sy;
    const status = c.res.status;
    const attempts = sy.attempts;
    const code: string | undefined = sy.error?.code;
    // Read structurally: the WAF's decision is optional context another stage fills in.
    const wafAction = (sy as { waf?: { action?: string } }).waf?.action;
    const limited = sy.rateLimits.find((v) => v.outcome === "limited" || v.outcome === "over-logged");
    const point: Point = {
      route: sy.route?.route.name ?? "",
      service: sy.service?.name ?? "",
      backend: attempts.at(-1)?.backend ?? "",
      status,
      ms: Date.now() - sy.startedAt,
      retries: Math.max(0, attempts.length - 1),
      wafBlocked: code === "SY_WAF_BLOCKED",
      wafLogged: wafAction === "log",
      rateLimited: code === "SY_RATE_LIMITED",
      attempts,
      at: sy.startedAt,
    };
    const env = c.env;
    const batcher = batcherFor(env);
    batcher.record(point);
    env?.ANALYTICS?.writeDataPoint({
      indexes: [point.route],
      blobs: [
        point.route,
        point.service,
        point.backend,
        statusClass(status),
        c.req.method,
        sy.host,
        code ?? "",
        wafAction ?? "",
        limited?.outcome ?? "",
      ],
      doubles: [status, point.ms, attempts.length, point.retries],
    });
    if (batcher.due()) {
      // Rejected live-config documents go with the next flush (the KV re-check has no batch of its own).
      const flushing = batcher.flush(aggregatorStub(env), liveConfig(env).errors);
      const waitUntil = waitUntilOf(c);
      if (waitUntil) waitUntil(flushing);
      else await flushing;
    }
  };
}

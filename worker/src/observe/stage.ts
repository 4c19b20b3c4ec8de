// observe: after the response is settled, one metrics point per request: into the isolate's batch (flushed to
// the MetricsAggregator object at most every FLUSH_MS, inside waitUntil) and, in production, one data point
// to Workers Analytics Engine (a non-blocking write, which is what it is made for).
//
// Analytics Engine layout (dataset from wrangler.toml's [[analytics_engine_datasets]]):
//   index1  route
//   blob1..9  route, service, backend, status class, method, host, error code, WAF action, rate-limit outcome
//   double1..4  status, latency ms, attempts, retries
import { liveConfig } from "../config-source/live.ts";
import type { RequestContext } from "../context.ts";
import type { Env } from "../env.ts";
import { aggregatorStub, batcherFor } from "./batcher.ts";
import { type Point, statusClass } from "./metrics.ts";

/**
 * Records the request's point; returns the flush when one is due and there is no waitUntil to hand it to
 * (app.fetch in tests), so the caller can wait for it.
 */
export function observeRequest(
  env: Env | undefined,
  sy: RequestContext,
  method: string,
  status: number,
  waitUntil: ((p: Promise<unknown>) => void) | undefined,
): Promise<void> | undefined {
  const attempts = sy.attempts;
  const code: string | undefined = sy.error?.code;
  const wafAction = sy.waf?.action;
  const point: Point = {
    route: sy.route?.route.name ?? "",
    service: sy.service?.name ?? "",
    backend: attempts.length > 0 ? attempts[attempts.length - 1]!.backend : "",
    status,
    ms: Date.now() - sy.startedAt,
    retries: Math.max(0, attempts.length - 1),
    wafBlocked: code === "SY_WAF_BLOCKED",
    wafLogged: wafAction === "log",
    rateLimited: code === "SY_RATE_LIMITED",
    attempts,
    at: sy.startedAt,
  };
  const batcher = batcherFor(env);
  batcher.record(point);
  const analytics = env?.ANALYTICS;
  if (analytics) {
    const limited = sy.rateLimits.find((v) => v.outcome === "limited" || v.outcome === "over-logged");
    analytics.writeDataPoint({
      indexes: [point.route],
      blobs: [
        point.route,
        point.service,
        point.backend,
        statusClass(status),
        method,
        sy.host,
        code ?? "",
        wafAction ?? "",
        limited?.outcome ?? "",
      ],
      doubles: [status, point.ms, attempts.length, point.retries],
    });
  }
  if (!batcher.due()) return undefined;
  // Rejected live-config documents go with the next flush (the KV re-check has no batch of its own).
  const flushing = batcher.flush(aggregatorStub(env), liveConfig(env).errors);
  if (!waitUntil) return flushing;
  waitUntil(flushing);
  return undefined;
}

// The retry policy a request runs under: the service's retry section (or its defaults) with the route's
// overrides on top, resolved once per (route, service) by compileRuntime, not per request.
import { type Retry, type Route, retrySchema, type Service } from "../../../core/config/schema/index.ts";
import type { RetryPolicy } from "../../../core/retry/index.ts";

const DEFAULT_RETRY: Retry = retrySchema.parse({});

export function toRetryPolicy(r: Retry): RetryPolicy {
  return {
    attempts: r.attempts,
    on: r.on,
    perTryTimeoutMs: r.per_try_timeout,
    timeoutMs: r.timeout,
    nonIdempotent: r.non_idempotent,
    bufferBytes: r.buffer,
    backoffBaseMs: r.backoff,
    backoffMaxMs: r.backoff_max,
    budgetRatio: r.budget / 100,
    budgetMinPerSecond: r.budget_min,
    budgetMinConcurrent: r.budget_min_concurrent,
    hedgeDelayMs: r.hedge,
    attemptHeader: r.attempt_header,
    attemptsHeader: r.attempts_header,
  };
}

/** The service's retry section merged with the route's overrides (only the fields the route sets). */
export function mergeRetry(service: Retry | undefined, route: Route["retry"]): Retry {
  const merged: Retry = { ...(service ?? DEFAULT_RETRY) };
  if (route) {
    for (const [k, v] of Object.entries(route))
      if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/** The policy of one (route, service) pair. */
export function retryPolicy(route: Route, service: Service | undefined): RetryPolicy {
  return toRetryPolicy(mergeRetry(service?.retry, route.retry));
}

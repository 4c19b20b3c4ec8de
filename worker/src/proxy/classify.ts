// What one attempt's result means for retries and outlier detection. Pingora's rule: a connect failure
// guarantees nothing was sent, so any method may go to the next backend; once the request may have been sent,
// only idempotent ones (core/retry/policy.ts). workerd reports a refused connection and a connection dropped
// after the request was written with the same thrown "Network connection lost." (checked in
// test/worker/failover.test.ts), so a thrown fetch is a "reset": maybe sent. Cloudflare's edge answers
// 521/522/523/525 when it could not reach or handshake with the origin at all: those are connect failures.

import type { OutlierObservation } from "../../../core/health/outlier.ts";
import type { AttemptOutcome } from "../../../core/retry/index.ts";

/** Statuses Cloudflare's edge synthesizes when it never reached the origin (nothing was sent). */
export const EDGE_CONNECT_FAILURE_STATUSES: ReadonlySet<number> = new Set([521, 522, 523, 525]);

export function outcomeOfStatus(status: number): AttemptOutcome {
  return EDGE_CONNECT_FAILURE_STATUSES.has(status)
    ? { kind: "connect-failure" }
    : { kind: "response", status };
}

/** A fetch() that threw: our own timer aborted it (timeout), or the connection failed (reset, maybe sent). */
export function outcomeOfThrown(timedOut: boolean): AttemptOutcome {
  return timedOut ? { kind: "timeout" } : { kind: "reset" };
}

/** How outlier detection counts an outcome: gateway failures are connect failures, resets, timeouts, 502-504. */
export function observationOf(outcome: AttemptOutcome): OutlierObservation {
  if (outcome.kind !== "response") return "gateway-failure";
  if (outcome.status === 502 || outcome.status === 503 || outcome.status === 504) return "gateway-failure";
  return outcome.status >= 500 ? "5xx" : "success";
}

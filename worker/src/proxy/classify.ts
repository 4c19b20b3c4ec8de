// What a failed attempt means for a retry (Pingora's rule): a connect failure guarantees nothing was sent,
// so any method may go to the next backend; once the request may have been sent, only idempotent methods are
// retried. workerd reports a refused connection and a connection dropped after the request was written with
// the same thrown "Network connection lost." (checked in test/worker/failover.test.ts), so a thrown fetch is
// "maybe sent". Cloudflare's edge answers 521/522/523/525 when it could not reach or handshake with the
// origin at all: those are connect failures for sure. Either way the body must still be replayable.
import type { Attempt } from "../context.ts";
import { ProxyError } from "../errors.ts";
import type { ReplayableBody } from "./body.ts";

export const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Statuses Cloudflare's edge synthesizes when it never reached the origin (nothing was sent). */
export const EDGE_CONNECT_FAILURE_STATUSES = new Set([521, 522, 523, 525]);

export interface Failure {
  outcome: Attempt["outcome"];
  error: ProxyError;
}

/** A fetch() that threw: maybe sent. Retry only an idempotent method whose body can be given again. */
export function classifyThrown(err: unknown, method: string, body: ReplayableBody): Failure {
  const message = err instanceof Error ? err.message : String(err);
  return {
    outcome: "send-failure",
    error: new ProxyError(
      "SY_UPSTREAM_FAILED",
      `the backend closed the connection without answering: ${message}`,
      {
        retryable: IDEMPOTENT_METHODS.has(method) && body.replayable,
        cause: err,
      },
    ),
  };
}

/** An edge-synthesized connect failure: nothing was sent, so any method may be retried. */
export function classifyConnectStatus(status: number, body: ReplayableBody): Failure | undefined {
  if (!EDGE_CONNECT_FAILURE_STATUSES.has(status)) return undefined;
  return {
    outcome: "connect-failure",
    error: new ProxyError(
      "SY_UPSTREAM_FAILED",
      `the edge could not connect to the backend (status ${status})`,
      {
        retryable: body.replayable,
      },
    ),
  };
}

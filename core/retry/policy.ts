// Retry policy as plain data, and the one decision the proxy loop asks of it: may this outcome be tried again?
// The rule follows Pingora and the issue: a connect failure guarantees nothing was sent, so any method may be
// retried; once the request may have reached the backend (a reset, a timeout, an answer), only idempotent
// methods are, plus POST/PATCH carrying an Idempotency-Key or when the policy opts in.

/** What happened to one attempt, as the retry policy sees it. */
export type AttemptOutcome =
  | { kind: "connect-failure" }
  | { kind: "reset" }
  | { kind: "timeout" }
  | { kind: "response"; status: number };

/** Retry conditions a policy can list in `on`. */
export const RETRY_CONDITIONS = ["connect-failure", "reset", "timeout", "5xx", "gateway-error"] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

export const GATEWAY_ERROR_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export interface RetryPolicy {
  /** Total tries including the first (1 = never retry). */
  attempts: number;
  on: readonly (RetryCondition | number)[];
  /** Each try's deadline in ms, or undefined: only the total timeout bounds it. */
  perTryTimeoutMs: number | undefined;
  /** The whole request's deadline in ms, all attempts and backoff included. */
  timeoutMs: number;
  /** Retry POST/PATCH after they may have been sent, even without an Idempotency-Key. */
  nonIdempotent: boolean;
  /** Request body bytes kept for replay; a larger body streams and is not retried. */
  bufferBytes: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Retries allowed as a share of requests (0..1) per isolate and service. */
  budgetRatio: number;
  /** Retries per second always allowed, however few requests there were. */
  budgetMinPerSecond: number;
  /** Retries in flight always allowed, whatever the budget's balance (Envoy's min_retry_concurrency). */
  budgetMinConcurrent: number;
  /** Send a second attempt to another backend after this delay (idempotent, bodiless requests); undefined: off. */
  hedgeDelayMs: number | undefined;
  /** Request header telling the backend which attempt this is ("" = off). */
  attemptHeader: string;
  /** Response header telling the client how many attempts were made ("" = off). */
  attemptsHeader: string;
}

/** Whether a request may be repeated once it may have reached a backend. */
export function idempotent(
  method: string,
  hasIdempotencyKey: boolean,
  policy: Pick<RetryPolicy, "nonIdempotent">,
): boolean {
  if (IDEMPOTENT_METHODS.has(method)) return true;
  if (method === "POST" || method === "PATCH") return policy.nonIdempotent || hasIdempotencyKey;
  return false;
}

/** Whether the policy's `on` list covers this outcome (without regard to method or attempts left). */
export function retryOn(outcome: AttemptOutcome, on: readonly (RetryCondition | number)[]): boolean {
  if (outcome.kind !== "response") return on.includes(outcome.kind);
  const s = outcome.status;
  for (const c of on) {
    if (c === s) return true;
    if (c === "5xx" && s >= 500 && s <= 599) return true;
    if (c === "gateway-error" && GATEWAY_ERROR_STATUSES.has(s)) return true;
  }
  return false;
}

/** Whether an outcome is a failure that the caller may want to retry: covered by `on` and safe for the method. */
export function shouldRetry(
  outcome: AttemptOutcome,
  policy: Pick<RetryPolicy, "on">,
  safe: { idempotent: boolean; bodyReplayable: boolean },
): boolean {
  if (!safe.bodyReplayable) return false;
  if (!retryOn(outcome, policy.on)) return false;
  // Nothing was sent on a connect failure, so the method does not matter.
  if (outcome.kind === "connect-failure") return true;
  return safe.idempotent;
}

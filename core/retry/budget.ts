// Retry budget (Finagle's RetryBudget): each request deposits `ratio` of a retry, each retry withdraws one, and
// a floor of `minPerSecond` retries is always there. Deposits expire after the window, so a burst of traffic
// long ago does not pay for a retry storm now. Per isolate and service, as design.md puts breaker state.
// On top, Envoy's min_retry_concurrency: while fewer than `minConcurrent` requests are retrying, a retry is
// allowed whatever the balance, so a burst of failures (a backend that just died) cannot spend the budget and
// leave the next request without the retry that would reach a healthy backend.

export interface RetryBudget {
  /** Records one request (call once per client request, before any retry). */
  deposit(now: number): void;
  /** Takes one retry from the budget; false when the budget is spent. Pair each true with a release(). */
  tryWithdraw(now: number): boolean;
  /** The retry taken by tryWithdraw has ended (answered or failed): it no longer counts as in flight. */
  release(): void;
  /** Retries available at `now` (for tests and the admin view). */
  balance(now: number): number;
}

export interface RetryBudgetOptions {
  ratio: number;
  minPerSecond: number;
  /** Retries in flight always allowed, whatever the balance (Envoy's min_retry_concurrency). Default 0. */
  minConcurrent?: number;
  /** How long a deposit counts, ms. Default 10 s. */
  windowMs?: number;
}

/** Counts in one-second buckets over the window, so memory stays fixed whatever the request rate. */
export function retryBudget({
  ratio,
  minPerSecond,
  minConcurrent = 0,
  windowMs = 10_000,
}: RetryBudgetOptions): RetryBudget {
  let active = 0;
  const slots = Math.max(1, Math.ceil(windowMs / 1000));
  const requests = new Array<number>(slots).fill(0);
  const retries = new Array<number>(slots).fill(0);
  let current = -1; // the second the newest bucket belongs to

  const advance = (now: number) => {
    const second = Math.floor(now / 1000);
    if (current === -1 || second - current >= slots) {
      requests.fill(0);
      retries.fill(0);
    } else {
      for (let s = current + 1; s <= second; s++) {
        requests[s % slots] = 0;
        retries[s % slots] = 0;
      }
    }
    if (second > current) current = second;
    return current % slots;
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const balance = (now: number) => {
    advance(now);
    return Math.floor(minPerSecond * slots + ratio * sum(requests) - sum(retries));
  };

  return {
    deposit(now) {
      requests[advance(now)]!++;
    },
    tryWithdraw(now) {
      if (active >= minConcurrent && balance(now) < 1) return false;
      retries[advance(now)]!++;
      active++;
      return true;
    },
    release() {
      if (active > 0) active--;
    },
    balance,
  };
}

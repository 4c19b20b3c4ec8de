// Rate-limit algorithms as pure functions over a small state, so the Durable Object, the tests and the
// benchmarks share them. Times are milliseconds; `now` is passed in (objects use Date.now(), tests a clock).

export interface LimitSpec {
  /** Requests allowed per period at the sustained rate. */
  limit: number;
  periodMs: number;
  /** Requests that may arrive at once (the bucket size); defaults to `limit`. */
  burst: number;
}

export interface Decision {
  allowed: boolean;
  /** Requests that could still be admitted right now. */
  remaining: number;
  /** Milliseconds until the quota is fully restored. */
  resetMs: number;
  /** When refused: milliseconds until one request would be admitted. */
  retryAfterMs: number;
}

export interface Algorithm<S> {
  initial(): S;
  /** Try to take `cost` tokens; returns the decision and the new state (unchanged when refused). */
  take(state: S, spec: LimitSpec, now: number, cost: number): { decision: Decision; state: S };
}

/**
 * GCRA (generic cell rate algorithm): a token bucket kept as one number, the theoretical arrival time (TAT).
 * Each request pushes TAT forward by the emission interval T = period / limit; a request is admitted while
 * TAT − now stays within the burst tolerance burst × T. Smooth, exact, and O(1) state.
 */
export const gcra: Algorithm<{ tat: number }> = {
  initial: () => ({ tat: 0 }),
  take(state, spec, now, cost) {
    const interval = spec.periodMs / spec.limit;
    const tolerance = spec.burst * interval;
    const base = Math.max(state.tat, now);
    const newTat = base + cost * interval;
    const over = newTat - now - tolerance;
    if (over > 1e-9) {
      const remaining = Math.max(0, Math.floor((tolerance - (base - now)) / interval + 1e-9));
      return {
        decision: {
          allowed: false,
          remaining,
          resetMs: Math.ceil(base - now),
          retryAfterMs: Math.ceil(over),
        },
        state,
      };
    }
    const remaining = Math.floor((tolerance - (newTat - now)) / interval + 1e-9);
    return {
      decision: { allowed: true, remaining, resetMs: Math.ceil(newTat - now), retryAfterMs: 0 },
      state: { tat: newTat },
    };
  },
};

/**
 * Sliding window counter (Cloudflare's and nginx-plus's approximation): the count of the current fixed window
 * plus the previous window's count weighted by how much of it still overlaps the sliding window. `burst` is
 * the window's capacity.
 */
export const slidingWindow: Algorithm<{ windowStart: number; current: number; previous: number }> = {
  initial: () => ({ windowStart: 0, current: 0, previous: 0 }),
  take(state, spec, now, cost) {
    const p = spec.periodMs;
    const start = Math.floor(now / p) * p;
    let { current, previous } = state;
    if (start !== state.windowStart) {
      previous = start - state.windowStart === p ? current : 0;
      current = 0;
    }
    const weight = 1 - (now - start) / p;
    const estimate = previous * weight + current;
    const capacity = spec.burst;
    const next = { windowStart: start, current, previous };
    if (estimate + cost > capacity + 1e-9) {
      // Earliest time the weighted previous window has shrunk enough for `cost` more.
      let retryAfterMs: number;
      if (current + cost > capacity || previous === 0) retryAfterMs = start + p - now;
      else
        retryAfterMs = Math.max(
          1,
          Math.ceil(((previous * weight + current + cost - capacity) / previous) * p),
        );
      return {
        decision: {
          allowed: false,
          remaining: Math.max(0, Math.floor(capacity - estimate)),
          resetMs: Math.ceil(start + p - now + (previous > 0 ? p * weight : 0)),
          retryAfterMs,
        },
        state: next,
      };
    }
    next.current = current + cost;
    return {
      decision: {
        allowed: true,
        remaining: Math.max(0, Math.floor(capacity - estimate - cost)),
        resetMs: Math.ceil(start + p - now),
        retryAfterMs: 0,
      },
      state: next,
    };
  },
};

export const ALGORITHMS = { gcra, "sliding-window": slidingWindow } as const;
export type AlgorithmName = keyof typeof ALGORITHMS;

import { describe, expect, it } from "vitest";
import { type Algorithm, gcra, type LimitSpec, slidingWindow } from "../../core/ratelimit/algorithm.ts";
import { rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from "../../core/ratelimit/headers.ts";

function run<S>(algo: Algorithm<S>, spec: LimitSpec, times: number[]): boolean[] {
  let state = algo.initial();
  return times.map((t) => {
    const r = algo.take(state, spec, t, 1);
    state = r.state;
    return r.decision.allowed;
  });
}
const count = (xs: boolean[]) => xs.filter(Boolean).length;

describe("GCRA", () => {
  const spec = { limit: 10, periodMs: 1000, burst: 10 };

  it("admits exactly the burst at once, then refuses", () => {
    expect(count(run(gcra, spec, Array(25).fill(5000)))).toBe(10);
  });

  it("refills at limit/period: one more every 100 ms", () => {
    const times = [...Array(10).fill(0), 50, 100, 150, 200, 250];
    expect(run(gcra, spec, times)).toEqual([...Array(10).fill(true), false, true, false, true, false]);
  });

  it("rolls over: a full quota again after a period", () => {
    const times = [...Array(12).fill(0), ...Array(12).fill(1000)];
    expect(count(run(gcra, spec, times))).toBe(20);
  });

  it("a burst smaller than the limit caps what arrives at once, not the rate", () => {
    const small = { limit: 10, periodMs: 1000, burst: 3 };
    expect(count(run(gcra, small, Array(10).fill(0)))).toBe(3);
    // Over a second at an even pace all 10 get through.
    expect(
      count(
        run(
          gcra,
          small,
          Array.from({ length: 10 }, (_, i) => i * 100),
        ),
      ),
    ).toBe(10);
  });

  it("reports remaining, reset and retry-after", () => {
    let state = gcra.initial();
    for (let i = 0; i < 9; i++) state = gcra.take(state, spec, 0, 1).state;
    const last = gcra.take(state, spec, 0, 1);
    expect(last.decision).toEqual({ allowed: true, remaining: 0, resetMs: 1000, retryAfterMs: 0 });
    const refused = gcra.take(last.state, spec, 30, 1);
    expect(refused.decision.allowed).toBe(false);
    expect(refused.decision.retryAfterMs).toBe(70);
    expect(refused.state).toBe(last.state);
  });

  it("takes several tokens at once only when all are there", () => {
    const r = gcra.take(gcra.initial(), spec, 0, 11);
    expect(r.decision.allowed).toBe(false);
    const ok = gcra.take(gcra.initial(), spec, 0, 4);
    expect(ok.decision).toMatchObject({ allowed: true, remaining: 6 });
  });
});

describe("sliding window", () => {
  const spec = { limit: 10, periodMs: 1000, burst: 10 };

  it("admits the limit within one window", () => {
    expect(count(run(slidingWindow, spec, Array(20).fill(100)))).toBe(10);
  });

  it("weights the previous window: half-way into the next one, half the old count still counts", () => {
    const times = [...Array(10).fill(900), ...Array(10).fill(1500)];
    // at 1500 the previous window (10) weighs 0.5 → 5 counted, 5 more allowed
    expect(count(run(slidingWindow, spec, times))).toBe(15);
  });

  it("forgets a window two periods old", () => {
    const times = [...Array(10).fill(100), ...Array(10).fill(2100)];
    expect(count(run(slidingWindow, spec, times))).toBe(20);
  });

  it("says when to retry", () => {
    let state = slidingWindow.initial();
    for (let i = 0; i < 10; i++) state = slidingWindow.take(state, spec, 200, 1).state;
    const refused = slidingWindow.take(state, spec, 200, 1);
    expect(refused.decision).toMatchObject({ allowed: false, retryAfterMs: 800 });
  });
});

describe("RateLimit headers", () => {
  const spec = { limit: 100, periodMs: 60_000, burst: 100 };
  it("lists every policy and reports the tightest", () => {
    const states = [
      { name: "per-ip", spec, decision: { allowed: true, remaining: 40, resetMs: 20_500, retryAfterMs: 0 } },
      {
        name: "per-key",
        spec: { ...spec, burst: 10 },
        decision: { allowed: true, remaining: 3, resetMs: 1200, retryAfterMs: 0 },
      },
    ];
    expect(rateLimitPolicyHeader(states)).toBe('"per-ip";q=100;w=60, "per-key";q=10;w=60');
    expect(rateLimitHeader(states)).toBe('"per-key";r=3;t=2');
  });
  it("never says retry after 0 seconds", () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});

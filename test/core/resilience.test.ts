// Pure resilience policy: which outcomes are retried for which methods, backoff with jitter and Retry-After,
// the retry budget, outlier ejection with its multiplier and cap, panic mode, HTTP check evaluation, and the
// retry / health config fields.
import { describe, expect, it } from "vitest";
import { checkConfig } from "../../core/config/parse.ts";
import { evaluateHttpCheck } from "../../core/health/http-check.ts";
import { outlierDetector } from "../../core/health/outlier.ts";
import { inPanic } from "../../core/health/panic.ts";
import {
  type AttemptOutcome,
  backoffDelay,
  idempotent,
  parseRetryAfter,
  retryBudget,
  retryOn,
  shouldRetry,
} from "../../core/retry/index.ts";

const on = ["connect-failure", "reset", "timeout", "gateway-error"] as const;
const safe = { idempotent: true, bodyReplayable: true };

describe("retry decision", () => {
  it("retries a connect failure for any method, but a reset or timeout only when idempotent", () => {
    const post = { idempotent: false, bodyReplayable: true };
    expect(shouldRetry({ kind: "connect-failure" }, { on }, post)).toBe(true);
    expect(shouldRetry({ kind: "reset" }, { on }, post)).toBe(false);
    expect(shouldRetry({ kind: "timeout" }, { on }, post)).toBe(false);
    expect(shouldRetry({ kind: "response", status: 503 }, { on }, post)).toBe(false);
    expect(shouldRetry({ kind: "reset" }, { on }, safe)).toBe(true);
  });

  it("never retries when the body can no longer be replayed", () => {
    const big = { idempotent: true, bodyReplayable: false };
    expect(shouldRetry({ kind: "connect-failure" }, { on }, big)).toBe(false);
  });

  it("matches statuses by class, gateway errors and explicit codes", () => {
    const r = (status: number): AttemptOutcome => ({ kind: "response", status });
    expect(retryOn(r(503), ["gateway-error"])).toBe(true);
    expect(retryOn(r(500), ["gateway-error"])).toBe(false);
    expect(retryOn(r(500), ["5xx"])).toBe(true);
    expect(retryOn(r(429), [429])).toBe(true);
    expect(retryOn(r(200), ["5xx", 429])).toBe(false);
    expect(retryOn({ kind: "timeout" }, ["reset"])).toBe(false);
  });

  it("treats POST and PATCH as idempotent with an Idempotency-Key or the opt-in", () => {
    const policy = { nonIdempotent: false };
    for (const m of ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"])
      expect(idempotent(m, false, policy)).toBe(true);
    expect(idempotent("POST", false, policy)).toBe(false);
    expect(idempotent("POST", true, policy)).toBe(true);
    expect(idempotent("PATCH", false, { nonIdempotent: true })).toBe(true);
    expect(idempotent("CONNECT", true, { nonIdempotent: true })).toBe(false);
  });
});

describe("backoff", () => {
  it("draws from [0, min(max, base × 2^(n-1))) — full jitter", () => {
    expect(backoffDelay(1, 100, 1000, undefined, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 1000, undefined, () => 0.5)).toBe(200);
    expect(backoffDelay(10, 100, 1000, undefined, () => 0.999)).toBe(999);
    expect(backoffDelay(2, 100, 1000, undefined, () => 0)).toBe(0);
  });

  it("honours Retry-After up to the cap", () => {
    expect(backoffDelay(1, 100, 1000, 300)).toBe(300);
    expect(backoffDelay(1, 100, 1000, 5000)).toBe(1000);
    expect(parseRetryAfter("2", 0)).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe("retry budget", () => {
  it("allows ratio × requests plus the floor, then refuses", () => {
    const b = retryBudget({ ratio: 0.2, minPerSecond: 0 });
    for (let i = 0; i < 50; i++) b.deposit(1000);
    let granted = 0;
    while (b.tryWithdraw(1000)) granted++;
    expect(granted).toBe(10);
  });

  it("keeps a floor of minPerSecond × window even without requests", () => {
    const b = retryBudget({ ratio: 0.2, minPerSecond: 3, windowMs: 10_000 });
    let granted = 0;
    while (b.tryWithdraw(5000)) granted++;
    expect(granted).toBe(30);
  });

  it("always allows minConcurrent retries in flight, whatever the balance (Envoy's min_retry_concurrency)", () => {
    const b = retryBudget({ ratio: 0, minPerSecond: 0, minConcurrent: 2 });
    expect(b.tryWithdraw(0)).toBe(true);
    expect(b.tryWithdraw(0)).toBe(true);
    expect(b.tryWithdraw(0)).toBe(false);
    b.release();
    expect(b.tryWithdraw(0)).toBe(true);
  });

  it("forgets requests and retries older than the window", () => {
    const b = retryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 10; i++) b.deposit(0);
    expect(b.balance(0)).toBe(5);
    expect(b.balance(9_999)).toBe(5);
    expect(b.balance(10_500)).toBe(0);
  });
});

describe("outlier detection", () => {
  const options = {
    consecutive5xx: 5,
    consecutiveGatewayFailures: 3,
    baseEjectionMs: 1000,
    maxEjectionMs: 2500,
    maxEjectionPercent: 50,
  };

  it("ejects after 5 consecutive 5xx, for the base time, and a success resets the count", () => {
    const d = outlierDetector(4, options);
    for (let i = 0; i < 4; i++) expect(d.observe(0, "5xx", 0)).toBeUndefined();
    d.observe(0, "success", 0);
    for (let i = 0; i < 4; i++) expect(d.observe(0, "5xx", 0)).toBeUndefined();
    expect(d.observe(0, "5xx", 10)).toEqual({ index: 0, untilMs: 1010, reason: "5 consecutive 5xx" });
    expect(d.ejected(0, 1009)).toBe(true);
    expect(d.ejected(0, 1010)).toBe(false);
  });

  it("ejects after consecutive gateway failures; a plain 500 breaks that streak", () => {
    const d = outlierDetector(4, { ...options, consecutive5xx: 0 });
    d.observe(1, "gateway-failure", 0);
    d.observe(1, "gateway-failure", 0);
    d.observe(1, "5xx", 0);
    d.observe(1, "gateway-failure", 0);
    expect(d.ejected(1, 0)).toBe(false);
    d.observe(1, "gateway-failure", 0);
    expect(d.observe(1, "gateway-failure", 0)?.reason).toBe("3 consecutive gateway failures");
  });

  it("lengthens each ejection by the times ejected, up to the cap, and decays the multiplier", () => {
    const d = outlierDetector(2, options);
    const eject = (t: number) => {
      for (let i = 0; i < 2; i++) d.observe(0, "gateway-failure", t);
      return d.observe(0, "gateway-failure", t)!.untilMs - t;
    };
    expect(eject(0)).toBe(1000);
    expect(eject(1000)).toBe(2000);
    expect(eject(3000)).toBe(2500); // 3 × 1000, capped
    // Long back in the pool: the multiplier decays to nothing.
    expect(eject(100_000)).toBe(1000);
  });

  it("never ejects more than max_ejection_percent of the pool (at least one)", () => {
    const d = outlierDetector(3, { ...options, maxEjectionPercent: 50 });
    for (const i of [0, 1, 2]) for (let k = 0; k < 3; k++) d.observe(i, "gateway-failure", 0);
    expect(d.ejectedCount(0)).toBe(1);
    const none = outlierDetector(3, { ...options, maxEjectionPercent: 0 });
    for (let k = 0; k < 3; k++) none.observe(0, "gateway-failure", 0);
    expect(none.ejectedCount(0)).toBe(0);
  });
});

describe("panic threshold", () => {
  it("is in panic below the threshold share of healthy backends", () => {
    expect(inPanic(1, 2, 50)).toBe(false);
    expect(inPanic(1, 3, 50)).toBe(true);
    expect(inPanic(0, 3, 0)).toBe(false);
  });
});

describe("HTTP check evaluation", () => {
  it("is up for 2xx/3xx by default, for the listed statuses otherwise, and checks the body", () => {
    expect(evaluateHttpCheck(204, undefined, {}).ok).toBe(true);
    expect(evaluateHttpCheck(404, undefined, {})).toEqual({
      ok: false,
      reason: "status 404 is not an expected status",
    });
    expect(evaluateHttpCheck(404, undefined, { status: [404] }).ok).toBe(true);
    expect(evaluateHttpCheck(200, "all good", { body: "good" }).ok).toBe(true);
    expect(evaluateHttpCheck(200, "nope", { body: "good" }).reason).toBe(
      'status 200 but the body does not contain "good"',
    );
  });
});

describe("config: retry and health fields", () => {
  const base = (service: Record<string, unknown>, route: Record<string, unknown> = {}) => ({
    services: [{ name: "s", backends: [{ url: "http://10.0.0.1:80" }], ...service }],
    routes: [{ name: "r", service: "s", ...route }],
  });

  it("fills retry defaults on a service and keeps a route's override sparse", () => {
    const { config, problems } = checkConfig(base({ retry: {} }, { retry: { attempts: 1 } }));
    expect(problems).toEqual([]);
    expect(config!.services[0]!.retry).toMatchObject({
      attempts: 3,
      timeout: 30_000,
      buffer: 65_536,
      budget: 20,
      budget_min_concurrent: 3,
      on: ["connect-failure", "reset", "timeout", "gateway-error"],
    });
    expect(config!.routes[0]!.retry).toEqual({ attempts: 1 });
  });

  it("expands status ranges and rejects bad ones with their path", () => {
    const ok = checkConfig(base({ health: { path: "/h", status: ["200-202", 404] } }));
    expect(ok.config!.services[0]!.health!.status).toEqual([200, 201, 202, 404]);
    const bad = checkConfig(
      base({ health: { path: "/h", status: "299-200" }, retry: { on: ["sometimes"] } }),
    );
    expect(bad.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["services[0].health.status", "services[0].retry.on[0]"]),
    );
  });

  it("asks for a path when HTTP-only check fields are used", () => {
    const { problems } = checkConfig(base({ health: { body: "ok" } }));
    expect(problems).toEqual([
      { path: "services[0].health.body", message: '"body" needs "path" (it belongs to an HTTP check)' },
    ]);
  });
});

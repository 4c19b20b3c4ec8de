// Per-isolate resilience state of one service, built with its ServicePool in compileRuntime (so a new config
// starts fresh): the retry budgets, outlier detection (the circuit breaker), and the cached shared health. Fast and approximate, as design.md puts breaker state; the shared part comes from the
// HealthChecker object. `usable` combines them, with the panic threshold on top.
import { passiveOf, type Service } from "../../../core/config/schema/index.ts";
import { takesNew } from "../../../core/health/operator.ts";
import { type OutlierDetector, outlierDetector } from "../../../core/health/outlier.ts";
import { inPanic } from "../../../core/health/panic.ts";
import {
  type AttemptOutcome,
  type RetryBudget,
  type RetryPolicy,
  retryBudget,
} from "../../../core/retry/index.ts";
import { observationOf } from "../proxy/classify.ts";
import type { ServicePool } from "../runtime.ts";
import { SharedHealth } from "./health-client.ts";
import { healthSpec } from "./health-spec.ts";

export interface ServiceResilience {
  service: Service | undefined;
  pool: ServicePool;
  /** Retry budgets per isolate and service, one per (budget, budget_min) pair routes use. */
  budgets: Map<string, RetryBudget>;
  outlier: OutlierDetector | undefined;
  shared: SharedHealth | undefined;
  /** Whether the pool was in panic mode at the last request (to log transitions once). */
  panic: boolean;
  /** The filter while nothing is ejected, nothing is shared and panic is off: every weighted backend. */
  readonly allUsable: HealthFilter;
}

export interface HealthFilter {
  accept: (i: number) => boolean;
  panic: boolean;
}

const ACCEPT_ALL: HealthFilter = { accept: () => true, panic: false };

export function serviceResilience(pool: ServicePool, service: Service | undefined): ServiceResilience {
  const passive = service && passiveOf(service);
  const spec = service && healthSpec(service);
  return {
    service,
    pool,
    budgets: new Map(),
    outlier: passive
      ? outlierDetector(pool.backends.length, {
          consecutive5xx: passive.consecutive_5xx,
          consecutiveGatewayFailures: passive.failures,
          baseEjectionMs: passive.eject,
          maxEjectionMs: Math.max(passive.eject, passive.max_eject),
          maxEjectionPercent: passive.max_ejection_percent,
        })
      : undefined,
    shared: spec && new SharedHealth(spec),
    panic: false,
    allUsable: { accept: (i) => pool.backends[i]!.weight > 0, panic: false },
  };
}

/** The retry budget for a policy: routes with the same (budget, budget_min) share one. Called at compile time. */
export function budgetFor(s: ServiceResilience, policy: RetryPolicy): RetryBudget {
  const key = `${policy.budgetRatio}/${policy.budgetMinPerSecond}/${policy.budgetMinConcurrent}`;
  let budget = s.budgets.get(key);
  if (!budget) {
    budget = retryBudget({
      ratio: policy.budgetRatio,
      minPerSecond: policy.budgetMinPerSecond,
      minConcurrent: policy.budgetMinConcurrent,
    });
    s.budgets.set(key, budget);
  }
  return budget;
}

/** Whether a backend is healthy right now: passes active checks and is ejected neither here nor elsewhere. */
export function healthy(s: ServiceResilience, index: number, now: number): boolean {
  const url = s.pool.backends[index]!.href;
  if (s.outlier?.ejected(index, now)) return false;
  if (!s.shared) return true;
  return s.shared.up(url) && s.shared.ejectedUntil(url) <= now;
}

/**
 * The health filter for one request: healthy backends, or every backend when fewer than panic_threshold of
 * them are healthy. Backends an operator drained or put in maintenance are out either way. Logs entering and
 * leaving panic once.
 */
export function healthFilter(s: ServiceResilience, now: number): HealthFilter {
  if (!s.outlier && !s.shared) return ACCEPT_ALL;
  // The common case, without arrays per request: passive health only, nothing ejected, not in panic.
  if (!s.shared && !s.panic && s.outlier!.ejectedCount(now) === 0) return s.allUsable;
  const backends = s.pool.backends;
  const admitted = backends.map((b) => !s.shared || takesNew(s.shared.operator(b.href)));
  const ok = backends.map((b, i) => b.weight > 0 && admitted[i]! && healthy(s, i, now));
  const serving = backends.filter((b, i) => b.weight > 0 && admitted[i]).length;
  const usable = ok.filter(Boolean).length;
  const panic = inPanic(usable, serving, s.service?.panic_threshold ?? 0);
  if (panic !== s.panic) {
    s.panic = panic;
    console.log(
      JSON.stringify({
        level: panic ? "warn" : "info",
        msg: panic
          ? "panic mode: too few healthy backends, balancing across all of them"
          : "panic mode over: balancing across healthy backends again",
        service: s.pool.name,
        healthy: usable,
        backends: serving,
        threshold_percent: s.service?.panic_threshold,
      }),
    );
  }
  return { accept: panic ? (i) => admitted[i]! : (i) => ok[i]!, panic };
}

/**
 * Feeds one attempt's outcome to outlier detection. An ejection is logged once, here, with its reason, and
 * reported to the service's HealthChecker object so other isolates leave the backend out too.
 */
export function observeOutcome(
  s: ServiceResilience,
  index: number,
  outcome: AttemptOutcome,
  now: number,
  report: (backend: string, until: number, reason: string) => void,
): void {
  if (!s.outlier) return;
  const ejection = s.outlier.observe(index, observationOf(outcome), now);
  if (!ejection) return;
  const backend = s.pool.backends[index]!.href;
  console.log(
    JSON.stringify({
      level: "warn",
      msg: "backend ejected",
      service: s.pool.name,
      backend,
      reason: ejection.reason,
      for_ms: ejection.untilMs - now,
    }),
  );
  report(backend, ejection.untilMs, ejection.reason);
}

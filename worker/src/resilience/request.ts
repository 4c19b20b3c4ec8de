// Resilience for one proxied request: the route's retry policy, the service's health filter (checks, ejections,
// panic), and the retry loop wired to the per-isolate state. The proxy stage keeps what is routing's
// (sticky pinning, path/host rewrite, the response) and hands select/send to run().
import {
  type AttemptOutcome,
  IDEMPOTENT_METHODS,
  idempotent,
  type RetryPolicy,
} from "../../../core/retry/index.ts";
import type { RequestContext } from "../context.ts";
import type { ReplayableBody } from "../proxy/body.ts";
import type { HeaderPairs } from "../proxy/headers.ts";
import type { Target } from "../runtime.ts";
import type { Ctx } from "../step.ts";
import type { Background } from "./health-client.ts";
import { type LoopResult, runAttempts } from "./loop.ts";
import { healthFilter, observeOutcome } from "./state.ts";

export interface ResilientRequest {
  policy: RetryPolicy;
  /** Backends this request may use: healthy ones, or all of them in panic mode. */
  accept: (index: number) => boolean;
  run(
    body: ReplayableBody,
    select: LoopInputSelect,
    send: (index: number, headers: Headers, signal: AbortSignal | undefined) => Promise<Response>,
    headers: Headers,
  ): Promise<LoopResult>;
  /**
   * Headers a backend's response gets: the request id (unless it is the CF-Ray the client gets anyway), and the
   * attempts header when the policy names one and there was more than one attempt (its absence means one: so
   * the usual answer, one attempt, needs no copy of the backend's response).
   */
  responseHeaders(sy: RequestContext, attempts: number): HeaderPairs;
}

type LoopInputSelect = (tried: ReadonlySet<number>, fresh: boolean) => number | undefined;

/** Without an execution context (app.fetch in tests) a background promise runs on its own. */
const detached: Background = (p) => void p.catch(() => {});

/** `bodiless`: the request has no body (hedging needs that: two attempts never share a body stream). */
export function resilientRequest(
  c: Ctx,
  sy: RequestContext,
  target: Target,
  bodiless: boolean,
): ResilientRequest {
  const { pool, retry: policy, budget } = target;
  const attemptHeader = policy.attemptHeader?.toLowerCase();
  const state = pool.resilience;
  const ns = c.env.HEALTH_CHECKER;
  const bg = c.waitUntil ?? detached;
  const now = Date.now();
  state.shared?.refresh(ns, now, bg);
  const filter = healthFilter(state, now);
  if (filter.panic) sy.panic = true;
  const report = (backend: string, until: number, reason: string) =>
    state.shared?.report(ns, backend, until, reason, bg);
  const observe = (index: number, outcome: AttemptOutcome) =>
    observeOutcome(state, index, outcome, Date.now(), report);

  return {
    policy,
    accept: filter.accept,
    run(body, select, send, headers) {
      return runAttempts({
        policy,
        service: pool.name,
        idempotent:
          IDEMPOTENT_METHODS.has(sy.method) ||
          idempotent(sy.method, sy.headers.get("idempotency-key") !== null, policy),
        replayable: () => body.replayable,
        bodiless,
        budget,
        select,
        send(index, n, signal) {
          // fetch() copies the headers, so the first attempt writes its number into the prepared ones and later
          // attempts (a retry, or a hedge still racing the first) each into a copy of their own.
          let h = headers;
          if (attemptHeader) {
            if (n > 1) h = new Headers(headers);
            h.set(attemptHeader, String(n));
          }
          pool.selector.onStart?.(index);
          return send(index, h, signal);
        },
        settle(index, outcome) {
          pool.selector.onEnd?.(index);
          if (outcome) observe(index, outcome);
        },
        won: observe,
        label: (index) => pool.backends[index]!.href,
        record: (a) => sy.attempts.push(a),
        onBudgetExhausted: () => {
          sy.retryBudgetExhausted = true;
        },
      });
    },
    responseHeaders(sy, attempts) {
      const set: HeaderPairs = sy.idIsRay ? [] : [["x-request-id", sy.requestId]];
      if (policy.attemptsHeader && attempts > 1) set.push([policy.attemptsHeader, String(attempts)]);
      return set;
    },
  };
}

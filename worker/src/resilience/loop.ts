// The retry loop: attempts of one request, bounded by attempts, the total timeout (every attempt and backoff
// included, as Envoy's route timeout), the retry budget and what is safe to repeat (core/retry/policy.ts).
// An attempt that may be aborted while the request goes on has its own abort signal: its per-try timer (clipped
// to what is left of the total) aborts it, and a hedged attempt that lost the race is aborted. Without either,
// an attempt gets no signal: at the total timeout the request answers and ends, and workerd cancels the
// subrequests still in flight with it (an AbortController and a signal for fetch cost ~15k instructions, 3% of
// a pass-through worker's whole request). Timers are cleared once the headers arrive, so a response body
// streams for as long as it takes.
import {
  type AttemptOutcome,
  backoffDelay,
  parseRetryAfter,
  type RetryBudget,
  type RetryPolicy,
  retryOn,
  shouldRetry,
} from "../../../core/retry/index.ts";
import type { Attempt } from "../context.ts";
import { ProxyError } from "../errors.ts";
import { outcomeOfStatus, outcomeOfThrown } from "../proxy/classify.ts";

export interface LoopInput {
  policy: RetryPolicy;
  /** The method may be repeated after it may have reached a backend. */
  idempotent: boolean;
  /** The request body can still be given to another attempt (always true without a body). */
  replayable: () => boolean;
  /** No request body: hedging is allowed (two attempts never share a body stream). */
  bodiless: boolean;
  budget: RetryBudget;
  /** Picks a backend: not in `tried` when `fresh`, else preferably not in `tried`; undefined when none. */
  select: (tried: ReadonlySet<number>, fresh: boolean) => number | undefined;
  /** Sends attempt `n` to backend `index`; `signal` is undefined when nothing will abort the attempt. */
  send: (index: number, n: number, signal: AbortSignal | undefined) => Promise<Response>;
  /** Every attempt's end, except the winner's (whose body is still streaming): outlier feed, accounting. */
  settle: (index: number, outcome: AttemptOutcome | undefined) => void;
  /** The winner's outcome, for outlier detection. */
  won: (index: number, outcome: AttemptOutcome) => void;
  label: (index: number) => string;
  record: (a: Attempt) => void;
  /** Called when the budget stopped a retry. */
  onBudgetExhausted?: () => void;
  now?: () => number;
  random?: () => number;
  service: string;
}

export interface LoopResult {
  response: Response;
  index: number;
  attempts: number;
}

interface Finished {
  n: number;
  index: number;
  hedge: boolean;
  started: number;
  outcome: AttemptOutcome;
  response?: Response;
}

interface Live {
  index: number;
  hedge: boolean;
  started: number;
  ctrl: AbortController | undefined;
  done: Promise<Finished>;
}

const sleep = (ms: number) => new Promise<"slept">((r) => setTimeout(() => r("slept"), ms));

export async function runAttempts(d: LoopInput): Promise<LoopResult> {
  const now = d.now ?? Date.now;
  const { policy, budget } = d;
  const start = now();
  const deadline = start + policy.timeoutMs;
  const tried = new Set<number>();
  const live = new Map<number, Live>();
  let n = 0;
  let last: Finished | undefined;
  const hedging = policy.hedgeDelayMs !== undefined && d.idempotent && d.bodiless;
  let hedgeAllowed = hedging;
  let stop: "not-retryable" | "attempts" | "deadline" | "budget" | "no-backend" = "attempts";
  // The retries this request took count as in flight (the budget's min_retry_concurrency) until it has its answer.
  let taken = 0;
  const withdraw = (t: number) => {
    const ok = budget.tryWithdraw(t);
    if (ok) taken++;
    return ok;
  };
  budget.deposit(start);
  // The total timeout holds on its own, not only through each attempt's timer: an aborted fetch may take a
  // while to reject, and the client should not wait for that. One timer for the whole request.
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"deadline">((r) => {
    deadlineTimer = setTimeout(() => r("deadline"), policy.timeoutMs);
  });

  const launch = (index: number, hedge: boolean) => {
    const attempt = ++n;
    tried.add(index);
    const started = now();
    let timedOut = false;
    // A per-try timer only when it would fire before the total timeout: otherwise the deadline ends the
    // attempt at the same moment, and one timer fewer per request is measurable.
    const perTry =
      policy.perTryTimeoutMs !== undefined && policy.perTryTimeoutMs < deadline - started
        ? policy.perTryTimeoutMs
        : undefined;
    const ctrl = perTry !== undefined || hedging ? new AbortController() : undefined;
    const timer =
      perTry !== undefined
        ? setTimeout(() => {
            timedOut = true;
            ctrl!.abort(new Error(`no response within ${perTry}ms`));
          }, perTry)
        : undefined;
    const done = d.send(index, attempt, ctrl?.signal).then(
      (response): Finished => {
        if (timer !== undefined) clearTimeout(timer);
        return { n: attempt, index, hedge, started, outcome: outcomeOfStatus(response.status), response };
      },
      (): Finished => {
        if (timer !== undefined) clearTimeout(timer);
        return { n: attempt, index, hedge, started, outcome: outcomeOfThrown(timedOut) };
      },
    );
    live.set(attempt, { index, hedge, started, ctrl, done });
  };

  const record = (
    attempt: number,
    index: number,
    outcome: Attempt["outcome"],
    started: number,
    hedge: boolean,
    status?: number,
  ) => {
    const a: Attempt = { n: attempt, backend: d.label(index), outcome, status, ms: now() - started };
    if (hedge) a.hedge = true;
    d.record(a);
  };
  const log = (f: Finished) => record(f.n, f.index, f.outcome.kind, f.started, f.hedge, f.response?.status);

  /** Aborts every attempt still waiting: a hedge that lost ("cancelled"), or all of them at the deadline. */
  const cancelLive = (outcome: "cancelled" | "timeout") => {
    for (const [attempt, l] of live) {
      l.ctrl?.abort(
        new Error(outcome === "timeout" ? "the total timeout expired" : "another attempt answered first"),
      );
      d.settle(l.index, outcome === "timeout" ? { kind: "timeout" } : undefined);
      record(attempt, l.index, outcome, l.started, l.hedge);
      // Its result (if a response still arrives) is dropped.
      void l.done.then((f) => f.response?.body?.cancel());
    }
    live.clear();
  };

  try {
    const first = d.select(tried, true);
    if (first === undefined) {
      throw new ProxyError(
        "SY_NO_BACKEND",
        `service "${d.service}" has no backend available (drained or unhealthy)`,
      );
    }
    launch(first, false);

    for (;;) {
      // Attempts first: one that has finished wins over a deadline that has passed too.
      const waits: Promise<Finished | "hedge" | "deadline">[] = [];
      for (const l of live.values()) waits.push(l.done);
      waits.push(expired);
      let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
      if (hedgeAllowed && live.size === 1 && n < policy.attempts) {
        waits.push(
          new Promise((r) => {
            hedgeTimer = setTimeout(() => r("hedge"), policy.hedgeDelayMs);
          }),
        );
      }
      const event = await Promise.race(waits);
      if (hedgeTimer !== undefined) clearTimeout(hedgeTimer);

      if (event === "deadline") {
        cancelLive("timeout");
        stop = "deadline";
        if (!last?.response)
          last = { n, index: -1, hedge: false, started: start, outcome: { kind: "timeout" } };
        break;
      }

      if (event === "hedge") {
        // One hedge per wait: a second attempt to a backend not tried yet, paid for by the retry budget.
        hedgeAllowed = false;
        const index = d.select(tried, true);
        if (index !== undefined && now() < deadline && withdraw(now())) launch(index, true);
        continue;
      }

      live.delete(event.n);
      const failed = event.outcome.kind !== "response" || retryOn(event.outcome, policy.on);
      if (!failed) {
        cancelLive("cancelled");
        d.won(event.index, event.outcome);
        log(event);
        const body = last?.response?.body;
        if (body) await body.cancel();
        return { response: event.response!, index: event.index, attempts: n };
      }
      d.settle(event.index, event.outcome);
      log(event);
      const earlier = last !== event ? last?.response?.body : undefined;
      if (earlier) await earlier.cancel();
      last = event;
      if (live.size > 0) continue; // a hedged attempt may still answer well

      if (!shouldRetry(event.outcome, policy, { idempotent: d.idempotent, bodyReplayable: d.replayable() })) {
        stop = "not-retryable";
        break;
      }
      if (n >= policy.attempts) {
        stop = "attempts";
        break;
      }
      const t = now();
      if (t >= deadline) {
        stop = "deadline";
        break;
      }
      if (!withdraw(t)) {
        stop = "budget";
        d.onBudgetExhausted?.();
        break;
      }
      const retryAfter = parseRetryAfter(event.response?.headers.get("retry-after") ?? null, t);
      const delay = backoffDelay(n, policy.backoffBaseMs, policy.backoffMaxMs, retryAfter, d.random);
      if (t + delay >= deadline) {
        stop = "deadline";
        break;
      }
      if (delay > 0) await sleep(delay);
      const index = d.select(tried, false);
      if (index === undefined) {
        stop = "no-backend";
        break;
      }
      launch(index, false);
    }

    // Out of attempts: a backend's own answer (say a 503) goes to the client as it is; otherwise an error.
    if (last?.response) return { response: last.response, index: last.index, attempts: n };
    const outcome = last!.outcome;
    const tries = `${n} attempt${n === 1 ? "" : "s"}, ${tried.size} backend${tried.size === 1 ? "" : "s"}`;
    if (outcome.kind === "timeout") {
      throw new ProxyError(
        "SY_UPSTREAM_TIMEOUT",
        `service "${d.service}" did not answer in time (${tries}; timeout ${policy.timeoutMs}ms${policy.perTryTimeoutMs === undefined ? "" : `, per try ${policy.perTryTimeoutMs}ms`})`,
      );
    }
    if (stop === "not-retryable") {
      throw new ProxyError(
        "SY_UPSTREAM_FAILED",
        `the backend closed the connection without answering, and the request could not be sent again safely (${!d.replayable() ? "its body was larger than the retry buffer" : !retryOn(outcome, policy.on) ? `"${outcome.kind}" is not in retry.on` : "its method is not idempotent"})`,
      );
    }
    const why = stop === "budget" ? "; the retry budget is spent" : "";
    throw new ProxyError(
      "SY_UPSTREAM_UNAVAILABLE",
      `no backend of service "${d.service}" could be reached (${tries}${why})`,
    );
  } finally {
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    for (; taken > 0; taken--) budget.release();
  }
}

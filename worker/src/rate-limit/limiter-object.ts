// The RateLimiter Durable Object: one object per (policy, key), addressed with idFromName, so every isolate in
// every colo counts against one exact counter. The policy's spec travels with each call (config lives in the
// worker, not here), so a config change takes effect on the next request without touching stored state.
//
// State is one small record, written through to the object's SQLite-backed synchronous KV on every change, so
// an evicted or restarted object resumes with its counters instead of handing out a fresh quota.
import { DurableObject } from "cloudflare:workers";
import {
  ALGORITHMS,
  type AlgorithmName,
  type Decision,
  type LimitSpec,
} from "../../../core/ratelimit/algorithm.ts";

export interface LimitCall {
  spec: LimitSpec;
  algorithm: AlgorithmName;
  /** Once refused, the key stays refused this long (0: off). */
  mitigationMs: number;
}

export interface LeaseResult {
  /** Tokens granted to the caller's isolate (0 when refused). */
  granted: number;
  decision: Decision;
}

interface Stored {
  algorithm: AlgorithmName;
  state: unknown;
  blockedUntil: number;
}

const KEY = "s";

export class RateLimiter extends DurableObject {
  #memo: Stored | undefined;

  /** Exact mode: take one token (or `cost`), answering whether the request is admitted. */
  check(call: LimitCall, cost = 1): Decision {
    return this.#take(call, cost, false).decision;
  }

  /** Approximate mode: take up to `want` tokens at once for an isolate to spend locally. */
  lease(call: LimitCall, want: number): LeaseResult {
    return this.#take(call, Math.max(1, Math.floor(want)), true);
  }

  #take(call: LimitCall, want: number, partial: boolean): LeaseResult {
    const now = Date.now();
    const stored = this.#load(call.algorithm);
    if (stored.blockedUntil > now) {
      const wait = stored.blockedUntil - now;
      return { granted: 0, decision: { allowed: false, remaining: 0, resetMs: wait, retryAfterMs: wait } };
    }
    const algo = ALGORITHMS[call.algorithm] as (typeof ALGORITHMS)["gcra"];
    const state = stored.state as ReturnType<typeof algo.initial>;
    let cost = want;
    if (partial) {
      // Grant what is there: probe one token, then take min(want, what remains).
      const probe = algo.take(state, call.spec, now, 1);
      cost = probe.decision.allowed ? Math.min(want, probe.decision.remaining + 1) : 1;
    }
    const { decision, state: next } = algo.take(state, call.spec, now, cost);
    if (decision.allowed) {
      stored.state = next;
    } else if (call.mitigationMs > 0) {
      stored.blockedUntil = now + call.mitigationMs;
      decision.retryAfterMs = Math.max(decision.retryAfterMs, call.mitigationMs);
      decision.resetMs = Math.max(decision.resetMs, call.mitigationMs);
    }
    this.#save(stored);
    return { granted: decision.allowed ? cost : 0, decision };
  }

  #load(algorithm: AlgorithmName): Stored {
    if (!this.#memo) this.#memo = this.ctx.storage.kv.get<Stored>(KEY);
    if (!this.#memo || this.#memo.algorithm !== algorithm) {
      this.#memo = { algorithm, state: ALGORITHMS[algorithm].initial(), blockedUntil: 0 };
    }
    return this.#memo;
  }

  #save(stored: Stored): void {
    this.ctx.storage.kv.put(KEY, stored);
    // Keys come and go (an IP, an API key): an alarm wipes an idle object so storage does not grow forever.
    if (this.#alarmSet) return;
    this.#alarmSet = true;
    void this.ctx.storage.setAlarm(Date.now() + IDLE_SWEEP_MS);
  }

  #alarmSet = false;

  override async alarm(): Promise<void> {
    const stored = this.ctx.storage.kv.get<Stored>(KEY);
    const now = Date.now();
    const busyUntil = Math.max(
      stored?.blockedUntil ?? 0,
      (stored?.state as { tat?: number; windowStart?: number } | undefined)?.tat ?? 0,
    );
    const windowEnd =
      ((stored?.state as { windowStart?: number } | undefined)?.windowStart ?? 0) + IDLE_SWEEP_MS;
    if (stored && (busyUntil > now || windowEnd > now)) {
      await this.ctx.storage.setAlarm(Math.max(busyUntil, windowEnd) + 1000);
      return;
    }
    this.#memo = undefined;
    this.#alarmSet = false;
    await this.ctx.storage.deleteAll();
  }
}

/** How long an untouched object keeps its state before the sweep looks at it. */
const IDLE_SWEEP_MS = 10 * 60_000;

// The isolate's side of rate limiting: asks the RateLimiter object for a decision (exact mode) or spends tokens
// leased from it (approximate mode), within a deadline, failing open or closed as the policy says.
//
// Exact mode: one object call per admitted request. A refusal is cached in the isolate until its Retry-After,
// which is still exact (nothing can be admitted before then) and spares the object during a flood.
// Approximate mode: the isolate leases `lease` tokens at once and spends them locally, so the object sees
// about one call per `lease` requests. Leases expire after `leaseTtlMs`; tokens an isolate holds are counted
// by the object when leased, so in any window a key can get at most (isolates × lease) more than exact mode
// would admit (tokens leased near the end of one window spent in the next), and never more than that.
import type { AlgorithmName, Decision, LimitSpec } from "../../../core/ratelimit/algorithm.ts";
import type { LeaseResult, LimitCall } from "./limiter-object.ts";

export interface LimiterStub {
  check(call: LimitCall, cost?: number): Promise<Decision>;
  lease(call: LimitCall, want: number): Promise<LeaseResult>;
}

export interface LimiterNamespace {
  idFromName(name: string): unknown;
  get(id: never): unknown;
}

export interface LimiterPolicy {
  name: string;
  spec: LimitSpec;
  algorithm: AlgorithmName;
  mitigationMs: number;
  mode: "exact" | "approximate";
  /** Tokens per lease in approximate mode. */
  lease: number;
  leaseTtlMs: number;
  deadlineMs: number;
  onError: "allow" | "deny";
}

export interface LimitOutcome {
  decision: Decision;
  /** How the decision was reached: object call, local lease, cached refusal, or the on_error fallback. */
  source: "object" | "lease" | "cached-refusal" | "error";
  error?: string;
}

interface Lease {
  tokens: number;
  expiresAt: number;
  remainingAtLease: number;
  resetAt: number;
}

export class LimiterClient {
  readonly #ns: LimiterNamespace;
  readonly #refusals = new Map<string, { until: number; at: number; decision: Decision }>();
  readonly #leases = new Map<string, Lease>();
  /** Lease fetches in flight, by key: when each started. */
  readonly #inflight = new Map<string, { at: number }>();
  /** Counters for metrics and tests. */
  readonly stats = { objectCalls: 0, errors: 0, localDecisions: 0 };

  constructor(ns: LimiterNamespace) {
    this.#ns = ns;
  }

  limit(policy: LimiterPolicy, key: string, now = Date.now()): Promise<LimitOutcome> {
    return this.#decide(policy, `${policy.name}\u0000${key}`, now);
  }

  async #decide(policy: LimiterPolicy, id: string, now: number): Promise<LimitOutcome> {
    const refused = this.#refusals.get(id);
    if (refused) {
      if (refused.until > now) {
        this.stats.localDecisions++;
        const wait = refused.until - now;
        return {
          source: "cached-refusal",
          decision: {
            ...refused.decision,
            retryAfterMs: wait,
            resetMs: Math.max(wait, refused.decision.resetMs - (now - refused.at)),
          },
        };
      }
      this.#refusals.delete(id);
    }
    if (policy.mode === "approximate") return this.#fromLease(policy, id, now);
    const outcome = await this.#call(policy, id, (stub, call) => stub.check(call));
    this.#remember(id, outcome, now);
    return outcome;
  }

  async #fromLease(policy: LimiterPolicy, id: string, now: number): Promise<LimitOutcome> {
    const lease = this.#leases.get(id);
    if (lease && lease.tokens > 0 && lease.expiresAt > now) {
      lease.tokens--;
      this.stats.localDecisions++;
      return {
        source: "lease",
        decision: {
          allowed: true,
          remaining: lease.tokens + lease.remainingAtLease,
          resetMs: Math.max(0, lease.resetAt - now),
          retryAfterMs: 0,
        },
      };
    }
    // Requests that arrive while a lease is being fetched wait for it rather than each calling the object. They
    // poll on timers of their own: a promise of the fetching request, or one it resolves, is not safe to wait
    // on across requests (current workerd runs the waiter on in the other request's I/O context and fails its
    // response, "Cannot perform I/O on behalf of a different request"; older ones cancel it as hung). A fetch
    // that never ends (its request was cancelled) stops being waited for after the deadline.
    const pending = this.#inflight.get(id);
    if (pending && now - pending.at < policy.deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
      return this.#decide(policy, id, Date.now());
    }
    const mine = { at: now };
    this.#inflight.set(id, mine);
    const p = this.#call(policy, id, async (stub, call) => {
      const r = await stub.lease(call, policy.lease);
      if (r.granted > 0) {
        this.#leases.set(id, {
          tokens: r.granted - 1,
          expiresAt: Date.now() + policy.leaseTtlMs,
          remainingAtLease: r.decision.remaining,
          resetAt: Date.now() + r.decision.resetMs,
        });
      } else {
        this.#leases.delete(id);
      }
      return { ...r.decision, remaining: r.decision.remaining + Math.max(0, r.granted - 1) };
    });
    try {
      const outcome = await p;
      this.#remember(id, outcome, now);
      return outcome;
    } finally {
      if (this.#inflight.get(id) === mine) this.#inflight.delete(id);
    }
  }

  async #call(
    policy: LimiterPolicy,
    id: string,
    ask: (stub: LimiterStub, call: LimitCall) => Promise<Decision>,
  ): Promise<LimitOutcome> {
    const call: LimitCall = {
      spec: policy.spec,
      algorithm: policy.algorithm,
      mitigationMs: policy.mitigationMs,
    };
    this.stats.objectCalls++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const stub = this.#ns.get(this.#ns.idFromName(id) as never) as LimiterStub;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${policy.deadlineMs}ms`)),
          policy.deadlineMs,
        );
      });
      const decision = await Promise.race([ask(stub, call), deadline]);
      return { source: "object", decision };
    } catch (e) {
      this.stats.errors++;
      const allowed = policy.onError === "allow";
      return {
        source: "error",
        error: (e as Error)?.message ?? String(e),
        decision: { allowed, remaining: 0, resetMs: 0, retryAfterMs: allowed ? 0 : 1000 },
      };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  #remember(id: string, outcome: LimitOutcome, now: number): void {
    const d = outcome.decision;
    if (outcome.source === "object" && !d.allowed && d.retryAfterMs > 0) {
      this.#refusals.set(id, { until: now + d.retryAfterMs, at: now, decision: d });
      if (this.#refusals.size > MAX_CACHED) {
        const oldest = this.#refusals.keys().next().value;
        if (oldest !== undefined) this.#refusals.delete(oldest);
      }
    }
  }
}

const MAX_CACHED = 10_000;
/** How often a request waiting for another's lease fetch looks again. */
const LEASE_POLL_MS = 1;

// The isolate's side of rate limiting: asks the RateLimiter object for a decision (exact mode) or spends tokens
// leased from it (approximate mode), within a deadline, failing open or closed as the policy says.
//
// Exact mode: one object call per admitted request. A refusal is cached in the isolate until its Retry-After,
// which is still exact (nothing can be admitted before then) and spares the object during a flood.
// Approximate mode: the isolate leases tokens and spends them locally. When a key's lease falls to its
// low-water mark (a quarter of the lease), the next lease is fetched in the background (waitUntil) while the
// rest is spent, so in steady state no request waits for the object; a request waits only when its key is new
// to the isolate, its lease expired, or it ran out before the refill came back. A key whose lease keeps running
// out within half its lifetime gets larger leases (doubling, up to a tenth of the limit; an explicit lease_size
// is kept as it is), so a busy key costs about one object call per lease, not per request.
// Leases expire after `leaseTtlMs`; tokens an isolate holds are counted by the object when leased, so in any
// window a key can get at most (isolates × (lease + low-water mark)) more than exact mode would admit.
//
// The isolate's maps (leases, cached refusals, fetches in flight) hold at most MAX_KEYS keys each: an entry is
// dropped when it expires or, when a map is full, the least recently used one, so a flood of distinct keys
// (say one per client IP) cannot grow the isolate's memory without bound.
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
  /** Tokens per lease in approximate mode (the first lease of a key, and the smallest). */
  lease: number;
  /** Largest lease a busy key grows to (equal to `lease` when lease_size fixes it). */
  leaseMax: number;
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
  /** Tokens asked for per lease (adaptive unless the policy fixes it). */
  size: number;
  /** When the current lease was granted, to tell a lease that ran out quickly. */
  grantedAt: number;
  /** A background refill is on its way. */
  refilling: boolean;
}

/** Where background work goes: ctx.waitUntil, or nothing (the promise runs on its own). */
export type Background = ((p: Promise<unknown>) => void) | undefined;

/** Keys kept per map and isolate (leases, refusals, fetches in flight). */
export const MAX_KEYS = 10_000;
/** How often a request waiting for another's lease fetch looks again. */
const LEASE_POLL_MS = 1;

/** A Map used as an LRU: a read moves the key to the back, an insert past `max` drops the front. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.#map.delete(key);
    this.#map.set(key, v);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}

export class LimiterClient {
  readonly #ns: LimiterNamespace;
  readonly #refusals = new Lru<{ until: number; at: number; decision: Decision }>(MAX_KEYS);
  readonly #leases = new Lru<Lease>(MAX_KEYS);
  /** Lease fetches a request waits for, by key: when each started. */
  readonly #inflight = new Lru<{ at: number }>(MAX_KEYS);
  /** Counters for metrics and tests. */
  readonly stats = { objectCalls: 0, errors: 0, localDecisions: 0, waits: 0, backgroundRefills: 0 };

  constructor(ns: LimiterNamespace) {
    this.#ns = ns;
  }

  /** How many keys each map holds (tests check that they stay bounded). */
  sizes(): { leases: number; refusals: number; inflight: number } {
    return { leases: this.#leases.size, refusals: this.#refusals.size, inflight: this.#inflight.size };
  }

  /**
   * The decision for one request under `key`. Synchronous when the isolate decides alone (a cached refusal, or
   * a token from a live lease: the steady state of approximate mode), so such a request pays for no promise.
   */
  limit(
    policy: LimiterPolicy,
    key: string,
    now = Date.now(),
    background?: Background,
  ): LimitOutcome | Promise<LimitOutcome> {
    return this.#decide(policy, `${policy.name}\u0000${key}`, now, background);
  }

  #decide(
    policy: LimiterPolicy,
    id: string,
    now: number,
    background: Background,
  ): LimitOutcome | Promise<LimitOutcome> {
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
    if (policy.mode === "approximate") return this.#fromLease(policy, id, now, background);
    return this.#exact(policy, id, now);
  }

  async #exact(policy: LimiterPolicy, id: string, now: number): Promise<LimitOutcome> {
    const outcome = await this.#call(policy, id, (stub, call) => stub.check(call));
    this.#remember(id, outcome, now);
    return outcome;
  }

  #fromLease(
    policy: LimiterPolicy,
    id: string,
    now: number,
    background: Background,
  ): LimitOutcome | Promise<LimitOutcome> {
    const lease = this.#leases.get(id);
    if (lease && lease.tokens > 0 && lease.expiresAt > now) {
      lease.tokens--;
      this.stats.localDecisions++;
      // Refilled at a quarter of its tokens, or of its lifetime: a key in use never finds its lease expired.
      if (
        !lease.refilling &&
        (lease.tokens <= lease.size >> 2 || lease.expiresAt - now <= policy.leaseTtlMs >> 2)
      )
        this.#refill(policy, id, lease, now, background);
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
    return this.#leaseOrWait(policy, id, now, background, lease);
  }

  /** No token at hand: wait for a lease fetch in flight, or fetch one. */
  async #leaseOrWait(
    policy: LimiterPolicy,
    id: string,
    now: number,
    background: Background,
    lease: Lease | undefined,
  ): Promise<LimitOutcome> {
    // Requests that arrive while a lease is being fetched wait for it rather than each calling the object. They
    // poll on timers of their own: a promise of the fetching request, or one it resolves, is not safe to wait
    // on across requests (current workerd runs the waiter on in the other request's I/O context and fails its
    // response, "Cannot perform I/O on behalf of a different request"; older ones cancel it as hung). A fetch
    // that never ends (its request was cancelled) stops being waited for after the deadline.
    const pending = this.#inflight.get(id);
    if (pending && now - pending.at < policy.deadlineMs) {
      this.stats.waits++;
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
      return this.#decide(policy, id, Date.now(), background);
    }
    const mine = { at: now };
    this.#inflight.set(id, mine);
    const size = lease ? this.#nextSize(policy, lease, now) : policy.lease;
    try {
      const outcome = await this.#call(policy, id, async (stub, call) => {
        const r = await stub.lease(call, size);
        if (r.granted > 0) this.#leases.set(id, this.#newLease(policy, r, r.granted - 1, size));
        else this.#leases.delete(id);
        return { ...r.decision, remaining: r.decision.remaining + Math.max(0, r.granted - 1) };
      });
      this.#remember(id, outcome, now);
      return outcome;
    } finally {
      if (this.#inflight.get(id) === mine) this.#inflight.delete(id);
    }
  }

  #newLease(policy: LimiterPolicy, r: LeaseResult, tokens: number, size: number): Lease {
    const at = Date.now();
    return {
      tokens,
      expiresAt: at + policy.leaseTtlMs,
      remainingAtLease: r.decision.remaining,
      resetAt: at + r.decision.resetMs,
      size,
      grantedAt: at,
      refilling: false,
    };
  }

  /** The next lease's size: doubled when this one ran out within half its lifetime, up to the policy's cap. */
  #nextSize(policy: LimiterPolicy, lease: Lease, now: number): number {
    if (policy.leaseMax <= policy.lease) return policy.lease;
    const quick = now - lease.grantedAt < policy.leaseTtlMs / 2;
    return quick ? Math.min(policy.leaseMax, lease.size * 2) : Math.max(policy.lease, lease.size >> 1);
  }

  /** Tops the lease up in the background; the request that noticed the low-water mark does not wait. */
  #refill(policy: LimiterPolicy, id: string, lease: Lease, now: number, background: Background): void {
    lease.refilling = true;
    this.stats.backgroundRefills++;
    // Requests that find the lease empty before the refill lands wait for it, as for any fetch in flight.
    const mine = { at: now };
    this.#inflight.set(id, mine);
    const size = this.#nextSize(policy, lease, now);
    const p = this.#call(policy, id, async (stub, call) => {
      const r = await stub.lease(call, size);
      const current = this.#leases.get(id);
      if (r.granted > 0) {
        const fresh = this.#newLease(policy, r, r.granted, size);
        // Tokens still held keep counting, up to a quarter of a lease (what a low-water refill leaves; a lease
        // refilled for its age may hold more, and carrying all of it would loosen approximate mode's bound).
        if (current && current.expiresAt > Date.now())
          fresh.tokens += Math.min(current.tokens, current.size >> 2);
        this.#leases.set(id, fresh);
      } else if (current) {
        current.refilling = false;
      }
      return r.decision;
    }).then((outcome) => {
      if (this.#inflight.get(id) === mine) this.#inflight.delete(id);
      // A refusal the object gave (the limit is reached) is remembered as an exact-mode one would be.
      if (outcome.source === "object") this.#remember(id, outcome, Date.now());
      else if (lease === this.#leases.get(id)) lease.refilling = false;
    });
    if (background) background(p);
    else void p;
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
    }
  }
}

// The isolate's view of a service's shared health (HealthChecker object): a snapshot refreshed in the
// background at most every CACHE_MS, so requests read a local copy and never wait on the object. Before the
// first snapshot arrives every backend counts as up (a fresh isolate serves at once, as the sidecar does).
// The refresh is a sync() call, which also keeps the object's alarm armed while the service gets traffic.
import type { OperatorState } from "../../../core/health/operator.ts";
import type { HealthChecker, HealthSnapshot } from "./health-object.ts";
import type { HealthSpec } from "./health-spec.ts";

/** Longest a snapshot is used before a refresh is started (shorter for faster check intervals). */
export const CACHE_MS = 2000;

export interface HealthNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<HealthChecker>;
}

/** Where background work goes: ctx.waitUntil when there is an execution context. */
export type Background = (p: Promise<unknown>) => void;

export class SharedHealth {
  readonly spec: HealthSpec;
  readonly ttlMs: number;
  #snapshot: HealthSnapshot | undefined;
  #fetchedAt = -Infinity;
  #inflight: Promise<void> | undefined;
  /** Object calls made, for tests and the admin view. */
  calls = 0;

  constructor(spec: HealthSpec) {
    this.spec = spec;
    this.ttlMs = Math.min(CACHE_MS, spec.check?.intervalMs ?? CACHE_MS);
  }

  get snapshot(): HealthSnapshot | undefined {
    return this.#snapshot;
  }

  /** Starts a background refresh when the snapshot is older than the ttl; never waits for it. */
  refresh(ns: HealthNamespace | undefined, now: number, background: Background): void {
    if (!ns || this.#inflight || now - this.#fetchedAt < this.ttlMs) return;
    this.#fetchedAt = now;
    this.#inflight = this.#call(ns, (stub) => stub.sync(this.spec)).finally(() => {
      this.#inflight = undefined;
    });
    background(this.#inflight);
  }

  /** Tells the object (and so every isolate) that this isolate ejected a backend. */
  report(
    ns: HealthNamespace | undefined,
    backend: string,
    until: number,
    reason: string,
    background: Background,
  ) {
    if (!ns) return;
    background(this.#call(ns, (stub) => stub.report(backend, until, reason)));
  }

  /** Whether the last snapshot says the backend passes its active checks (true when unknown). */
  up(backend: string): boolean {
    return this.#snapshot?.backends[backend]?.healthy ?? true;
  }

  /** The operator state the last snapshot gives the backend (ready when unknown). */
  operator(backend: string): OperatorState {
    return this.#snapshot?.operator?.[backend]?.state ?? "ready";
  }

  /** A snapshot the admin API got from the object itself (after an operator action): used at once here. */
  adopt(snapshot: HealthSnapshot, now: number): void {
    this.#snapshot = snapshot;
    this.#fetchedAt = now;
  }

  /** Until when another isolate's ejection of the backend lasts (0: none known). */
  ejectedUntil(backend: string): number {
    return this.#snapshot?.ejections[backend]?.until ?? 0;
  }

  async #call(
    ns: HealthNamespace,
    ask: (stub: DurableObjectStub<HealthChecker>) => Promise<HealthSnapshot>,
  ): Promise<void> {
    this.calls++;
    try {
      // A fresh stub per call: a stub belongs to the request that made it, and refreshes outlive requests.
      const snap = await ask(ns.get(ns.idFromName(this.spec.service)));
      this.#snapshot = snap;
    } catch (e) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "health state unavailable; keeping the last known",
          service: this.spec.service,
          error: e instanceof Error ? e.message : String(e),
        }),
      );
    }
  }
}

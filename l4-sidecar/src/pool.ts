// A TCP service at run time: its backends with their live state, and the selector that picks among them.
// Backend state is keyed by service and address and survives reloads, so open-connection counts, health and
// ejections carry over; a new config only brings a new selector and new settings.
import { isIP } from "node:net";
import { createSelector, type Selector } from "../../core/balance/index.ts";
import { parseHostPort } from "../../core/config/address.ts";
import type { Service } from "../../core/config/index.ts";
import { type PassiveHealth, passiveOf } from "../../core/config/schema/health.ts";
import {
  type Ejection,
  ejection,
  ejectionCap,
  inPanic,
  type OperatorState,
  takesNew,
} from "../../core/health/index.ts";

export type ConnectFailure = "refused" | "timeout" | "failed";

export class BackendState {
  readonly service: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** 4 or 6 for an IP address, 0 for a name resolved at each connect. */
  readonly family: number;
  #active = 0;
  /** Most connections open at once (HAProxy's smax). */
  maxActive = 0;
  /** Connections that reached this backend. */
  total = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly connectErrors: Record<ConnectFailure, number> = { refused: 0, timeout: 0, failed: 0 };
  /** Result of active health checks (always true without checks). */
  healthy = true;
  /** When `healthy` last changed (ms since epoch; the state's creation at first). */
  healthySince = Date.now();
  /** Active health probes run against this backend. */
  checks = 0;
  /** The last probe's outcome and when it ended (ms since epoch). */
  lastCheck?: { ok: boolean; at: number };
  /** Passive ejection after consecutive connect failures; undefined when the service has none configured. */
  ejection?: Ejection;
  ejectionKey = "";
  /** Times passive health ejected this backend, and when it last did (ms since epoch). */
  ejections = 0;
  ejectedAt = 0;
  /** Set at run time through the admin endpoint; in memory, so it survives reloads but not a restart. */
  operator: OperatorState = "ready";
  operatorSince = Date.now();

  constructor(service: string, address: string) {
    this.service = service;
    this.address = address;
    const hp = parseHostPort(address)!;
    this.host = hp.host;
    this.port = hp.port;
    this.family = isIP(hp.host);
  }

  /** Open connections through this backend right now (including connects in progress). */
  get active(): number {
    return this.#active;
  }
  set active(n: number) {
    this.#active = n;
    if (n > this.maxActive) this.maxActive = n;
  }

  setOperator(state: OperatorState, now = Date.now()): void {
    if (state === this.operator) return;
    this.operator = state;
    this.operatorSince = now;
  }

  /** Up: passing active checks and not ejected (the operator state aside). */
  available(now: number): boolean {
    return this.healthy && !(this.ejection?.ejected(now) ?? false);
  }
}

export interface PoolBackend {
  state: BackendState;
  weight: number;
  maxConnections?: number;
}

export class ServicePool {
  readonly name: string;
  readonly service: Service;
  readonly backends: readonly PoolBackend[];
  private readonly selector: Selector;
  /** Passive health as in the worker: the service's table, the defaults without one, none for `passive = false`. */
  readonly passive: PassiveHealth | undefined;
  /** Panic mode at the last pick (see pick), and who hears when it changes. */
  panic = false;
  onPanic?: (panic: boolean, usable: number, ready: number) => void;

  /** `states` is the service's persistent address → state map; entries are created as needed. */
  constructor(service: Service, states: Map<string, BackendState>) {
    this.name = service.name;
    this.service = service;
    const passive = passiveOf(service);
    this.passive = passive;
    const passiveKey = passive ? `${passive.failures}/${passive.eject}` : "";
    this.backends = service.backends.map((b) => {
      const address = b.address!;
      let state = states.get(address);
      if (!state) {
        state = new BackendState(service.name, address);
        states.set(address, state);
      }
      if (state.ejectionKey !== passiveKey) {
        state.ejectionKey = passiveKey;
        state.ejection = passive
          ? ejection({ failures: passive.failures, ejectMs: passive.eject })
          : undefined;
      }
      if (!service.health) state.healthy = true;
      return { state, weight: b.weight, ...(b.max_connections ? { maxConnections: b.max_connections } : {}) };
    });
    const states_ = this.backends.map((b) => b.state);
    this.selector = createSelector(
      service.balance,
      this.backends.map((b) => b.weight),
      { ids: states_.map((s) => s.address), load: (i) => states_[i]!.active },
    );
  }

  /**
   * Picks a backend for a new connection: in the ready operator state, available, not in `tried` and below its
   * max_connections; undefined when none is left. In panic (fewer than panic_threshold percent of the ready
   * backends available, as in the worker) availability is ignored: health is more likely wrong than most
   * backends dead, and a failed connect still fails over.
   */
  pick(key: string | undefined, tried: ReadonlySet<number>, now: number): number | undefined {
    const panic = this.inPanic(now);
    return this.selector.select(key, (i) => {
      if (tried.has(i)) return false;
      const b = this.backends[i]!;
      if (!takesNew(b.state.operator)) return false;
      if (b.maxConnections !== undefined && b.state.active >= b.maxConnections) return false;
      return panic || b.state.available(now);
    });
  }

  /** Whether the pool is in panic mode at `now`; calls onPanic when that changes. */
  inPanic(now: number): boolean {
    let ready = 0;
    let usable = 0;
    for (const b of this.backends) {
      if (!takesNew(b.state.operator)) continue;
      ready++;
      if (b.state.available(now)) usable++;
    }
    const panic = inPanic(usable, ready, this.service.panic_threshold);
    if (panic !== this.panic) {
      this.panic = panic;
      this.onPanic?.(panic, usable, ready);
    }
    return panic;
  }

  private ejectedCount(now: number): number {
    let n = 0;
    for (const b of this.backends) if (b.state.ejection?.ejected(now)) n++;
    return n;
  }

  started(i: number): void {
    this.backends[i]!.state.active++;
    this.selector.onStart?.(i);
  }

  ended(i: number): void {
    this.backends[i]!.state.active--;
    this.selector.onEnd?.(i);
  }

  /** Feeds a connect outcome to passive health; true when it ejected the backend. */
  connectResult(i: number, failure: ConnectFailure | undefined, now: number): boolean {
    const state = this.backends[i]!.state;
    if (failure) state.connectErrors[failure]++;
    else state.total++;
    const passive = this.passive;
    // Only a failure can eject: a success does not count the ejected backends.
    const room =
      !failure ||
      !passive ||
      this.ejectedCount(now) < ejectionCap(this.backends.length, passive.max_ejection_percent);
    const ejected = state.ejection?.observe(failure === undefined, now, room) ?? false;
    if (ejected) {
      state.ejections++;
      state.ejectedAt = now;
    }
    return ejected;
  }
}

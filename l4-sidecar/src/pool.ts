// A TCP service at run time: its backends with their live state, and the selector that picks among them.
// Backend state is keyed by address and survives reloads, so active counts and health carry over.
import { createSelector, type Selector } from "../../core/balance/index.ts";
import { parseHostPort } from "../../core/config/address.ts";
import type { Service } from "../../core/config/index.ts";

export class BackendState {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Open connections through this backend right now. */
  active = 0;
  constructor(address: string) {
    this.address = address;
    const hp = parseHostPort(address)!;
    this.host = hp.host;
    this.port = hp.port;
  }
}

export interface PoolBackend {
  state: BackendState;
  weight: number;
}

export class ServicePool {
  readonly name: string;
  readonly backends: readonly PoolBackend[];
  private readonly selector: Selector;

  constructor(service: Service, states: Map<string, BackendState>) {
    this.name = service.name;
    this.backends = service.backends.map((b) => {
      const address = b.address!;
      let state = states.get(address);
      if (!state) {
        state = new BackendState(address);
        states.set(address, state);
      }
      return { state, weight: b.weight };
    });
    this.selector = createSelector(
      service.balance,
      this.backends.map((b) => b.weight),
    );
  }

  /** Picks a backend not in `tried`; undefined when none is left. */
  pick(key: string | undefined, tried: ReadonlySet<number>): number | undefined {
    return this.selector.select(key, (i) => !tried.has(i));
  }

  started(i: number): void {
    this.backends[i]!.state.active++;
    this.selector.onStart?.(i);
  }

  ended(i: number): void {
    this.backends[i]!.state.active--;
    this.selector.onEnd?.(i);
  }
}

// Plain counters the data path bumps (cheap: no label lookups per chunk); metrics and /status read them.

export type RefuseReason = "max_connections" | "denied" | "no_backend" | "prelude_limit" | "untrusted_proxy";

export class ListenerStats {
  #active = 0;
  /** Most connections open at once (HAProxy's smax). */
  max = 0;
  total = 0;
  bytesIn = 0;
  bytesOut = 0;
  idleTimeouts = 0;
  readonly refused: Record<RefuseReason, number> = {
    max_connections: 0,
    denied: 0,
    no_backend: 0,
    prelude_limit: 0,
    untrusted_proxy: 0,
  };

  get active(): number {
    return this.#active;
  }
  set active(n: number) {
    this.#active = n;
    if (n > this.max) this.max = n;
  }
}

// One interface for every backend-selection algorithm (like Hono's Router { add, match }), so the worker and
// the sidecar use the same balancers and one shared test suite checks them all.

export interface Selector {
  /**
   * The index of the chosen backend, or undefined when `accept` refuses every candidate.
   * `key` feeds hash-based algorithms (client IP, cookie); others ignore it. `accept` lets the caller add
   * "healthy" and "not tried yet in this request" on top of the algorithm's own choice.
   */
  select(key: string | undefined, accept: (index: number) => boolean): number | undefined;
  /** Connection/request accounting for load-aware algorithms; a no-op for the others. */
  onStart?(index: number): void;
  onEnd?(index: number): void;
}

export type SelectorFactory = (weights: readonly number[]) => Selector;

// One interface for every backend-selection algorithm (like Hono's Router { add, match }), so the worker and
// the sidecar use the same balancers and one shared test suite checks them all.

export interface Selector {
  /**
   * The index of the chosen backend, or undefined when `accept` refuses every candidate.
   * `key` feeds hash-based algorithms (client IP, cookie); others ignore it. `accept` lets the caller add
   * "healthy" and "not tried yet in this request" on top of the algorithm's own choice.
   * Backends with weight 0 are never chosen (they are drained).
   */
  select(key: string | undefined, accept: (index: number) => boolean): number | undefined;
  /** Connection/request accounting for load-aware algorithms; a no-op for the others. */
  onStart?(index: number): void;
  onEnd?(index: number): void;
}

export interface SelectorOptions {
  /**
   * Stable identities of the backends (e.g. their addresses), in index order. Hash-based algorithms place
   * backends by identity, so a key keeps its backend when other backends are added, removed or reordered.
   * Defaults to the index.
   */
  ids?: readonly string[];
  /** Source of randomness in [0, 1) for random, weighted, p2c and keyless hashing; defaults to Math.random. */
  random?: () => number;
  /**
   * Current load of a backend (open connections, in-flight requests) kept by the caller. When given,
   * load-aware algorithms read it instead of counting onStart/onEnd themselves, so counts survive a reload.
   */
  load?: (index: number) => number;
}

export type SelectorFactory = (weights: readonly number[], options?: SelectorOptions) => Selector;

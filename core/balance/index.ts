// Balancer registry: algorithm name (the config's `balance`) → selector factory.
import { leastConnections } from "./least-connections.ts";
import { maglev } from "./maglev.ts";
import { powerOfTwo } from "./p2c.ts";
import { random, weightedRandom } from "./random.ts";
import { ringHash } from "./ring-hash.ts";
import { roundRobin } from "./round-robin.ts";
import type { SelectorFactory, SelectorOptions } from "./selector.ts";

export const SELECTORS: Record<string, SelectorFactory> = {
  "round-robin": roundRobin,
  weighted: weightedRandom,
  random,
  // One algorithm, two names: the sidecar counts open connections, the worker in-flight requests.
  "least-connections": leastConnections,
  "least-request": leastConnections,
  p2c: powerOfTwo,
  maglev,
  "ring-hash": ringHash,
};

/** Algorithms that use the `key` argument of select (client IP, header, cookie). */
export const HASH_ALGORITHMS: ReadonlySet<string> = new Set(["maglev", "ring-hash"]);

export function createSelector(algorithm: string, weights: readonly number[], options?: SelectorOptions) {
  const factory = SELECTORS[algorithm];
  if (!factory) throw new Error(`unknown balance algorithm "${algorithm}"`);
  return factory(weights, options);
}

export { hash32 } from "./hash.ts";
export { leastConnections } from "./least-connections.ts";
export { buildMaglevTable, maglev } from "./maglev.ts";
export { powerOfTwo } from "./p2c.ts";
export { random, weightedRandom } from "./random.ts";
export { ringHash } from "./ring-hash.ts";
export { roundRobin } from "./round-robin.ts";
export type { Selector, SelectorFactory, SelectorOptions } from "./selector.ts";

// Balancer registry: algorithm name (the config's `balance`) → selector factory.
import { roundRobin } from "./round-robin.ts";
import type { SelectorFactory } from "./selector.ts";

export const SELECTORS: Record<string, SelectorFactory> = {
  "round-robin": roundRobin,
};

export function createSelector(algorithm: string, weights: readonly number[]) {
  const factory = SELECTORS[algorithm];
  if (!factory) throw new Error(`unknown balance algorithm "${algorithm}"`);
  return factory(weights);
}

export { roundRobin } from "./round-robin.ts";
export type { Selector, SelectorFactory } from "./selector.ts";

// Random choices: `random` picks uniformly among accepted backends (weights only drain at 0); `weighted` picks
// each backend with probability proportional to its weight. Both are stateless, so many balancers sharing
// nothing (isolates, sidecar workers) still spread load evenly on average.
import type { Selector, SelectorOptions } from "./selector.ts";

export function random(weights: readonly number[], options: SelectorOptions = {}): Selector {
  return randomBy(weights, (w) => (w > 0 ? 1 : 0), options.random ?? Math.random);
}

export function weightedRandom(weights: readonly number[], options: SelectorOptions = {}): Selector {
  return randomBy(weights, (w) => Math.max(0, w), options.random ?? Math.random);
}

function randomBy(weights: readonly number[], share: (w: number) => number, rnd: () => number): Selector {
  const shares = weights.map(share);
  const candidates: number[] = [];
  return {
    select(_key, accept) {
      candidates.length = 0;
      let total = 0;
      for (let i = 0; i < shares.length; i++) {
        if (shares[i]! > 0 && accept(i)) {
          candidates.push(i);
          total += shares[i]!;
        }
      }
      if (candidates.length === 0) return undefined;
      let r = rnd() * total;
      for (const i of candidates) {
        r -= shares[i]!;
        if (r < 0) return i;
      }
      return candidates[candidates.length - 1];
    },
  };
}

// Least connections (the sidecar) / least request (the worker): the accepted backend with the lowest
// load ÷ weight. Ties rotate, so an idle pool is walked round-robin instead of always starting at backend 0.
import { loadTracker } from "./load.ts";
import type { Selector, SelectorOptions } from "./selector.ts";

export function leastConnections(weights: readonly number[], options: SelectorOptions = {}): Selector {
  const tracker = loadTracker(weights.length, options);
  const n = weights.length;
  let start = 0;
  return {
    select(_key, accept) {
      let best = -1;
      let bestScore = Number.POSITIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        const i = (start + k) % n;
        const w = weights[i]!;
        if (w <= 0 || !accept(i)) continue;
        const score = tracker.load(i) / w;
        if (score < bestScore) {
          best = i;
          bestScore = score;
        }
      }
      if (best === -1) return undefined;
      start = (best + 1) % n;
      return best;
    },
    onStart: tracker.onStart,
    onEnd: tracker.onEnd,
  };
}

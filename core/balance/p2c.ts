// Power of two choices: sample two distinct accepted backends (by weight) and take the one with the lower
// load ÷ weight. Nearly as good as least-connections, without herding when many balancers share stale counts.
import { loadTracker } from "./load.ts";
import type { Selector, SelectorOptions } from "./selector.ts";

export function powerOfTwo(weights: readonly number[], options: SelectorOptions = {}): Selector {
  const tracker = loadTracker(weights.length, options);
  const rnd = options.random ?? Math.random;
  const candidates: number[] = [];
  const pickWeighted = (total: number, skip: number): number => {
    let r = rnd() * total;
    for (const i of candidates) {
      if (i === skip) continue;
      r -= weights[i]!;
      if (r < 0) return i;
    }
    for (let k = candidates.length - 1; k >= 0; k--) if (candidates[k] !== skip) return candidates[k]!;
    return skip;
  };
  return {
    select(_key, accept) {
      candidates.length = 0;
      let total = 0;
      for (let i = 0; i < weights.length; i++) {
        if (weights[i]! > 0 && accept(i)) {
          candidates.push(i);
          total += weights[i]!;
        }
      }
      if (candidates.length === 0) return undefined;
      if (candidates.length === 1) return candidates[0];
      const a = pickWeighted(total, -1);
      const b = pickWeighted(total - weights[a]!, a);
      return tracker.load(b) / weights[b]! < tracker.load(a) / weights[a]! ? b : a;
    },
    onStart: tracker.onStart,
    onEnd: tracker.onEnd,
  };
}

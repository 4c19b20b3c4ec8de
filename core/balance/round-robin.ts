// Smooth weighted round-robin (nginx's algorithm): weights 5,1,1 give a,a,b,a,c,a,a rather than a,a,a,a,a,b,c.
// Refused backends are left out of the round, as nginx skips down peers, so the rest keep their proportions.
import type { Selector } from "./selector.ts";

export function roundRobin(weights: readonly number[]): Selector {
  const current = new Array<number>(weights.length).fill(0);
  return {
    select(_key, accept) {
      let best = -1;
      let total = 0;
      for (let i = 0; i < weights.length; i++) {
        const w = weights[i]!;
        if (w <= 0 || !accept(i)) continue;
        current[i]! += w;
        total += w;
        if (best === -1 || current[i]! > current[best]!) best = i;
      }
      if (best === -1) return undefined;
      current[best]! -= total;
      return best;
    },
  };
}

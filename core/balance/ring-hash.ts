// Ring hash (Karger's consistent hashing, as Envoy's ring_hash): each backend owns points on a 32-bit ring in
// proportion to its weight; a key goes to the first point clockwise of its hash. Removing a backend moves only
// its own keys. Refused backends are passed over clockwise, so a key's fallback order is fixed.
import { hash32, keyOrRandom } from "./hash.ts";
import type { Selector, SelectorOptions } from "./selector.ts";

/**
 * Points per unit of weight. A backend's points depend only on its own weight (not on the others'), so adding
 * or removing a backend moves only that backend's keys; the ring is capped at RING_MAX_POINTS, past which
 * points are scaled down for everyone (then keys may move a little on such changes).
 */
export const RING_POINTS_PER_WEIGHT = 160;
export const RING_MAX_POINTS = 160_000;

export function ringHash(weights: readonly number[], options: SelectorOptions = {}): Selector {
  const ids = options.ids ?? weights.map((_, i) => String(i));
  const rnd = options.random ?? Math.random;
  const totalW = weights.reduce((a, w) => a + Math.max(0, w), 0);
  const live = weights.filter((w) => w > 0).length;
  const perWeight = Math.min(RING_POINTS_PER_WEIGHT, RING_MAX_POINTS / Math.max(1, totalW));
  const points: { h: number; i: number }[] = [];
  weights.forEach((w, i) => {
    if (w <= 0) return;
    const count = Math.max(1, Math.round(perWeight * w));
    for (let r = 0; r < count; r++) points.push({ h: hash32(`${ids[i]}#${r}`), i });
  });
  points.sort((a, b) => a.h - b.h || a.i - b.i);
  const hashes = Uint32Array.from(points, (p) => p.h);
  const owners = Int32Array.from(points, (p) => p.i);
  const seen = new Uint8Array(weights.length);

  const firstAtOrAfter = (h: number): number => {
    let lo = 0;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === hashes.length ? 0 : lo;
  };

  return {
    select(key, accept) {
      if (live === 0) return undefined;
      const start = firstAtOrAfter(keyOrRandom(key, rnd));
      seen.fill(0);
      let distinct = 0;
      for (let k = 0; k < owners.length && distinct < live; k++) {
        const i = owners[(start + k) % owners.length]!;
        if (seen[i]) continue;
        seen[i] = 1;
        distinct++;
        if (accept(i)) return i;
      }
      return undefined;
    },
  };
}

// Maglev consistent hashing (Google, NSDI 2016): a lookup table of a prime size M filled by each backend's own
// permutation, in turns proportional to its weight. A key maps to table[hash % M]: O(1) per pick, even spread,
// and few keys move when a backend comes or goes. When the key's backend is refused, the walk goes on to the
// following slots, a fixed per-key order, so every key fails over deterministically.
import { hash32, keyOrRandom } from "./hash.ts";
import type { Selector, SelectorOptions } from "./selector.ts";

/** Table size: prime, and ≫ backends so shares stay within about 1% of their weights. */
export const MAGLEV_TABLE_SIZE = 65537;

export function buildMaglevTable(
  weights: readonly number[],
  ids: readonly string[],
  size = MAGLEV_TABLE_SIZE,
): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const live = weights.map((w, i) => ({ i, w })).filter((b) => b.w > 0);
  if (live.length === 0) return table;
  const offset = live.map((b) => hash32(ids[b.i]!, 0x9e3779b9) % size);
  const skip = live.map((b) => (hash32(ids[b.i]!, 0x7f4a7c15) % (size - 1)) + 1);
  const next = new Array<number>(live.length).fill(0);
  const credit = new Array<number>(live.length).fill(0);
  const maxW = Math.max(...live.map((b) => b.w));
  let filled = 0;
  while (filled < size) {
    for (let k = 0; k < live.length && filled < size; k++) {
      // Weighted Maglev: a backend takes a slot each time its accumulated weight reaches the largest weight.
      credit[k]! += live[k]!.w;
      if (credit[k]! < maxW) continue;
      credit[k]! -= maxW;
      let slot: number;
      do {
        slot = (offset[k]! + next[k]! * skip[k]!) % size;
        next[k]!++;
      } while (table[slot] !== -1);
      table[slot] = live[k]!.i;
      filled++;
    }
  }
  return table;
}

export function maglev(weights: readonly number[], options: SelectorOptions = {}): Selector {
  const ids = options.ids ?? weights.map((_, i) => String(i));
  const rnd = options.random ?? Math.random;
  const table = buildMaglevTable(weights, ids);
  const live = weights.filter((w) => w > 0).length;
  const seen = new Uint8Array(weights.length);
  return {
    select(key, accept) {
      if (live === 0) return undefined;
      const start = keyOrRandom(key, rnd) % table.length;
      seen.fill(0);
      let distinct = 0;
      for (let k = 0; k < table.length && distinct < live; k++) {
        const i = table[(start + k) % table.length]!;
        if (seen[i]) continue;
        seen[i] = 1;
        distinct++;
        if (accept(i)) return i;
      }
      return undefined;
    },
  };
}

// The managed engine's memo of values known clean (every applicable rule ran on them and none matched), with a
// bit per request part, and the per-part bookkeeping that decides whether consulting it is worth its cost.
import type { Part } from "./managed-rules.ts";

/** Values up to this length are remembered, at most CLEAN_CACHE_SIZE of them per engine. */
export const CLEAN_MAX_LENGTH = 512;
export const CLEAN_CACHE_SIZE = 4096;

/** Each part's bit in a memo entry. */
export const PART_BIT: Record<Part, number> = {
  path: 1,
  names: 2,
  values: 4,
  cookies: 8,
  ua: 16,
  referer: 32,
  headers: 64,
};
const PARTS = Object.keys(PART_BIT).length;
/** A part's index in the per-part counters, from its bit. */
const indexOf = (bit: number) => 31 - Math.clz32(bit);

/** Lookups of a part between two decisions on whether its values repeat often enough to look them up. */
const WINDOW = 256;
/**
 * Below this share of lookups that find the value, a part's values are looked up only one time in SAMPLE.
 * A miss costs a lookup and an insertion (a copied key), a good part of what checking an ordinary value costs
 * (bench/waf.bench.ts's unseen form), so a part whose values rarely repeat (form posts of their own text) pays
 * more for the memo than it saves.
 */
const MIN_HIT_RATE = 1 / 4;
/** While a part is sampled, one value in SAMPLE (a power of two) is still looked up, so the memo notices when
 * values repeat. */
const SAMPLE = 8;

/**
 * Two generations instead of a FIFO: deleting a Map's oldest entry makes the next deletion walk past the holes
 * it left (≈ 1 µs per eviction once full, which an 8 KiB form of unique values pays ~400 times), whereas
 * dropping a whole generation is O(1). A value found in the old generation moves to the young one, so values
 * that repeat on every request (the User-Agent, cookies) stay however many unique ones pass through.
 */
export class CleanMemo {
  private young = new Map<string, number>();
  private old = new Map<string, number>();
  private readonly generation: number;
  /** Per part (by index): lookups and finds in the current window, whether the last window found few, and
   * whether the part is sampled. */
  private readonly tries = new Int32Array(PARTS);
  private readonly found = new Int32Array(PARTS);
  private readonly sampled = new Uint8Array(PARTS);
  private readonly lowBefore = new Uint8Array(PARTS);
  private tick = 0;

  constructor(size = CLEAN_CACHE_SIZE) {
    this.generation = size >> 1;
  }

  /**
   * The parts raw is known clean in, as PART_BIT bits (0: none), counting whether `bit`'s part found it; or -1
   * when the memo is not consulted for this value (too long, or its part is sampled and this one is not in the
   * sample): then it is not to be remembered either.
   */
  lookup(raw: string, bit: number): number {
    if (raw.length > CLEAN_MAX_LENGTH) return -1;
    const p = indexOf(bit);
    if (this.sampled[p] === 1 && (++this.tick & (SAMPLE - 1)) !== 0) return -1;
    let known = this.young.get(raw);
    if (known === undefined) {
      known = this.old.get(raw) ?? 0;
      if (known !== 0) this.add(raw, known);
    }
    if ((known & bit) !== 0) this.found[p]!++;
    if (++this.tries[p]! === WINDOW) this.decide(p);
    return known;
  }

  /** At the end of a part's window: sample it or look its values up in full, by how many lookups found theirs. */
  private decide(p: number): void {
    // Two low windows in a row before sampling: a fresh engine's first window misses whatever its traffic.
    const low = this.found[p]! < WINDOW * MIN_HIT_RATE;
    if (this.sampled[p] === 1) this.sampled[p] = low ? 1 : 0;
    else if (low && this.lowBefore[p] === 1) this.sampled[p] = 1;
    this.lowBefore[p] = low ? 1 : 0;
    this.tries[p] = 0;
    this.found[p] = 0;
  }

  /** Remembers raw as clean in these parts (all it is known clean in: the value replaces what was there). */
  add(raw: string, bits: number): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    // A copy as the key: a slice of the request body would keep the whole body alive (V8 sliced strings).
    this.young.set(` ${raw}`.slice(1), bits);
  }

  /** Like lookup() but without moving the entry or counting: looking does not keep it alive. */
  peek(raw: string): number {
    return this.young.get(raw) ?? this.old.get(raw) ?? 0;
  }

  /** Whether values of this part are only sampled now (they rarely repeated in the last window). */
  isSampled(part: Part): boolean {
    return this.sampled[indexOf(PART_BIT[part])] === 1;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

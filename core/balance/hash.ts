// A small, fast, well-mixed 32-bit string hash (FNV-1a over UTF-16 units, then murmur3's finaliser) for the
// hash-based balancers. Not cryptographic: keys are client IPs and cookie values, and placement only needs spread.

export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // fmix32: FNV alone leaves the low bits poorly mixed for short, similar keys ("10.0.0.1", "10.0.0.2").
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The key to hash: the caller's, or a random one so keyless requests spread instead of piling on one slot. */
export function keyOrRandom(key: string | undefined, random: () => number): number {
  return key === undefined ? Math.floor(random() * 0x100000000) >>> 0 : hash32(key);
}

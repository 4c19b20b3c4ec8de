// Panic threshold (Envoy's healthy_panic_threshold): when fewer than this share of a pool's backends is usable,
// health is probably wrong (a bad check, a correlated blip) rather than most backends being dead, so traffic is
// spread over all of them instead of crushing the few left.

/** True when `usable` of `total` backends is below `thresholdPercent` (0 turns panic mode off). */
export function inPanic(usable: number, total: number, thresholdPercent: number): boolean {
  if (thresholdPercent <= 0 || total === 0) return false;
  return (usable * 100) / total < thresholdPercent;
}

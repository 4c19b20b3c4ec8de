// Passive health (outlier ejection): after `failures` consecutive failed connections a backend is ejected for
// `ejectMs`; a success resets the count. Time is passed in, so the state machine is pure and testable.

export interface Ejection {
  /**
   * Records a connection outcome at time `now` (ms); true when this failure ejected the backend. `mayEject`
   * false (the pool's max_ejection_percent is reached) holds the ejection back: the failures stay counted and
   * the next one ejects once the pool has room.
   */
  observe(ok: boolean, now: number, mayEject?: boolean): boolean;
  /** Whether the backend is ejected at `now`. */
  ejected(now: number): boolean;
  /** When the current ejection ends (ms), or 0 when not ejected. */
  readonly until: number;
}

export interface EjectionOptions {
  failures: number;
  ejectMs: number;
}

export function ejection({ failures, ejectMs }: EjectionOptions): Ejection {
  let consecutive = 0;
  let until = 0;
  return {
    get until() {
      return until;
    },
    observe(ok, now, mayEject = true) {
      if (ok) {
        consecutive = 0;
        return false;
      }
      // Failures while ejected (connections already in flight) do not extend the ejection.
      if (now < until) return false;
      if (++consecutive < failures || !mayEject) return false;
      consecutive = 0;
      until = now + ejectMs;
      return true;
    },
    ejected(now) {
      return now < until;
    },
  };
}

/** Most backends of a pool of `size` ejected at once for `percent` (max_ejection_percent): at least one unless 0. */
export function ejectionCap(size: number, percent: number): number {
  return percent <= 0 ? 0 : Math.max(1, Math.floor((size * percent) / 100));
}

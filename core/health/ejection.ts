// Passive health (outlier ejection): after `failures` consecutive failed connections a backend is ejected for
// `ejectMs`; a success resets the count. Time is passed in, so the state machine is pure and testable.

export interface Ejection {
  /** Records a connection outcome at time `now` (ms); true when this failure ejected the backend. */
  observe(ok: boolean, now: number): boolean;
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
    observe(ok, now) {
      if (ok) {
        consecutive = 0;
        return false;
      }
      // Failures while ejected (connections already in flight) do not extend the ejection.
      if (now < until) return false;
      if (++consecutive < failures) return false;
      consecutive = 0;
      until = now + ejectMs;
      return true;
    },
    ejected(now) {
      return now < until;
    },
  };
}

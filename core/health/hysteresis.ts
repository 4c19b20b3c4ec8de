// Active-check hysteresis (as pingora's observe_health): a backend's state flips only after `rise` consecutive
// passes (down → up) or `fall` consecutive failures (up → down), so one lost probe does not flap the pool.

export interface Hysteresis {
  readonly healthy: boolean;
  /** Records one check result; true when this result flipped the state. */
  observe(ok: boolean): boolean;
}

export interface HysteresisOptions {
  /** Consecutive passes that bring a down backend up. */
  rise: number;
  /** Consecutive failures that take an up backend down. */
  fall: number;
  /** State before any check; backends start up so a fresh pool serves at once. Default true. */
  initial?: boolean;
}

export function hysteresis({ rise, fall, initial = true }: HysteresisOptions): Hysteresis {
  let healthy = initial;
  let streak = 0; // consecutive results that disagree with the current state
  return {
    get healthy() {
      return healthy;
    },
    observe(ok) {
      if (ok === healthy) {
        streak = 0;
        return false;
      }
      streak++;
      if (streak < (healthy ? fall : rise)) return false;
      healthy = ok;
      streak = 0;
      return true;
    },
  };
}

// Outlier detection for HTTP services (Envoy's model): consecutive 5xx answers or consecutive gateway failures
// (connect failure, reset, timeout, 502/503/504) eject a backend for base × times-ejected, capped, and never
// more than max_ejection_percent of the pool at once. Pure: time comes in, nothing is scheduled.
// ejection.ts stays the sidecar's simple connect-failure form; this one needs two counters, a multiplier and a
// pool-wide cap, so it is a separate machine rather than a rewrite.
import { ejectionCap } from "./ejection.ts";

/** One attempt's result as outlier detection sees it. */
export type OutlierObservation = "success" | "5xx" | "gateway-failure";

export interface OutlierOptions {
  /** Consecutive 5xx (gateway failures included) that eject; 0 turns the counter off. */
  consecutive5xx: number;
  /** Consecutive gateway failures that eject; 0 turns the counter off. */
  consecutiveGatewayFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Most backends ejected at once, as a percentage of the pool (at least one when above 0). */
  maxEjectionPercent: number;
}

export interface OutlierEjection {
  index: number;
  untilMs: number;
  /** Why, in words for the log: "5 consecutive 5xx". */
  reason: string;
}

export interface OutlierDetector {
  /** Records one attempt's result; returns the ejection it caused, if any. */
  observe(index: number, observation: OutlierObservation, now: number): OutlierEjection | undefined;
  ejected(index: number, now: number): boolean;
  /** When the backend's ejection ends (0 when it is not ejected). */
  until(index: number): number;
  ejectedCount(now: number): number;
}

interface BackendState {
  c5xx: number;
  cGateway: number;
  until: number;
  times: number;
}

export function outlierDetector(size: number, o: OutlierOptions): OutlierDetector {
  const states: BackendState[] = Array.from({ length: size }, () => ({
    c5xx: 0,
    cGateway: 0,
    until: 0,
    times: 0,
  }));
  const cap = ejectionCap(size, o.maxEjectionPercent);
  const ejectedCount = (now: number) => {
    let n = 0;
    for (const s of states) if (s.until > now) n++;
    return n;
  };

  return {
    observe(index, observation, now) {
      const s = states[index];
      if (!s) return undefined;
      // Answers to requests sent before the ejection do not count again.
      if (s.until > now) return undefined;
      if (observation === "success") {
        s.c5xx = 0;
        s.cGateway = 0;
        return undefined;
      }
      s.c5xx++;
      if (observation === "gateway-failure") s.cGateway++;
      else s.cGateway = 0;
      let reason: string | undefined;
      if (o.consecutiveGatewayFailures > 0 && s.cGateway >= o.consecutiveGatewayFailures)
        reason = `${s.cGateway} consecutive gateway failures`;
      else if (o.consecutive5xx > 0 && s.c5xx >= o.consecutive5xx) reason = `${s.c5xx} consecutive 5xx`;
      if (reason === undefined || ejectedCount(now) >= cap) return undefined;
      // The multiplier decays by one for each base period the backend spent back in the pool.
      if (s.times > 0 && s.until > 0)
        s.times = Math.max(0, s.times - Math.floor((now - s.until) / o.baseEjectionMs));
      s.times++;
      s.c5xx = 0;
      s.cGateway = 0;
      s.until = now + Math.min(o.maxEjectionMs, o.baseEjectionMs * s.times);
      return { index, untilMs: s.until, reason };
    },
    ejected: (index, now) => (states[index]?.until ?? 0) > now,
    until: (index) => states[index]?.until ?? 0,
    ejectedCount,
  };
}

// IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers-09+): `RateLimit-Policy` describes the quota,
// `RateLimit` the state of the one closest to exhaustion. Both are structured-field lists keyed by policy name.
import type { Decision, LimitSpec } from "./algorithm.ts";

export interface PolicyState {
  name: string;
  spec: LimitSpec;
  decision: Decision;
}

/** `"per-ip";q=100;w=60` per policy (quota and window in seconds), comma-separated. */
export function rateLimitPolicyHeader(states: readonly PolicyState[]): string {
  return states
    .map((s) => `${sfString(s.name)};q=${s.spec.burst};w=${Math.max(1, Math.round(s.spec.periodMs / 1000))}`)
    .join(", ");
}

/** `"per-ip";r=42;t=17` (remaining, seconds until reset) for the policy with the fewest requests left. */
export function rateLimitHeader(states: readonly PolicyState[]): string | undefined {
  if (states.length === 0) return undefined;
  let tightest = states[0]!;
  for (const s of states) if (s.decision.remaining < tightest.decision.remaining) tightest = s;
  const r = tightest.decision.allowed ? tightest.decision.remaining : 0;
  return `${sfString(tightest.name)};r=${r};t=${Math.ceil(tightest.decision.resetMs / 1000)}`;
}

/** Retry-After in whole seconds, never 0 for a refusal. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function sfString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// rate_limits from the config → compiled policies: key readers and match expressions are compiled once per
// config, by compileRuntime, so a request only evaluates closures.
import type { Config, RateLimit } from "../../../core/config/index.ts";
import { leaseSize } from "../../../core/config/schema/rate-limit.ts";
import { type CompiledExpression, compileExpression, type RequestFields } from "../../../core/rules/index.ts";
import { compileKeyExpression, type KeyFn } from "../../../core/rules/key.ts";
import type { LimiterPolicy } from "./client.ts";

export interface CompiledPolicy {
  name: string;
  policy: LimiterPolicy;
  /** The counting key of a request, or undefined when the request lacks it and there is no fallback. */
  key(fields: RequestFields): string | undefined;
  match?: CompiledExpression;
  action: "block" | "log";
  headers: boolean;
}

export function compilePolicies(config: Config): Map<string, CompiledPolicy> {
  return new Map(config.rate_limits.map((rl) => [rl.name, compilePolicy(rl)]));
}

export function compilePolicy(rl: RateLimit): CompiledPolicy {
  const ip = { ipv6Prefix: rl.ipv6_prefix, ipv4Prefix: rl.ipv4_prefix };
  const parts: KeyFn[] = (Array.isArray(rl.key) ? rl.key : [rl.key]).map((k) =>
    compileKeyExpression(k, undefined, ip),
  );
  const fallback = rl.fallback;
  const key = (fields: RequestFields): string | undefined => {
    if (parts.length === 1) return parts[0]!(fields) ?? fallback;
    const values: string[] = [];
    for (const part of parts) {
      const v = part(fields);
      if (v === undefined) return fallback;
      values.push(v);
    }
    // A separator that cannot appear in header values keeps ("a|b","c") apart from ("a","b|c").
    return values.join("\u0001");
  };
  return {
    name: rl.name,
    policy: {
      name: rl.name,
      spec: { limit: rl.limit, periodMs: rl.period, burst: rl.burst ?? rl.limit },
      algorithm: rl.algorithm,
      mitigationMs: rl.mitigation_timeout ?? 0,
      mode: rl.mode,
      lease: leaseSize(rl),
      // A busy key's leases may grow to a tenth of the limit, unless lease_size fixes their size.
      leaseMax: rl.lease_size ?? Math.max(leaseSize(rl), Math.floor(rl.limit / 10)),
      leaseTtlMs: Math.min(rl.period, 1000),
      deadlineMs: rl.deadline,
      onError: rl.on_error,
    },
    key,
    match: rl.match === undefined ? undefined : compileExpression(rl.match),
    action: rl.action,
    headers: rl.headers,
  };
}

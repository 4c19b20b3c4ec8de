// rate_limits: named policies that routes attach by name; counted globally in Durable Objects by the worker.
import * as z from "zod/mini";
import { DEFAULTS } from "../defaults.ts";
import { type Describe, nameDescription } from "../describe.ts";
import { duration, name } from "../fields.ts";

export const RATE_LIMIT_ALGORITHMS = ["gcra", "sliding-window"] as const;

const expression = () => z.string().check(z.minLength(1, { error: "an expression cannot be empty" }));

const keyExpression = expression();
const keyPart = expression();

export const rateLimitSchema = z.strictObject({
  name: name("rate limit"),
  key: z.union([keyExpression, z.array(keyPart).check(z.minLength(1))]),
  ipv6_prefix: z._default(
    z.number().check(z.int(), z.minimum(1), z.maximum(128)),
    DEFAULTS.rateLimit.ipv6Prefix,
  ),
  ipv4_prefix: z._default(
    z.number().check(z.int(), z.minimum(1), z.maximum(32)),
    DEFAULTS.rateLimit.ipv4Prefix,
  ),
  fallback: z.optional(z.string()),
  limit: z.number().check(z.int(), z.minimum(1)),
  period: duration(),
  burst: z.optional(z.number().check(z.int(), z.minimum(1))),
  algorithm: z._default(z.enum(RATE_LIMIT_ALGORITHMS), DEFAULTS.rateLimit.algorithm),
  match: z.optional(expression()),
  action: z._default(z.enum(["block", "log"]), DEFAULTS.rateLimit.action),
  mitigation_timeout: z.optional(duration()),
  mode: z._default(z.enum(["exact", "approximate"]), DEFAULTS.rateLimit.mode),
  lease_size: z.optional(z.number().check(z.int(), z.minimum(1))),
  on_error: z._default(z.enum(["allow", "deny"]), DEFAULTS.rateLimit.onError),
  deadline: z.prefault(duration(), DEFAULTS.rateLimit.deadline),
  headers: z._default(z.boolean(), true),
});

export type RateLimit = z.output<typeof rateLimitSchema>;

/** Lease size in approximate mode: limit/10 clamped to 1..10, so a lease never holds much of a small quota. */
export function leaseSize(rl: Pick<RateLimit, "limit" | "lease_size">): number {
  return rl.lease_size ?? Math.max(1, Math.min(10, Math.floor(rl.limit / 10)));
}

export function rateLimitDescriptions(d: Describe): void {
  d(rateLimitSchema, "A rate-limit policy, counted globally per key in Durable Objects.");
  d.fields(rateLimitSchema, {
    name: nameDescription("rate limit"),
    key: "What requests are counted by: one field expression or a list (a compound key).",
    ipv6_prefix: `An IPv6 ip.src in the key counts as its network of this length: one client usually holds a whole /64 and could rotate addresses inside it. 128 counts each address. Default ${DEFAULTS.rateLimit.ipv6Prefix}.`,
    ipv4_prefix: `An IPv4 ip.src in the key counts as its network of this length, e.g. 24 to group a /24. Default ${DEFAULTS.rateLimit.ipv4Prefix} (each address).`,
    fallback:
      "Key to count requests under when the key is missing (no header, no cookie). Unset: such requests are not counted.",
    limit: "Requests allowed per period (the sustained rate).",
    period: 'The period the limit applies to, e.g. "1s", "1m", "1h".',
    burst: "Requests that may arrive at once (the bucket size). Default: the limit.",
    algorithm: "gcra (token bucket, smooth; default) or sliding-window (weighted two-window counter).",
    match: "Only requests for which this rules-language expression is true are counted.",
    action: "block: answer 429 over the limit (default); log: only log and count.",
    mitigation_timeout:
      'Once over the limit, the key stays blocked for this long (e.g. "10m"). Default: unset, blocked only while over.',
    mode: "exact: every request asks the Durable Object (default). approximate: each isolate leases a few tokens and spends them locally (~10× fewer object calls; may admit up to isolates × lease_size extra per period).",
    lease_size: "Tokens an isolate leases at once in approximate mode. Default: limit / 10, from 1 to 10.",
    on_error: "When the limiter cannot answer within the deadline: allow (fail open, default) or deny.",
    deadline: 'How long to wait for the limiter before applying on_error. Default "50ms".',
    headers: "Send the IETF RateLimit-Policy and RateLimit headers on responses. Default true.",
  });
  d(
    keyExpression,
    'A field expression whose value is the counting key, e.g. "ip.src" or \'http.request.headers["x-api-key"]\'.',
  );
  d(keyPart, "One part of a compound key.");
}

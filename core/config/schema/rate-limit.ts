// rate_limits: named policies that routes attach by name; counted globally in Durable Objects by the worker.
import * as z from "zod/mini";
import { DEFAULTS } from "../defaults.ts";
import { duration, name } from "../fields.ts";
import { meta } from "../zod.ts";

export const RATE_LIMIT_ALGORITHMS = ["gcra", "sliding-window"] as const;

const expression = (description: string) =>
  meta(z.string().check(z.minLength(1, { error: "an expression cannot be empty" })), { description });

export const rateLimitSchema = meta(
  z.strictObject({
    name: name("rate limit"),
    key: meta(
      z.union([
        expression(
          'A field expression whose value is the counting key, e.g. "ip.src" or \'http.request.headers["x-api-key"]\'.',
        ),
        z.array(expression("One part of a compound key.")).check(z.minLength(1)),
      ]),
      { description: "What requests are counted by: one field expression or a list (a compound key)." },
    ),
    ipv6_prefix: meta(
      z._default(z.number().check(z.int(), z.minimum(1), z.maximum(128)), DEFAULTS.rateLimit.ipv6Prefix),
      {
        description: `An IPv6 ip.src in the key counts as its network of this length: one client usually holds a whole /64 and could rotate addresses inside it. 128 counts each address. Default ${DEFAULTS.rateLimit.ipv6Prefix}.`,
      },
    ),
    ipv4_prefix: meta(
      z._default(z.number().check(z.int(), z.minimum(1), z.maximum(32)), DEFAULTS.rateLimit.ipv4Prefix),
      {
        description: `An IPv4 ip.src in the key counts as its network of this length, e.g. 24 to group a /24. Default ${DEFAULTS.rateLimit.ipv4Prefix} (each address).`,
      },
    ),
    fallback: meta(z.optional(z.string()), {
      description:
        "Key to count requests under when the key is missing (no header, no cookie). Unset: such requests are not counted.",
    }),
    limit: meta(z.number().check(z.int(), z.minimum(1)), {
      description: "Requests allowed per period (the sustained rate).",
    }),
    period: duration('The period the limit applies to, e.g. "1s", "1m", "1h".'),
    burst: meta(z.optional(z.number().check(z.int(), z.minimum(1))), {
      description: "Requests that may arrive at once (the bucket size). Default: the limit.",
    }),
    algorithm: meta(z._default(z.enum(RATE_LIMIT_ALGORITHMS), DEFAULTS.rateLimit.algorithm), {
      description: "gcra (token bucket, smooth; default) or sliding-window (weighted two-window counter).",
    }),
    match: z.optional(
      expression("Only requests for which this rules-language expression is true are counted."),
    ),
    action: meta(z._default(z.enum(["block", "log"]), DEFAULTS.rateLimit.action), {
      description: "block: answer 429 over the limit (default); log: only log and count.",
    }),
    mitigation_timeout: z.optional(
      duration(
        'Once over the limit, the key stays blocked for this long (e.g. "10m"). Default: unset, blocked only while over.',
      ),
    ),
    mode: meta(z._default(z.enum(["exact", "approximate"]), DEFAULTS.rateLimit.mode), {
      description:
        "exact: every request asks the Durable Object (default). approximate: each isolate leases a few tokens and spends them locally (~10× fewer object calls; may admit up to isolates × lease_size extra per period).",
    }),
    lease_size: meta(z.optional(z.number().check(z.int(), z.minimum(1))), {
      description: "Tokens an isolate leases at once in approximate mode. Default: limit / 10, from 1 to 10.",
    }),
    on_error: meta(z._default(z.enum(["allow", "deny"]), DEFAULTS.rateLimit.onError), {
      description: "When the limiter cannot answer within the deadline: allow (fail open, default) or deny.",
    }),
    deadline: z.prefault(
      duration('How long to wait for the limiter before applying on_error. Default "50ms".'),
      DEFAULTS.rateLimit.deadline,
    ),
    headers: meta(z._default(z.boolean(), true), {
      description: "Send the IETF RateLimit-Policy and RateLimit headers on responses. Default true.",
    }),
  }),
  { description: "A rate-limit policy, counted globally per key in Durable Objects." },
);

export type RateLimit = z.output<typeof rateLimitSchema>;

/** Lease size in approximate mode: limit/10 clamped to 1..10, so a lease never holds much of a small quota. */
export function leaseSize(rl: Pick<RateLimit, "limit" | "lease_size">): number {
  return rl.lease_size ?? Math.max(1, Math.min(10, Math.floor(rl.limit / 10)));
}

// rate_limits: named policies that routes attach by name; counted globally in Durable Objects by the worker.
import * as z from "zod";
import { DEFAULTS } from "../defaults.ts";
import { duration, name } from "../fields.ts";

export const RATE_LIMIT_ALGORITHMS = ["gcra", "sliding-window"] as const;

const expression = (description: string) =>
  z.string().min(1, { error: "an expression cannot be empty" }).meta({ description });

export const rateLimitSchema = z
  .strictObject({
    name: name("rate limit"),
    key: z
      .union([
        expression(
          'A field expression whose value is the counting key, e.g. "ip.src" or \'http.request.headers["x-api-key"]\'.',
        ),
        z.array(expression("One part of a compound key.")).min(1),
      ])
      .meta({
        description: "What requests are counted by: one field expression or a list (a compound key).",
      }),
    fallback: z.string().optional().meta({
      description:
        "Key to count requests under when the key is missing (no header, no cookie). Unset: such requests are not counted.",
    }),
    limit: z.number().int().min(1).meta({ description: "Requests allowed per period (the sustained rate)." }),
    period: duration('The period the limit applies to, e.g. "1s", "1m", "1h".'),
    burst: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "Requests that may arrive at once (the bucket size). Default: the limit." }),
    algorithm: z.enum(RATE_LIMIT_ALGORITHMS).default(DEFAULTS.rateLimit.algorithm).meta({
      description: "gcra (token bucket, smooth; default) or sliding-window (weighted two-window counter).",
    }),
    match: expression(
      "Only requests for which this rules-language expression is true are counted.",
    ).optional(),
    action: z
      .enum(["block", "log"])
      .default(DEFAULTS.rateLimit.action)
      .meta({ description: "block: answer 429 over the limit (default); log: only log and count." }),
    mitigation_timeout: duration(
      'Once over the limit, the key stays blocked for this long (e.g. "10m"). Default: unset, blocked only while over.',
    ).optional(),
    mode: z.enum(["exact", "approximate"]).default(DEFAULTS.rateLimit.mode).meta({
      description:
        "exact: every request asks the Durable Object (default). approximate: each isolate leases a few tokens and spends them locally (~10× fewer object calls; may admit up to isolates × lease_size extra per period).",
    }),
    lease_size: z.number().int().min(1).optional().meta({
      description: "Tokens an isolate leases at once in approximate mode. Default: limit / 10, from 1 to 10.",
    }),
    on_error: z.enum(["allow", "deny"]).default(DEFAULTS.rateLimit.onError).meta({
      description: "When the limiter cannot answer within the deadline: allow (fail open, default) or deny.",
    }),
    deadline: duration('How long to wait for the limiter before applying on_error. Default "50ms".').prefault(
      DEFAULTS.rateLimit.deadline,
    ),
    headers: z.boolean().default(true).meta({
      description: "Send the IETF RateLimit-Policy and RateLimit headers on responses. Default true.",
    }),
  })
  .meta({ description: "A rate-limit policy, counted globally per key in Durable Objects." });

export type RateLimit = z.output<typeof rateLimitSchema>;

/** Lease size in approximate mode: limit/10 clamped to 1..10, so a lease never holds much of a small quota. */
export function leaseSize(rl: Pick<RateLimit, "limit" | "lease_size">): number {
  return rl.lease_size ?? Math.max(1, Math.min(10, Math.floor(rl.limit / 10)));
}

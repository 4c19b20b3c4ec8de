// services[].retry and routes[].retry: how failed attempts are retried and how long a request may take in all.
// A route's retry overrides single fields of its service's (unset fields keep the service's value), so the
// route form has no defaults; the service form has them all (DEFAULTS.retry).
import * as z from "zod";
import { RETRY_CONDITIONS } from "../../retry/policy.ts";
import { DEFAULTS } from "../defaults.ts";
import { duration, size } from "../fields.ts";

const D = DEFAULTS.retry;

const headerName = (description: string) =>
  z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/, { error: "a header name has letters, digits and - only" })
    .meta({ description });

/** The fields without defaults: the route form makes them all optional, the service form adds defaults. */
const fields = {
  attempts: z
    .number()
    .int()
    .min(1)
    .max(10)
    .meta({ description: `Tries in all, the first included (1 = no retry). Default ${D.attempts}.` }),
  on: z.array(z.union([z.enum(RETRY_CONDITIONS), z.number().int().min(400).max(599)])).meta({
    description:
      "What is retried: connect-failure (nothing was sent), reset (connection dropped without an answer), " +
      "timeout (per_try_timeout expired), 5xx, gateway-error (502/503/504), or status codes such as 429. " +
      `Default ${JSON.stringify(D.on)}.`,
  }),
  per_try_timeout: duration(
    "How long one attempt may wait for the response headers before it is abandoned (and retried when " +
      '"timeout" is in on). Default: unset, each attempt has what is left of timeout.',
  ),
  timeout: duration(
    `Total time until the response headers, every attempt and backoff included; then 504 SY_UPSTREAM_TIMEOUT. Default "${D.timeout}".`,
  ),
  non_idempotent: z.boolean().meta({
    description:
      "Also retry POST and PATCH after they may have reached a backend. Without it they are retried then only " +
      `when they carry an Idempotency-Key header (a connect failure is retried for any method). Default ${D.nonIdempotent}.`,
  }),
  buffer: size(
    `Request body bytes kept so the body can be sent again; a larger body streams and is not retried. Default "${D.buffer}".`,
  ),
  backoff: duration(
    `Base of the exponential backoff with full jitter: retry n waits random(0, min(backoff_max, backoff × 2^(n-1))). Default "${D.backoff}".`,
  ),
  backoff_max: duration(
    `Longest wait before a retry; a backend's Retry-After is honoured up to this. Default "${D.backoffMax}".`,
  ),
  budget: z
    .number()
    .min(0)
    .max(100)
    .meta({
      description: `Retries allowed as a percentage of requests over the last 10 s, per isolate and service, so a failing service is not hit by a retry storm. Default ${D.budget}.`,
    }),
  budget_min: z
    .number()
    .min(0)
    .meta({
      description: `Retries per second always allowed on top of budget, so a quiet service can still retry. Default ${D.budgetMin}.`,
    }),
  hedge: duration(
    "Hedging: when the first attempt of an idempotent request without a body has not answered after this " +
      "delay, send a second one to another backend and use the first good response. Default: unset (off).",
  ),
  attempt_header: headerName(
    `Request header telling the backend which attempt it is serving (1, 2, …); "" turns it off. Default "${D.attemptHeader}".`,
  ),
  attempts_header: headerName(
    `Response header telling the client how many attempts were made; "" turns it off. Default "${D.attemptsHeader}".`,
  ),
};

export const retrySchema = z
  .strictObject({
    attempts: fields.attempts.default(D.attempts),
    on: fields.on.default([...D.on]),
    per_try_timeout: fields.per_try_timeout.optional(),
    timeout: fields.timeout.prefault(D.timeout),
    non_idempotent: fields.non_idempotent.default(D.nonIdempotent),
    buffer: fields.buffer.prefault(D.buffer),
    backoff: fields.backoff.prefault(D.backoff),
    backoff_max: fields.backoff_max.prefault(D.backoffMax),
    budget: fields.budget.default(D.budget),
    budget_min: fields.budget_min.default(D.budgetMin),
    hedge: fields.hedge.optional(),
    attempt_header: fields.attempt_header.default(D.attemptHeader),
    attempts_header: fields.attempts_header.default(D.attemptsHeader),
  })
  .meta({ description: "Retries and timeouts for requests to this service (HTTP services, worker only)." });

export const retryOverrideSchema = z.strictObject(fields).partial().meta({
  description:
    "Overrides of the service's retry fields for this route; unset fields keep the service's value.",
});

export type Retry = z.output<typeof retrySchema>;
export type RetryOverride = z.output<typeof retryOverrideSchema>;

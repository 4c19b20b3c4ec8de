// services[].retry and routes[].retry: how failed attempts are retried and how long a request may take in all.
// A route's retry overrides single fields of its service's (unset fields keep the service's value), so the
// route form has no defaults; the service form has them all (DEFAULTS.retry).
import * as z from "zod/mini";
import { RETRY_CONDITIONS } from "../../retry/policy.ts";
import { DEFAULTS } from "../defaults.ts";
import type { Describe } from "../describe.ts";
import { duration, size } from "../fields.ts";

const D = DEFAULTS.retry;

const headerName = () =>
  z
    .string()
    .check(
      z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/, { error: "a header name has letters, digits and - only" }),
    );

/** The fields without defaults: the route form makes them all optional, the service form adds defaults. */
const fields = {
  attempts: z.number().check(z.int(), z.minimum(1), z.maximum(10)),
  on: z.array(z.union([z.enum(RETRY_CONDITIONS), z.number().check(z.int(), z.minimum(400), z.maximum(599))])),
  per_try_timeout: duration(),
  timeout: duration(),
  non_idempotent: z.boolean(),
  buffer: size(),
  backoff: duration(),
  backoff_max: duration(),
  budget: z.number().check(z.minimum(0), z.maximum(100)),
  budget_min: z.number().check(z.minimum(0)),
  budget_min_concurrent: z.number().check(z.int(), z.minimum(0)),
  hedge: duration(),
  attempt_header: headerName(),
  attempts_header: headerName(),
};

export const retrySchema = z.strictObject({
  attempts: z._default(fields.attempts, D.attempts),
  on: z._default(fields.on, [...D.on]),
  per_try_timeout: z.optional(fields.per_try_timeout),
  timeout: z.prefault(fields.timeout, D.timeout),
  non_idempotent: z._default(fields.non_idempotent, D.nonIdempotent),
  buffer: z.prefault(fields.buffer, D.buffer),
  backoff: z.prefault(fields.backoff, D.backoff),
  backoff_max: z.prefault(fields.backoff_max, D.backoffMax),
  budget: z._default(fields.budget, D.budget),
  budget_min: z._default(fields.budget_min, D.budgetMin),
  budget_min_concurrent: z._default(fields.budget_min_concurrent, D.budgetMinConcurrent),
  hedge: z.optional(fields.hedge),
  attempt_header: z._default(fields.attempt_header, D.attemptHeader),
  attempts_header: z._default(fields.attempts_header, D.attemptsHeader),
});

export const retryOverrideSchema = z.partial(z.strictObject(fields));

export type Retry = z.output<typeof retrySchema>;
export type RetryOverride = z.output<typeof retryOverrideSchema>;

export function retryDescriptions(d: Describe): void {
  d(retrySchema, "Retries and timeouts for requests to this service (HTTP services, worker only).");
  d(
    retryOverrideSchema,
    "Overrides of the service's retry fields for this route; unset fields keep the service's value.",
  );
  d.fields(fields, {
    attempts: `Tries in all, the first included (1 = no retry). Default ${D.attempts}.`,
    on:
      "What is retried: connect-failure (nothing was sent), reset (connection dropped without an answer), " +
      "timeout (per_try_timeout expired), 5xx, gateway-error (502/503/504), or status codes such as 429. " +
      `Default ${JSON.stringify(D.on)}.`,
    per_try_timeout:
      "How long one attempt may wait for the response headers before it is abandoned (and retried when " +
      '"timeout" is in on). Default: unset, each attempt has what is left of timeout.',
    timeout: `Total time until the response headers, every attempt and backoff included; then 504 SY_UPSTREAM_TIMEOUT. Default "${D.timeout}".`,
    non_idempotent:
      "Also retry POST and PATCH after they may have reached a backend. Without it they are retried then only " +
      `when they carry an Idempotency-Key header (a connect failure is retried for any method). Default ${D.nonIdempotent}.`,
    buffer: `Request body bytes kept so the body can be sent again; a larger body streams and is not retried. Default "${D.buffer}".`,
    backoff: `Base of the exponential backoff with full jitter: retry n waits random(0, min(backoff_max, backoff × 2^(n-1))). Default "${D.backoff}".`,
    backoff_max: `Longest wait before a retry; a backend's Retry-After is honoured up to this. Default "${D.backoffMax}".`,
    budget: `Retries allowed as a percentage of requests over the last 10 s, per isolate and service, so a failing service is not hit by a retry storm. Default ${D.budget}.`,
    budget_min: `Retries per second always allowed on top of budget, so a quiet service can still retry. Default ${D.budgetMin}.`,
    budget_min_concurrent: `Retries in flight always allowed, whatever budget and budget_min say (Envoy's min_retry_concurrency), so a burst of failures cannot use up the budget that the next request needs to reach a healthy backend. Default ${D.budgetMinConcurrent}.`,
    hedge:
      "Hedging: when the first attempt of an idempotent request without a body has not answered after this " +
      "delay, send a second one to another backend and use the first good response. Default: unset (off).",
    attempt_header: `Request header telling the backend which attempt it is serving (1, 2, …); "" turns it off. Default "${D.attemptHeader}".`,
    attempts_header: `Response header telling the client how many attempts were made, when there was more than one; "" turns it off. Default "${D.attemptsHeader}".`,
  });
}

// services: named pools of backends. HTTP services (backends with `url`) serve routes; TCP services (backends
// with `address`) serve listeners.
import * as z from "zod/mini";
import { DEFAULTS, LIMITS } from "../defaults.ts";
import { type Describe, nameDescription } from "../describe.ts";
import { hostPort, httpUrl, name } from "../fields.ts";
import { hashKeySchema, stickySchema } from "./affinity.ts";
import { healthCheckSchema, passiveFieldSchema } from "./health.ts";
import { retrySchema } from "./retry.ts";

export const BALANCE_ALGORITHMS = [
  "round-robin",
  "weighted",
  "random",
  "least-connections",
  "least-request",
  "p2c",
  "maglev",
  "ring-hash",
] as const;

export const backendSchema = z
  .strictObject({
    url: z.optional(httpUrl()),
    address: z.optional(hostPort()),
    weight: z._default(
      z.number().check(z.int(), z.minimum(0), z.maximum(LIMITS.maxWeight)),
      DEFAULTS.backend.weight,
    ),
    max_connections: z.optional(z.number().check(z.int(), z.minimum(1))),
  })
  .check(
    z.superRefine((b, ctx) => {
      if ((b.url === undefined) === (b.address === undefined)) {
        ctx.addIssue({
          code: "custom",
          message: 'a backend needs exactly one of "url" (HTTP) or "address" (TCP host:port)',
        });
      }
    }),
  );

export const serviceSchema = z.strictObject({
  name: name("service"),
  backends: z.array(backendSchema).check(z.minLength(1, { error: "a service needs at least one backend" })),
  balance: z._default(z.enum(BALANCE_ALGORITHMS), DEFAULTS.service.balance),
  health: z.optional(healthCheckSchema),
  passive: z.optional(passiveFieldSchema),
  retry: z.optional(retrySchema),
  panic_threshold: z._default(
    z.number().check(z.minimum(0), z.maximum(100)),
    DEFAULTS.outlier.panicThreshold,
  ),
  sticky: z.optional(stickySchema),
  hash: z.optional(hashKeySchema),
});

export type Backend = z.output<typeof backendSchema>;
export type Service = z.output<typeof serviceSchema>;
export type ServiceKind = "http" | "tcp";

export function serviceKind(service: Pick<Service, "backends">): ServiceKind {
  return service.backends[0]?.address !== undefined ? "tcp" : "http";
}

export function serviceDescriptions(d: Describe): void {
  d(backendSchema, "One backend: an HTTP base URL or a TCP address, with a weight.");
  d.fields(backendSchema, {
    url: 'Base URL of an HTTP backend, e.g. "http://10.0.0.1:8080". Routes forward to it.',
    address: 'host:port of a TCP backend, e.g. "10.0.0.5:6379". Listeners connect to it.',
    weight: "Relative share of traffic (0 drains the backend). Default 1.",
    max_connections:
      "Most connections the sidecar opens to this backend at once; when full, the balancer picks another. Default: no limit.",
  });
  d(serviceSchema, "A named pool of backends that routes and listeners send traffic to.");
  d.fields(serviceSchema, {
    name: nameDescription("service"),
    backends: "The backends of this service, all HTTP (url) or all TCP (address).",
    balance:
      "How a backend is chosen: round-robin (smooth weighted), weighted (random by weight), random (uniform), " +
      "least-connections / least-request (fewest open ÷ weight), p2c (best of two random), maglev or ring-hash " +
      "(consistent hash of the key: the client IP for listeners). Default round-robin.",
    panic_threshold: `When fewer than this percentage of backends is healthy (checks and ejections), balance across all of them and log it; 0 turns it off. Default ${DEFAULTS.outlier.panicThreshold}.`,
  });
}

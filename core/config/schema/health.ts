// services.health and services.passive: how a service's backends are checked (active probes with rise/fall
// thresholds) and ejected after consecutive connection failures (passive). Run by the sidecar for TCP services
// and by the worker (HealthChecker Durable Object, per-isolate outlier detection) for HTTP services.
import * as z from "zod/mini";
import { DEFAULTS } from "../defaults.ts";
import type { Describe } from "../describe.ts";
import { duration } from "../fields.ts";

const statusRange = z.string().check(
  z.regex(/^[1-5][0-9]{2}-[1-5][0-9]{2}$/, { error: 'a status range looks like "200-399"' }),
  z.refine((r: string) => Number(r.slice(0, 3)) <= Number(r.slice(4)), {
    error: "a status range goes from low to high",
  }),
);
const statusCode = z.number().check(z.int(), z.minimum(100), z.maximum(599));

/** Status codes and "lo-hi" ranges (alone or in a list), expanded to the list of codes, so checks use includes(). */
const statusList = z.pipe(
  z.union([statusRange, z.array(z.union([statusCode, statusRange])).check(z.minLength(1))]),
  z.transform((v: string | (string | number)[]) => {
    const codes = new Set<number>();
    for (const item of Array.isArray(v) ? v : [v]) {
      if (typeof item === "number") codes.add(item);
      else for (let c = Number(item.slice(0, 3)); c <= Number(item.slice(4)); c++) codes.add(c);
    }
    return [...codes].sort((a, b) => a - b);
  }),
);

export const healthCheckSchema = z
  .strictObject({
    path: z.optional(z.string().check(z.startsWith("/", { error: 'a health check path starts with "/"' }))),
    status: z.optional(statusList),
    method: z.optional(z.enum(["GET", "HEAD", "OPTIONS"])),
    body: z.optional(z.string().check(z.minLength(1))),
    jitter: z.prefault(duration(), DEFAULTS.activeHealth.jitter),
    send: z.optional(z.string().check(z.minLength(1))),
    expect: z.optional(z.string().check(z.minLength(1))),
    port: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(65535))),
    interval: z.prefault(duration(), DEFAULTS.health.interval),
    timeout: z.prefault(duration(), DEFAULTS.health.timeout),
    healthy: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(100)), DEFAULTS.health.healthy),
    unhealthy: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(100)), DEFAULTS.health.unhealthy),
  })
  .check(
    z.superRefine((h, ctx) => {
      if (h.path !== undefined && (h.send !== undefined || h.expect !== undefined)) {
        ctx.addIssue({
          code: "custom",
          message: 'a health check is either HTTP ("path") or send/expect ("send", "expect"), not both',
        });
      }
      for (const key of ["status", "method", "body"] as const) {
        if (h[key] !== undefined && h.path === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `"${key}" needs "path" (it belongs to an HTTP check)`,
          });
        }
      }
    }),
  );

export const passiveHealthSchema = z.strictObject({
  failures: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1000)), DEFAULTS.passive.failures),
  eject: z.prefault(duration(), DEFAULTS.passive.eject),
  consecutive_5xx: z._default(
    z.number().check(z.int(), z.minimum(0), z.maximum(1000)),
    DEFAULTS.outlier.consecutive5xx,
  ),
  max_eject: z.prefault(duration(), DEFAULTS.outlier.maxEject),
  max_ejection_percent: z._default(
    z.number().check(z.minimum(0), z.maximum(100)),
    DEFAULTS.outlier.maxEjectionPercent,
  ),
});

/** The service's `passive` field: a table, or false to turn passive health off. */
export const passiveFieldSchema = z.union([z.literal(false), passiveHealthSchema]);

export type HealthCheck = z.output<typeof healthCheckSchema>;
export type PassiveHealth = z.output<typeof passiveHealthSchema>;

const DEFAULT_PASSIVE: PassiveHealth = Object.freeze(passiveHealthSchema.parse({}));

/** A service's passive health (worker and sidecar): its table, the defaults when it has none, nothing when false. */
export function passiveOf(service: { passive?: PassiveHealth | false }): PassiveHealth | undefined {
  if (service.passive === false) return undefined;
  return service.passive ?? DEFAULT_PASSIVE;
}

/** Which probe a health check config describes. */
export function healthCheckKind(h: HealthCheck): "tcp" | "send-expect" | "http" {
  if (h.path !== undefined) return "http";
  if (h.send !== undefined || h.expect !== undefined) return "send-expect";
  return "tcp";
}

export function healthDescriptions(d: Describe): void {
  d(
    healthCheckSchema,
    "Active health checks: a TCP connect by default, send/expect with send and expect, or an HTTP GET with path. A backend starts up and flips only after the threshold of consecutive results.",
  );
  d.fields(healthCheckSchema, {
    path: 'HTTP GET check: the path to request, e.g. "/health". The backend is up when the status matches.',
    status:
      'HTTP check: statuses that count as up: codes and ranges, e.g. [200, 204], "200-299" or ["200-299", 404]. Default: any 2xx or 3xx.',
    method: `HTTP check: the request method. Default "${DEFAULTS.activeHealth.method}".`,
    body: 'HTTP check: text the response body must contain, e.g. "ok". Default: not checked.',
    jitter: `A random extra delay up to this is added to each interval, so checks of many services (and sidecars) do not fire together. Default "${DEFAULTS.activeHealth.jitter}".`,
    send: 'Send/expect check: bytes written on connect, e.g. "PING\\r\\n" for Redis.',
    expect:
      'Send/expect check: text the reply must contain, e.g. "+PONG". Alone (no send), it checks a banner the backend sends first.',
    port: "Port to check instead of the backend's own (e.g. a separate health port). Default: the backend's.",
    interval: 'Time between checks of each backend, e.g. "5s". Default "5s".',
    timeout: 'How long one check may take before it counts as a failure. Default "2s".',
    healthy: "Consecutive passing checks before a down backend is up again (rise). Default 2.",
    unhealthy: "Consecutive failing checks before an up backend is down (fall). Default 3.",
  });
  d(
    passiveHealthSchema,
    "Passive health: eject a backend for a while after consecutive connection failures.",
  );
  d.fields(passiveHealthSchema, {
    failures:
      "Consecutive connect failures (refused, timed out) that eject a backend; for HTTP services in the worker, consecutive gateway failures (connect failure, reset, timeout, 502/503/504). Default 3.",
    eject: 'How long an ejected backend is left out before it is tried again. Default "30s".',
    consecutive_5xx: `Worker: consecutive 5xx answers (gateway failures included) that eject a backend; 0 turns it off. Default ${DEFAULTS.outlier.consecutive5xx}.`,
    max_eject: `Worker: each ejection lasts eject × the times the backend was ejected, up to this. Default "${DEFAULTS.outlier.maxEject}".`,
    max_ejection_percent: `Most backends ejected at once, as a percentage of the service (at least one unless 0). Default ${DEFAULTS.outlier.maxEjectionPercent}.`,
  });
  d(
    passiveFieldSchema,
    "Passive health (outlier ejection): on by default with the values below, in the worker and the sidecar " +
      "alike, as Envoy's outlier detection and HAProxy's observe are expected to be; false turns it off.",
  );
}

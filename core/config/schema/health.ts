// services.health and services.passive: how a service's backends are checked (active probes with rise/fall
// thresholds) and ejected after consecutive connection failures (passive). Run by the sidecar for TCP services.
import * as z from "zod";
import { DEFAULTS } from "../defaults.ts";
import { duration } from "../fields.ts";

export const healthCheckSchema = z
  .strictObject({
    path: z.string().startsWith("/", { error: 'a health check path starts with "/"' }).optional().meta({
      description:
        'HTTP GET check: the path to request, e.g. "/health". The backend is up when the status matches.',
    }),
    status: z.array(z.number().int().min(100).max(599)).min(1).optional().meta({
      description: "HTTP check: statuses that count as up, e.g. [200, 204]. Default: any 2xx or 3xx.",
    }),
    send: z.string().min(1).optional().meta({
      description: 'Send/expect check: bytes written on connect, e.g. "PING\\r\\n" for Redis.',
    }),
    expect: z.string().min(1).optional().meta({
      description:
        'Send/expect check: text the reply must contain, e.g. "+PONG". Alone (no send), it checks a banner the backend sends first.',
    }),
    port: z.number().int().min(1).max(65535).optional().meta({
      description:
        "Port to check instead of the backend's own (e.g. a separate health port). Default: the backend's.",
    }),
    interval: duration('Time between checks of each backend, e.g. "5s". Default "5s".').prefault(
      DEFAULTS.health.interval,
    ),
    timeout: duration('How long one check may take before it counts as a failure. Default "2s".').prefault(
      DEFAULTS.health.timeout,
    ),
    healthy: z.number().int().min(1).max(100).default(DEFAULTS.health.healthy).meta({
      description: "Consecutive passing checks before a down backend is up again (rise). Default 2.",
    }),
    unhealthy: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DEFAULTS.health.unhealthy)
      .meta({ description: "Consecutive failing checks before an up backend is down (fall). Default 3." }),
  })
  .superRefine((h, ctx) => {
    if (h.path !== undefined && (h.send !== undefined || h.expect !== undefined)) {
      ctx.addIssue({
        code: "custom",
        message: 'a health check is either HTTP ("path") or send/expect ("send", "expect"), not both',
      });
    }
    if (h.status !== undefined && h.path === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["status"],
        message: '"status" needs "path" (it belongs to an HTTP check)',
      });
    }
  })
  .meta({
    description:
      "Active health checks: a TCP connect by default, send/expect with send and expect, or an HTTP GET with path. A backend starts up and flips only after the threshold of consecutive results.",
  });

export const passiveHealthSchema = z
  .strictObject({
    failures: z.number().int().min(1).max(1000).default(DEFAULTS.passive.failures).meta({
      description: "Consecutive connect failures (refused, timed out) that eject a backend. Default 3.",
    }),
    eject: duration(
      'How long an ejected backend is left out before it is tried again. Default "30s".',
    ).prefault(DEFAULTS.passive.eject),
  })
  .meta({
    description: "Passive health: eject a backend for a while after consecutive connection failures.",
  });

export type HealthCheck = z.output<typeof healthCheckSchema>;
export type PassiveHealth = z.output<typeof passiveHealthSchema>;

/** Which probe a health check config describes. */
export function healthCheckKind(h: HealthCheck): "tcp" | "send-expect" | "http" {
  if (h.path !== undefined) return "http";
  if (h.send !== undefined || h.expect !== undefined) return "send-expect";
  return "tcp";
}

// What a HealthChecker object needs to know about a service: its backends and its check, as plain data that
// travels with each sync call (config lives in the worker; the object stores the latest spec it was given).

import { DEFAULTS } from "../../../core/config/defaults.ts";
import type { Service } from "../../../core/config/schema/index.ts";

export interface HttpCheckSpec {
  /** undefined: no path configured, so any HTTP answer to HEAD / counts as up (the nearest fetch() has to a connect check). */
  path: string | undefined;
  method: string;
  status: number[] | undefined;
  body: string | undefined;
  port: number | undefined;
  timeoutMs: number;
  intervalMs: number;
  jitterMs: number;
  rise: number;
  fall: number;
}

export interface HealthSpec {
  service: string;
  /** Backend base URLs (URL.href), in config order. */
  backends: string[];
  /** Active check, or undefined when the service only shares passive ejections. */
  check: HttpCheckSpec | undefined;
  /** Changes whenever anything above changes, so the object rewrites its spec only then. */
  fingerprint: string;
}

/**
 * The spec of a service with URL backends (undefined without any): every such service has an object, for its
 * checks, shared ejections and operator states (drain, maint).
 */
export function healthSpec(service: Service): HealthSpec | undefined {
  const backends = service.backends.filter((b) => b.url !== undefined).map((b) => new URL(b.url!).href);
  if (backends.length === 0) return undefined;
  const h = service.health;
  const check: HttpCheckSpec | undefined = h && {
    path: h.path,
    method: h.path === undefined ? "HEAD" : (h.method ?? DEFAULTS.activeHealth.method),
    status: h.path === undefined ? undefined : h.status,
    body: h.body,
    port: h.port,
    timeoutMs: h.timeout,
    intervalMs: h.interval,
    jitterMs: h.jitter,
    rise: h.healthy,
    fall: h.unhealthy,
  };
  const base = { service: service.name, backends, check };
  return { ...base, fingerprint: JSON.stringify(base) };
}

/** The URL an active check requests for a backend. */
export function checkUrl(backend: string, check: HttpCheckSpec): URL {
  const url = new URL(backend);
  if (check.port !== undefined) url.port = String(check.port);
  const path = check.path ?? "/";
  const q = path.indexOf("?");
  url.pathname = url.pathname.replace(/\/$/, "") + (q === -1 ? path : path.slice(0, q));
  url.search = q === -1 ? "" : path.slice(q);
  return url;
}

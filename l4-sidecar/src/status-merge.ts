// With --workers, each worker reports its own status; the page shows one: counters summed, maxima as the
// largest worker's (a lower bound of the true peak), health as the worst any worker sees, times the latest.
import type { SidecarStatus, StatusView } from "./admin-page.ts";

type Listener = SidecarStatus["listeners"][number];
type Backend = SidecarStatus["services"][number]["backends"][number];

function sumRecord<K extends string>(a: Record<K, number>, b: Record<K, number>): Record<K, number> {
  const out = { ...a };
  for (const k of Object.keys(b) as K[]) out[k] = (out[k] ?? 0) + b[k];
  return out;
}

function mergeListener(a: Listener, b: Listener): Listener {
  return {
    ...a,
    active: a.active + b.active,
    max_active: Math.max(a.max_active, b.max_active),
    total: a.total + b.total,
    refused: sumRecord(a.refused, b.refused),
    idle_timeouts: a.idle_timeouts + b.idle_timeouts,
    bytes_in: a.bytes_in + b.bytes_in,
    bytes_out: a.bytes_out + b.bytes_out,
  };
}

function mergeBackend(a: Backend, b: Backend): Backend {
  const last =
    !a.last_check || (b.last_check && b.last_check.at > a.last_check.at) ? b.last_check : a.last_check;
  return {
    ...a,
    operator_since: Math.max(a.operator_since, b.operator_since),
    healthy: a.healthy && b.healthy,
    healthy_since: Math.max(a.healthy_since, b.healthy_since),
    checks: a.checks + b.checks,
    ...(last ? { last_check: last } : {}),
    ejected: a.ejected || b.ejected,
    ejected_since: Math.max(a.ejected_since ?? 0, b.ejected_since ?? 0) || undefined,
    ejections: a.ejections + b.ejections,
    active: a.active + b.active,
    max_active: Math.max(a.max_active, b.max_active),
    total: a.total + b.total,
    connect_errors: sumRecord(a.connect_errors, b.connect_errors),
    bytes_in: a.bytes_in + b.bytes_in,
    bytes_out: a.bytes_out + b.bytes_out,
  };
}

/** One status from the workers' (in the order they answered; the first one's config and order win). */
export function mergeStatuses(list: SidecarStatus[]): StatusView {
  const [first, ...rest] = list;
  if (!first) return { version: "", draining: false, listeners: [], services: [], workers: 0 };
  const listeners = new Map(first.listeners.map((l) => [l.name, l]));
  const backends = new Map<string, Backend>(
    first.services.flatMap((s) => s.backends.map((b) => [`${s.name}\u0001${b.address}`, b] as const)),
  );
  for (const w of rest) {
    for (const l of w.listeners) {
      const seen = listeners.get(l.name);
      if (seen) listeners.set(l.name, mergeListener(seen, l));
    }
    for (const s of w.services)
      for (const b of s.backends) {
        const key = `${s.name}\u0001${b.address}`;
        const seen = backends.get(key);
        if (seen) backends.set(key, mergeBackend(seen, b));
      }
  }
  return {
    ...first,
    draining: list.some((w) => w.draining),
    workers: list.length,
    listeners: first.listeners.map((l) => listeners.get(l.name)!),
    services: first.services.map((s) => ({
      ...s,
      backends: s.backends.map((b) => backends.get(`${s.name}\u0001${b.address}`)!),
    })),
  };
}

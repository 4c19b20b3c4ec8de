// Feeds the admin API's GET /health (worker/src/admin/health.ts) from the resilience state: active-check results
// from each service's HealthChecker object (an admin request may call the object; requests never do), and
// passive ejections and panic mode as this isolate and the shared state know them.
import { passiveOf } from "../../../core/config/schema/index.ts";
import type { BackendHealthView, HealthReader, HealthState } from "../admin/health.ts";
import type { HealthSnapshot } from "./health-object.ts";
import { healthSpec } from "./health-spec.ts";

const PANIC =
  "; panic mode: fewer than panic_threshold percent of the backends are healthy, so all of them take traffic";

/** The HealthReader app.ts gives the admin API: the served runtime's own resilience state per service. */
export const resilienceHealth: HealthReader = async (env, runtime) => {
  const config = runtime.config;
  type Entry = { active?: HealthState; passive?: HealthState; operator?: BackendHealthView["operator"] };
  const out = new Map<string, Entry>();
  const ns = env.HEALTH_CHECKER;
  const now = Date.now();
  await Promise.all(
    config.services.map(async (service) => {
      const spec = healthSpec(service);
      let snap: HealthSnapshot | undefined;
      if (ns && spec) snap = await ns.get(ns.idFromName(service.name)).snapshot();
      const local = runtime.services.get(service.name)?.resilience;
      const panic = local?.panic ? PANIC : "";
      for (const b of service.backends) {
        if (b.url === undefined) continue;
        const url = new URL(b.url).href;
        const entry: Entry = {};
        const op = snap?.operator?.[url];
        if (op) entry.operator = { state: op.state, since: new Date(op.since).toISOString() };
        const a = snap?.backends[url];
        if (a) {
          entry.active = {
            state: a.healthy ? "healthy" : "unhealthy",
            reason: a.reason,
            since: a.since ? new Date(a.since).toISOString() : undefined,
          };
        }
        const index = local?.pool.backends.findIndex((x) => x.url.href === url) ?? -1;
        const localUntil = index >= 0 ? (local?.outlier?.until(index) ?? 0) : 0;
        const shared = snap?.ejections[url];
        const until = Math.max(localUntil, shared?.until ?? 0);
        if (until > now) {
          const why = shared?.reason ?? "outlier detection in this isolate";
          entry.passive = {
            state: "ejected",
            reason: `${why}; until ${new Date(until).toISOString()}${panic}`,
          };
        } else if (passiveOf(service)) {
          entry.passive = { state: "healthy", reason: `not ejected${panic}` };
        }
        out.set(`${service.name}\u0001${url}`, entry);
      }
    }),
  );
  return out;
};

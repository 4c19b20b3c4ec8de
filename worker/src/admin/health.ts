// GET /health: every service and backend with its active-check and passive state, and the reason for it, and
// the operator state (ready, drain, maint) set through POST /actions. The
// states come from a HealthReader that app.ts hands to the admin API (the resilience part of the worker); without
// one (or for services without checks) the answer says so instead of guessing.
import type { OperatorState } from "../../../core/health/operator.ts";
import type { Env } from "../env.ts";
import type { Runtime } from "../runtime.ts";

export interface HealthState {
  state: "healthy" | "unhealthy" | "ejected" | "unknown" | "not-configured";
  reason: string;
  since?: string;
}

export interface BackendHealthView {
  url: string;
  weight: number;
  active: HealthState;
  passive: HealthState;
  operator: { state: OperatorState; since?: string };
}

export interface ServiceHealthView {
  service: string;
  backends: BackendHealthView[];
}

/** Per backend (key: service + "\u0001" + backend URL), what the health system knows. */
export type HealthReader = (
  env: Env,
  runtime: Runtime,
) => Promise<Map<string, Partial<Pick<BackendHealthView, "active" | "passive" | "operator">>>>;

export async function healthView(
  env: Env,
  runtime: Runtime,
  reader: HealthReader | undefined,
): Promise<ServiceHealthView[]> {
  const config = runtime.config;
  let known = new Map<string, Partial<Pick<BackendHealthView, "active" | "passive" | "operator">>>();
  if (reader) {
    try {
      known = await reader(env, runtime);
    } catch (e) {
      console.error(JSON.stringify({ level: "warn", msg: "health reader failed", error: String(e) }));
    }
  }
  return config.services
    .filter((s) => s.backends.some((b) => b.url !== undefined))
    .map((s) => ({
      service: s.name,
      backends: s.backends
        .filter((b) => b.url !== undefined)
        .map((b) => {
          const url = new URL(b.url!).href;
          const k = known.get(`${s.name}\u0001${url}`);
          const drained: HealthState | undefined =
            b.weight === 0 ? { state: "unhealthy", reason: "weight 0: drained by config" } : undefined;
          return {
            url,
            weight: b.weight,
            active:
              drained ??
              k?.active ??
              (s.health
                ? { state: "unknown", reason: "no active check result has reached this isolate yet" }
                : { state: "not-configured", reason: "the service has no health check: assumed healthy" }),
            passive: k?.passive ?? {
              state: "unknown",
              reason: "no passive observations recorded in this isolate",
            },
            operator: k?.operator ?? { state: "ready" },
          };
        }),
    }));
}

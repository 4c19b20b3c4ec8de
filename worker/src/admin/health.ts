// GET /health: every service and backend with its active-check and passive state, and the reason for it. The
// states come from a HealthReader that the health-checking part of the worker registers; until one is
// registered (or for services without checks) the answer says so instead of guessing.
import type { Config } from "../../../core/config/schema/index.ts";
import type { Env } from "../env.ts";

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
}

export interface ServiceHealthView {
  service: string;
  backends: BackendHealthView[];
}

/** Per backend (key: service + "\u0001" + backend URL), what the health system knows. */
export type HealthReader = (
  env: Env,
  config: Config,
) => Promise<Map<string, Partial<Pick<BackendHealthView, "active" | "passive">>>>;

let reader: HealthReader | undefined;

/** Lets the health checker (a Durable Object and passive ejection) feed GET /health, /explain and the dashboard. */
export function registerHealthReader(r: HealthReader): void {
  reader = r;
}

export async function healthView(env: Env, config: Config): Promise<ServiceHealthView[]> {
  let known = new Map<string, Partial<Pick<BackendHealthView, "active" | "passive">>>();
  if (reader) {
    try {
      known = await reader(env, config);
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
          };
        }),
    }));
}

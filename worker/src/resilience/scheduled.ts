// The cron trigger's job ([triggers] crons in wrangler.toml): sync every service of the live config (KV over
// env.SWITCHYARD) that has health checks with its HealthChecker object. sync() stores the current spec and
// arms the alarm if none is set, so checks resume after a deploy, after an idle pause, or before traffic.

import { liveRuntime } from "../config-source/live.ts";
import type { Env } from "../env.ts";
import type { Runtime } from "../runtime.ts";
import { healthSpec } from "./health-spec.ts";

export interface RearmResult {
  services: string[];
  errors: { service: string; error: string }[];
}

export async function rearmHealthChecks(
  env: Env,
  waitUntil?: (p: Promise<unknown>) => void,
): Promise<RearmResult> {
  const result: RearmResult = { services: [], errors: [] };
  const ns = env.HEALTH_CHECKER;
  if (!ns) return result;
  let config: Runtime["config"];
  try {
    config = (await liveRuntime(env, waitUntil)).config;
  } catch (e) {
    // An invalid config is already logged where it was compiled; checks keep the spec they last had.
    result.errors.push({ service: "*", error: e instanceof Error ? e.message : String(e) });
    return result;
  }
  await Promise.all(
    config.services.map(async (service) => {
      const spec = healthSpec(service);
      if (!spec?.check) return;
      try {
        await ns.get(ns.idFromName(service.name)).sync(spec);
        result.services.push(service.name);
      } catch (e) {
        result.errors.push({ service: service.name, error: e instanceof Error ? e.message : String(e) });
      }
    }),
  );
  if (result.errors.length > 0) {
    console.error(
      JSON.stringify({ level: "error", msg: "health check re-arm failed", errors: result.errors }),
    );
  }
  return result;
}

/** The worker's scheduled() handler. */
export function scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): void {
  ctx.waitUntil(rearmHealthChecks(env, (p) => ctx.waitUntil(p)));
}

// config: the compiled runtime for env.SWITCHYARD (compiled once per isolate, see runtime.ts), overridden by the
// live document in Workers KV (config-source/live.ts), or a 500 SY_CONFIG_INVALID / SY_CONFIG_MISSING.
import type { Context, Next } from "hono";
import { liveRuntime } from "../config-source/live.ts";
import type { AppEnv } from "../context.ts";
import { waitUntilOf } from "../wait-until.ts";

export function loadConfig() {
  return async function configStage(c: Context<AppEnv>, next: Next) {
    c.var.sy.runtime = await liveRuntime(c.env, waitUntilOf(c));
    await next();
  };
}

// config: the compiled runtime for env.SWITCHYARD (compiled once per isolate, see runtime.ts), or a 500
// SY_CONFIG_INVALID / SY_CONFIG_MISSING naming the problems.
import type { Context, Next } from "hono";
import type { AppEnv } from "../context.ts";
import { runtimeFor } from "../runtime.ts";

export function loadConfig() {
  return async function configStage(c: Context<AppEnv>, next: Next) {
    c.var.sy.runtime = runtimeFor(c.env?.SWITCHYARD);
    await next();
  };
}

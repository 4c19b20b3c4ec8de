// early: the request id and the client IP, before anything can fail, so every response and log line has them.
import type { Context, Next } from "hono";
import { normalizeHost } from "../../../core/routing/index.ts";
import type { AppEnv } from "../context.ts";

export interface EarlyOptions {
  /** Makes request ids; defaults to crypto.randomUUID. */
  generateId?: () => string;
}

export function early({ generateId = () => crypto.randomUUID() }: EarlyOptions = {}) {
  return async function earlyStage(c: Context<AppEnv>, next: Next) {
    const url = new URL(c.req.url);
    c.set("sy", {
      requestId: generateId(),
      clientIp: c.req.header("cf-connecting-ip") ?? "",
      trusted: false,
      startedAt: Date.now(),
      url,
      host: normalizeHost(c.req.header("host") ?? url.host),
      attempts: [],
      rateLimits: [],
    });
    await next();
    c.res.headers.set("x-request-id", c.var.sy.requestId);
  };
}

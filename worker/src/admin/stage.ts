// admin: requests under the admin prefix (admin.prefix, default "/__switchyard/") are answered by the admin app
// and never reach the routing stages or a backend, whatever the routes say. The prefix comes from the live
// config; when no config is valid the default prefix still works, so a broken config can be fixed with PUT.
import type { Context, Next } from "hono";
import { DEFAULTS } from "../../../core/config/defaults.ts";
import { liveRuntime } from "../config-source/live.ts";
import type { AppEnv } from "../context.ts";
import { waitUntilOf } from "../wait-until.ts";
import { type AdminOptions, createAdminApp, PREFIX_HEADER, REQUEST_ID_HEADER } from "./routes.ts";

export function adminApi(options: AdminOptions = {}) {
  const app = createAdminApp(options);
  return async function adminStage(c: Context<AppEnv>, next: Next) {
    const path = c.req.path;
    let prefix: string = DEFAULTS.admin.prefix;
    try {
      prefix = (await liveRuntime(c.env, waitUntilOf(c))).config.admin.prefix;
    } catch {
      // No valid config: keep the default prefix so the admin API can still fix it.
    }
    const base = prefix.slice(0, -1);
    if (path !== base && !path.startsWith(prefix)) return next();
    if (path === base) return c.redirect(prefix, 308);
    const inner = new URL(c.req.url);
    inner.pathname = inner.pathname.slice(base.length);
    const headers = new Headers(c.req.raw.headers);
    headers.set(REQUEST_ID_HEADER, c.var.sy.requestId);
    headers.set(PREFIX_HEADER, prefix);
    const req = new Request(inner, {
      method: c.req.method,
      headers,
      body: c.req.method === "GET" || c.req.method === "HEAD" ? undefined : c.req.raw.body,
    });
    let ctx: ExecutionContext | undefined;
    try {
      ctx = c.executionCtx as ExecutionContext;
    } catch {
      ctx = undefined;
    }
    const res = await app.fetch(req, c.env, ctx);
    // A fresh Response, so later stages (early's X-Request-Id) can set headers.
    return new Response(res.body, res);
  };
}

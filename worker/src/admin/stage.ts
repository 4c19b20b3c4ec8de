// admin: requests under the admin prefix (admin.prefix, default "/__switchyard/") are answered by the admin app
// and never reach the routing stages or a backend, whatever the routes say. The prefix comes from the live
// config; when no config is valid the default prefix still works, so a broken config can be fixed with PUT.
import type { Context } from "hono";
import { DEFAULTS } from "../../../core/config/defaults.ts";
import type { AppEnv, RequestContext } from "../context.ts";
import type { Runtime } from "../runtime.ts";
import { type AdminOptions, createAdminApp, PREFIX_HEADER, REQUEST_ID_HEADER } from "./routes.ts";

/** Answers admin requests; undefined for everything else (the path is not under the prefix). */
export function adminApi(options: AdminOptions = {}) {
  const app = createAdminApp(options);
  return async function adminStage(
    c: Context<AppEnv>,
    sy: RequestContext,
    runtime: Runtime | undefined,
  ): Promise<Response | undefined> {
    const path = sy.url.pathname;
    // No valid config: keep the default prefix so the admin API can still fix it.
    const prefix: string = runtime?.config.admin.prefix ?? DEFAULTS.admin.prefix;
    const base = prefix.slice(0, -1);
    if (path !== base && !path.startsWith(prefix)) return undefined;
    if (path === base)
      return new Response(null, { status: 308, headers: { location: prefix, "x-request-id": sy.requestId } });
    const inner = new URL(sy.url);
    inner.pathname = inner.pathname.slice(base.length);
    const headers = new Headers(c.req.raw.headers);
    headers.set(REQUEST_ID_HEADER, sy.requestId);
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
    // A fresh Response (the admin app's may be immutable), with the request id every response carries.
    const out = new Response(res.body, res);
    out.headers.set("x-request-id", sy.requestId);
    return out;
  };
}

// admin: requests under the admin prefix (admin.prefix, default "/__switchyard/") are answered by the admin app
// and never reach the routing stages or a backend, whatever the routes say. The prefix comes from the live
// config; when no config is valid the default prefix still works, so a broken config can be fixed with PUT.
import { DEFAULTS } from "../../../core/config/defaults.ts";
import type { RequestContext } from "../context.ts";
import type { Runtime } from "../runtime.ts";
import type { Ctx } from "../step.ts";
import { type AdminOptions, createAdminApp, PREFIX_HEADER, REQUEST_ID_HEADER } from "./routes.ts";

/**
 * Answers admin requests; undefined for everything else (the path is not under the prefix), decided without
 * a promise so that a proxied request does not pay for one here.
 */
export function adminApi(options: AdminOptions = {}) {
  const app = createAdminApp(options);

  async function answer(c: Ctx, sy: RequestContext, prefix: string): Promise<Response> {
    const base = prefix.slice(0, -1);
    const inner = new URL(sy.url);
    inner.pathname = inner.pathname.slice(base.length);
    const headers = new Headers(c.req.headers);
    headers.set(REQUEST_ID_HEADER, sy.requestId);
    headers.set(PREFIX_HEADER, prefix);
    const method = c.req.method;
    const req = new Request(inner, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : c.req.body,
    });
    const res = await app.fetch(req, c.env, c.executionCtx);
    // A fresh Response (the admin app's may be immutable), with the request id every response carries.
    const out = new Response(res.body, res);
    out.headers.set("x-request-id", sy.requestId);
    return out;
  }

  return function adminStage(
    c: Ctx,
    sy: RequestContext,
    runtime: Runtime | undefined,
  ): Promise<Response> | undefined {
    const path = sy.url.pathname;
    // No valid config: keep the default prefix so the admin API can still fix it.
    const prefix: string = runtime?.config.admin.prefix ?? DEFAULTS.admin.prefix;
    if (!path.startsWith(prefix)) {
      if (path !== prefix.slice(0, -1)) return undefined;
      const headers = { location: prefix, "x-request-id": sy.requestId };
      return Promise.resolve(new Response(null, { status: 308, headers }));
    }
    return answer(c, sy, prefix);
  };
}

// respond: the route's response header modifiers, internal headers stripped, and the sticky-session cookie,
// applied to whatever answered (backend, redirect or direct response). Errors Switchyard generated itself
// are left as they are.
import type { Context, Next } from "hono";
import { applyHeaderModifiers } from "../../../core/routing/index.ts";
import type { AppEnv } from "../context.ts";

export function respond() {
  return async function respondStage(c: Context<AppEnv>, next: Next) {
    await next();
    const sy = c.var.sy;
    if (c.error) return;
    const headers = c.res.headers;
    for (const name of sy.runtime!.internalHeaders) headers.delete(name);
    applyHeaderModifiers(headers, sy.route?.route.response_headers);
    if (sy.setCookie) headers.append("set-cookie", sy.setCookie);
  };
}

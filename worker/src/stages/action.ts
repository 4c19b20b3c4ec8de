// action: routes that answer at the edge (redirect, direct response) answer here; forwarding routes go on to
// the proxy loop.
import type { Context, Next } from "hono";
import { redirectLocation } from "../../../core/routing/index.ts";
import type { AppEnv } from "../context.ts";

export function routeAction() {
  return async function actionStage(c: Context<AppEnv>, next: Next) {
    const sy = c.var.sy;
    const plan = sy.plan!;
    if (plan.kind === "redirect") {
      const r = plan.route.redirect!;
      const location = redirectLocation(new URL(c.req.url), r, sy.route!);
      return new Response(null, { status: r.status, headers: { location } });
    }
    if (plan.kind === "respond") {
      const r = plan.route.respond!;
      return new Response(r.body, { status: r.status, headers: { "content-type": r.content_type } });
    }
    await next();
  };
}

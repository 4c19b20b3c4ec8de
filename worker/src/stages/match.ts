// match: host → path → method/headers/query/cookies → route, or 404 SY_NO_ROUTE. The table is compiled in
// core/routing when the config loads; this stage only looks up.
import type { Context, Next } from "hono";
import { matchRequestFrom } from "../../../core/routing/index.ts";
import { type FetchLikeRequest, RequestFields, ruleRequestFrom } from "../../../core/rules/index.ts";
import type { AppEnv } from "../context.ts";
import { ProxyError } from "../errors.ts";

export function matchRoute() {
  return async function matchStage(c: Context<AppEnv>, next: Next) {
    const sy = c.var.sy;
    const runtime = sy.runtime!;
    const url = sy.url;
    // Built only if a route's `when` asks, then shared with the WAF and rate limits.
    const rules = () =>
      (sy.ruleFields ??= new RequestFields(ruleRequestFrom(c.req.raw as FetchLikeRequest, sy.clientIp)));
    const found = runtime.routes.match(
      matchRequestFrom(url, c.req.method, c.req.raw.headers, sy.host, rules),
    );
    if (!found) {
      throw new ProxyError(
        "SY_NO_ROUTE",
        `no route matches ${c.req.method} ${sy.host || "(no host)"}${url.pathname}`,
      );
    }
    sy.route = found;
    sy.plan = runtime.plans[found.index];
    await next();
  };
}

// match: host → path → method/headers/query/cookies → route, or 404 SY_NO_ROUTE. The table is compiled in
// core/routing when the config loads; this stage only looks up.
import { matchRequestFrom } from "../../../core/routing/index.ts";
import { RequestFields, ruleRequestFrom } from "../../../core/rules/index.ts";
import type { RequestContext } from "../context.ts";
import { ProxyError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";

/**
 * The request's rule fields, built on first use (after normalise, so http.request.uri.path is the normalised
 * path) and shared by route `when`, the WAF and rate limits.
 */
export function ruleFieldsOf(sy: RequestContext, req: Request): RequestFields {
  if (sy.ruleFields === undefined) {
    sy.ruleFields = new RequestFields(
      ruleRequestFrom(req, sy.clientIp, sy.url.pathname, sy.headers, sy.method),
    );
  }
  return sy.ruleFields;
}

export function matchRoute(sy: RequestContext, runtime: Runtime, req: Request): void {
  const url = sy.url;
  const found = runtime.routes.match(
    matchRequestFrom(url, sy.method, sy.headers, sy.host, () => ruleFieldsOf(sy, req)),
  );
  if (!found) {
    throw new ProxyError(
      "SY_NO_ROUTE",
      `no route matches ${sy.method} ${sy.host || "(no host)"}${url.pathname}`,
    );
  }
  sy.route = found;
  sy.plan = runtime.plans[found.index];
}

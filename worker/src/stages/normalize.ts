// normalise: the request path per RFC 3986 §6 with repeated slashes merged (core/routing/normalize-path.ts),
// once, so matching, rules and forwarding all see the same path; or 400 SY_PATH_REJECTED for an escaped slash
// when forwarding.path = "reject". The rules view is built here with both paths (http.request.uri.path is the
// normalised one, raw.http.request.uri.path the one received), and later stages share it.
import type { Context, Next } from "hono";
import { normalizePath, PathRejected } from "../../../core/routing/normalize-path.ts";
import { type FetchLikeRequest, RequestFields, ruleRequestFrom } from "../../../core/rules/index.ts";
import type { AppEnv } from "../context.ts";
import { ProxyError } from "../errors.ts";

export function normalizeRequestPath() {
  return async function normalizeStage(c: Context<AppEnv>, next: Next) {
    const sy = c.var.sy;
    const forwarding = sy.runtime!.config.forwarding;
    const raw = sy.url.pathname;
    sy.rawPath = raw;
    if (forwarding.normalize_path) {
      let path: string;
      try {
        path = normalizePath(raw, forwarding.path);
      } catch (e) {
        if (e instanceof PathRejected) throw new ProxyError("SY_PATH_REJECTED", e.message);
        throw e;
      }
      if (path !== raw) sy.url.pathname = path;
    }
    sy.ruleFields = new RequestFields(
      ruleRequestFrom(c.req.raw as FetchLikeRequest, sy.clientIp, sy.url.pathname),
    );
    await next();
  };
}

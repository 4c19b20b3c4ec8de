// normalise: the request path per RFC 3986 §6 with repeated slashes merged (core/routing/normalize-path.ts),
// once, so matching, rules and forwarding all see the same path; or 400 SY_PATH_REJECTED for an escaped slash
// when forwarding.path = "reject". The rules view (stages/match.ts, ruleFieldsOf) is built from the normalised
// path (http.request.uri.path), with the one received still there as raw.http.request.uri.path.
import { normalizePath, PathRejected } from "../../../core/routing/normalize-path.ts";
import type { RequestContext } from "../context.ts";
import { ProxyError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";

export function normalizeRequestPath(sy: RequestContext, runtime: Runtime): void {
  const forwarding = runtime.config.forwarding;
  const raw = sy.url.pathname;
  sy.rawPath = raw;
  if (!forwarding.normalize_path) return;
  let path: string;
  try {
    path = normalizePath(raw, forwarding.path);
  } catch (e) {
    if (e instanceof PathRejected) throw new ProxyError("SY_PATH_REJECTED", e.message);
    throw e;
  }
  if (path !== raw) sy.url.pathname = path;
}

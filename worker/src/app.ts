// The one file that knows the order of the stages. Keep this diagram true to what app.use() below builds:
//
//   early       request id, client IP (CF-Connecting-IP; an incoming X-Forwarded-For is never trusted)
//   log         wraps everything below: one structured JSON line per request, whatever happened
//   config      compiled runtime for env.SWITCHYARD (once per isolate) → or 500 SY_CONFIG_INVALID
//   match       host → path → route → or 404 SY_NO_ROUTE
//   proxy       loop over backends, each tried at most once:
//     select      the service's balancer picks a backend not tried yet
//     prepare     upstream URL, X-Forwarded-*, strip hop-by-hop
//     forward     fetch, body streamed both ways → response, or an error marked retryable or not
//               all failed → 502 SY_UPSTREAM_UNAVAILABLE
//   onError     any ProxyError → JSON { error: { code, message }, request_id }
//
// Short-circuits: config and match throw ProxyErrors; the error handler renders them; log still runs.
import { Hono } from "hono";
import type { AppEnv } from "./context.ts";
import { handleError } from "./respond-error.ts";
import { loadConfig } from "./stages/config.ts";
import { early } from "./stages/early.ts";
import { logRequest } from "./stages/log.ts";
import { matchRoute } from "./stages/match.ts";
import { type ProxyOptions, proxy } from "./stages/proxy.ts";

export interface AppOptions extends ProxyOptions {
  log?: (line: string) => void;
}

export function createApp(options: AppOptions = {}) {
  const app = new Hono<AppEnv>();
  app.use(early());
  app.use(logRequest({ write: options.log }));
  app.use(loadConfig());
  app.use(matchRoute());
  app.all("*", proxy(options));
  app.onError(handleError);
  return app;
}

export const app = createApp();

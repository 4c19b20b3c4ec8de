// The one file that knows the order of the stages. Keep this diagram true to what app.use() below builds:
//
//   early       request id, client IP (CF-Connecting-IP), normalized host
//   log         wraps everything below: one structured JSON line per request, whatever happened
//   admin       paths under admin.prefix (default /__switchyard/) → the admin API and dashboard, never a backend
//   observe     wraps the rest: one metrics point per request (isolate batch → MetricsAggregator object, and
//               Workers Analytics Engine)
//   config      compiled runtime for the live config (KV over env.SWITCHYARD) → or 500 SY_CONFIG_INVALID
//   trust       client in forwarding.trusted_proxies? then keep its X-Request-Id (and X-Forwarded-For later)
//   normalise   the path per RFC 3986 §6 + merged slashes, for matching, rules and forwarding (raw kept for
//               raw.http.request.uri.path and forward_raw_path) → or 400 SY_PATH_REJECTED (forwarding.path)
//   match       host → path → method/headers/query/cookies → route (Gateway API precedence) → or 404 SY_NO_ROUTE
//   waf         custom rules (block|log|skip|allow) → managed rules, anomaly score → or 403 SY_WAF_BLOCKED
//   rate-limit  each of the route's rate_limits: RateLimiter Durable Object per (policy, key) → pass, or 429
//               SY_RATE_LIMITED with Retry-After; RateLimit-Policy/RateLimit headers on every response
//   respond     after the answer: response header modifiers, internal headers stripped, sticky Set-Cookie
//   action      redirect → 301/302/303/307/308 | respond → direct answer | forward → on to proxy
//   proxy       up to retry.attempts tries, all inside retry.timeout (worker/src/resilience/):
//     select      sticky cookie's backend first, else the balancer (hash key from the service), healthy (active
//                 checks, ejections; all of them in panic mode) and not tried yet where one is left
//     prepare     rewrite path/host, request header modifiers, X-Forwarded-*/Forwarded/X-Request-Id, no hop-by-hop
//     forward     fetch with a per-try timeout, body streamed both ways (WebSocket upgrades pass through); an
//                 optional hedge after retry.hedge → response, or an outcome retried when safe, with backoff and
//                 within the retry budget; out of tries → the last answer, or 502 SY_UPSTREAM_UNAVAILABLE /
//                 SY_UPSTREAM_FAILED, 504 SY_UPSTREAM_TIMEOUT
//     observe     each outcome feeds outlier detection (ejections reported to the HealthChecker object)
//   onError     any ProxyError → JSON { error: { code, message }, request_id }
//
// Short-circuits: config, match and proxy throw ProxyErrors and action may answer itself; the error handler
// renders errors; respond skips Switchyard's own errors; log and early's X-Request-Id always run.
import { Hono } from "hono";
import { adminApi } from "./admin/stage.ts";
import type { AppEnv } from "./context.ts";
import { observe } from "./observe/stage.ts";
import { type RateLimitOptions, rateLimit } from "./rate-limit/stage.ts";
import { resilienceHealth } from "./resilience/admin-reader.ts";
import { handleError } from "./respond-error.ts";
import { routeAction } from "./stages/action.ts";
import { loadConfig } from "./stages/config.ts";
import { early } from "./stages/early.ts";
import { logRequest } from "./stages/log.ts";
import { matchRoute } from "./stages/match.ts";
import { normalizeRequestPath } from "./stages/normalize.ts";
import { type ProxyOptions, proxy } from "./stages/proxy.ts";
import { respond } from "./stages/respond.ts";
import { trustClient } from "./stages/trust.ts";
import { waf } from "./waf/stage.ts";

export interface AppOptions extends ProxyOptions, RateLimitOptions {
  log?: (line: string) => void;
}

export function createApp(options: AppOptions = {}) {
  const app = new Hono<AppEnv>();
  app.use(early());
  app.use(logRequest({ write: options.log }));
  app.use(adminApi({ healthReader: resilienceHealth }));
  app.use(observe());
  app.use(loadConfig());
  app.use(trustClient());
  app.use(normalizeRequestPath());
  app.use(matchRoute());
  app.use(waf());
  app.use(rateLimit(options));
  app.use(respond());
  app.use(routeAction());
  app.all("*", proxy(options));
  app.onError(handleError);
  return app;
}

export const app = createApp();

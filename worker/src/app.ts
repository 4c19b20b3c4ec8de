// The one file that knows the order of the stages. Keep this diagram true to switchyard() and routeSteps() below:
//
//   early       request id (CF-Ray, else generated), client IP (CF-Connecting-IP), normalized host, the URL
//               parsed once, the method and the headers read from workerd once (request-headers.ts)
//   config      compiled runtime for the live config (KV over env.SWITCHYARD) → or 500 SY_CONFIG_INVALID
//   admin       paths under admin.prefix (default /__switchyard/) → the admin API and dashboard, never a backend
//               (with the default prefix when no config is valid, so PUT /config can fix it)
//   trust       client in forwarding.trusted_proxies? then keep its X-Request-Id (and X-Forwarded-For later)
//   normalise   the path per RFC 3986 §6 + merged slashes, for matching, rules and forwarding (raw kept for
//               raw.http.request.uri.path and forward_raw_path) → or 400 SY_PATH_REJECTED (forwarding.path)
//   match       host → path → method/headers/query/cookies → route (Gateway API precedence) → or 404 SY_NO_ROUTE
//   ── the route's plan, compiled with the config (routeSteps): a step a route does not need is not there ──
//   waf         custom rules (block|log|skip|allow) → managed rules, anomaly score → or 403 SY_WAF_BLOCKED
//   rate-limit  each of the route's rate_limits: RateLimiter Durable Object per (policy, key), or a local lease
//               in approximate mode → pass, or 429 SY_RATE_LIMITED with Retry-After; RateLimit-Policy/RateLimit
//               headers on every response
//   respond     after the answer: response header modifiers, internal headers stripped, sticky Set-Cookie
//   answer      redirect → 301/302/303/307/308 | respond → direct answer | proxy:
//   proxy       up to retry.attempts tries, all inside retry.timeout (worker/src/resilience/):
//     select      sticky cookie's backend first, else the balancer (hash key from the service), healthy (active
//                 checks, ejections; all of them in panic mode) and not tried yet where one is left
//     prepare     rewrite path/host, request header modifiers, X-Forwarded-*/Forwarded/X-Request-Id, no hop-by-hop
//     forward     fetch with a per-try timeout, body streamed both ways (WebSocket upgrades pass through); an
//                 optional hedge after retry.hedge → response, or an outcome retried when safe, with backoff and
//                 within the retry budget; out of tries → the last answer, or 502 SY_UPSTREAM_UNAVAILABLE /
//                 SY_UPSTREAM_FAILED, 504 SY_UPSTREAM_TIMEOUT
//     observe     each outcome feeds outlier detection (ejections reported to the HealthChecker object)
//   ── after the answer, for every request ──
//   errors      any ProxyError → JSON { error: { code, message }, request_id }
//   x-request-id  on every answer Switchyard builds, written where it is built; on a backend's response only when
//               the id is not its CF-Ray (the client has that already), so such a response passes through uncopied
//   observe     one metrics point (isolate batch → MetricsAggregator object, and Workers Analytics Engine);
//               not for admin requests
//   log         one structured JSON line per request, whatever happened
//
// Short-circuits: config, normalise, match and proxy throw ProxyErrors; waf and rate-limit may answer themselves
// (their own and earlier steps' after-parts still run); respond skips Switchyard's own errors. The shell is a
// plain fetch handler (createApp) that catches what nothing else did; Hono routes the admin API behind it.
import { adminApi } from "./admin/stage.ts";
import { liveConfig, liveRuntime } from "./config-source/live.ts";
import type { RequestContext } from "./context.ts";
import type { Env } from "./env.ts";
import { observeRequest } from "./observe/stage.ts";
import type { LimiterNamespace } from "./rate-limit/client.ts";
import { rateLimitStep } from "./rate-limit/stage.ts";
import { resilienceHealth } from "./resilience/admin-reader.ts";
import { errorResponse } from "./respond-error.ts";
import type { RoutePlan, Runtime } from "./runtime.ts";
import { redirectAnswer, respondAnswer } from "./stages/action.ts";
import { startRequest } from "./stages/early.ts";
import { logLine } from "./stages/log.ts";
import { matchRoute } from "./stages/match.ts";
import { normalizeRequestPath } from "./stages/normalize.ts";
import { proxyAnswer } from "./stages/proxy.ts";
import { respondStep } from "./stages/respond.ts";
import { trustClient } from "./stages/trust.ts";
import { type Ctx, type Deps, runSteps, type Step, type Steps } from "./step.ts";
import { wafStep } from "./waf/stage.ts";

export interface AppOptions {
  /** Where log lines go; console.log by default (Workers Logs / wrangler tail pick it up). */
  log?: (line: string) => void;
  /** Makes request ids for requests without a CF-Ray; defaults to crypto.randomUUID. */
  generateId?: () => string;
  /** The upstream fetch; injectable so a unit test can play the backend (integration tests use real servers). */
  fetcher?: typeof fetch;
  /** Clock for sticky-cookie expiry, in milliseconds. */
  now?: () => number;
  /** The RateLimiter namespace; defaults to env.RATE_LIMITER. Tests pass a failing one to check on_error. */
  namespace?: (env: Env) => LimiterNamespace | undefined;
  /** One metrics point per request (default true); the bench turns it off to measure what it costs. */
  metrics?: boolean;
}

/** The steps of one route, in the order of the diagram above. Called by compileRuntime, once per route. */
export function routeSteps(plan: RoutePlan, runtime: Runtime): Steps {
  const route = plan.route;
  const sticky = plan.kind === "forward" && plan.targets.some((t) => t.pool.sticky !== undefined);
  const steps = [
    wafStep(runtime.waf, plan.waf),
    rateLimitStep(plan.rateLimits),
    respondStep(runtime.internalHeaders, plan.responseHeaders, sticky),
  ].filter((s): s is Step => s !== undefined);
  const answer =
    plan.kind === "redirect"
      ? redirectAnswer(route)
      : plan.kind === "respond"
        ? respondAnswer(route)
        : proxyAnswer(plan);
  return {
    steps,
    answer,
    names: [...steps.map((s) => s.name), plan.kind === "forward" ? "proxy" : plan.kind],
  };
}

/** What createApp returns: workerd's fetch handler (the export default of worker/src/index.ts). */
export interface SwitchyardApp {
  fetch(request: Request, env?: Env, ctx?: ExecutionContext): Promise<Response>;
}

const NO_ENV: Env = {};

export function createApp(options: AppOptions = {}): SwitchyardApp {
  const write = options.log ?? ((line: string) => console.log(line));
  const generateId = options.generateId ?? (() => crypto.randomUUID());
  const deps: Deps = {
    fetcher: options.fetcher ?? ((input, init) => fetch(input, init)),
    now: options.now ?? Date.now,
    rateLimiter: options.namespace ?? ((env) => env.RATE_LIMITER),
  };
  const admin = adminApi({ healthReader: resilienceHealth });
  const metrics = options.metrics ?? true;

  /**
   * Everything up to the answer: config, admin, trust, match, then the route's own steps. Not an async function:
   * a request served from the compiled config gets its steps' promise as it is, without a promise layer around it.
   */
  function route(c: Ctx, sy: RequestContext): Response | Promise<Response> {
    let live: Runtime | Promise<Runtime>;
    try {
      live = liveRuntime(c.env, c.waitUntil);
    } catch (err) {
      return routeWith(c, sy, undefined, err);
    }
    if (!(live instanceof Promise)) return routeWith(c, sy, live, undefined);
    return live.then(
      (runtime) => routeWith(c, sy, runtime, undefined),
      (err) => routeWith(c, sy, undefined, err),
    );
  }

  function routeWith(
    c: Ctx,
    sy: RequestContext,
    runtime: Runtime | undefined,
    configError: unknown,
  ): Response | Promise<Response> {
    const answered = admin(c, sy, runtime);
    if (answered !== undefined) {
      sy.admin = true;
      return answered;
    }
    if (runtime === undefined) throw configError;
    sy.runtime = runtime;
    const req = c.req;
    trustClient(sy, runtime);
    normalizeRequestPath(sy, runtime);
    matchRoute(sy, runtime, req);
    return runSteps(sy.plan!.steps, c, sy, deps, errorResponse);
  }

  // Hono stays the admin API's router (admin/routes.ts); the request path is a plain fetch handler, because
  // a catch-all Hono app in front of it cost ~14k instructions a request (2.6% of a pass-through worker's
  // whole request) for a context this path does not use.
  async function switchyard(req: Request, env: Env, executionCtx: ExecutionContext | undefined) {
    const sy = startRequest(req, generateId);
    const c: Ctx = {
      req,
      env,
      waitUntil: executionCtx ? (p) => executionCtx.waitUntil(p) : undefined,
      executionCtx,
    };
    let res: Response;
    try {
      res = await route(c, sy);
    } catch (err) {
      res = errorResponse(err, sy);
    }
    const method = req.method;
    if (metrics && !sy.admin) {
      const flushing = observeRequest(env, sy, method, res.status, c.waitUntil);
      if (flushing) await flushing;
    }
    // The KV version being served (0 for wrangler.toml's config, and without a KV binding).
    const version = env.SWITCHYARD_KV ? liveConfig(env).version : 0;
    write(logLine(sy, method, res.status, version));
    return res;
  }

  return {
    fetch(request, env, ctx) {
      return switchyard(request, env ?? NO_ENV, ctx).catch((err) => errorResponse(err, undefined));
    },
  };
}

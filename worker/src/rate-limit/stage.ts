// rate-limit stage: for each policy the matched route names, count the request under its key in the
// RateLimiter Durable Object (through the isolate's LimiterClient) → pass, or 429 with Retry-After.
// RateLimit-Policy / RateLimit headers go on limited and allowed responses alike (per policy switch).
import type { Context, Next } from "hono";
import type { PolicyState } from "../../../core/ratelimit/headers.ts";
import {
  rateLimitHeader,
  rateLimitPolicyHeader,
  retryAfterSeconds,
} from "../../../core/ratelimit/headers.ts";
import { type FetchLikeRequest, RequestFields, ruleRequestFrom } from "../../../core/rules/index.ts";
import type { AppEnv, RateLimitVerdict } from "../context.ts";
import type { Env } from "../env.ts";
import { ProxyError } from "../errors.ts";
import { LimiterClient, type LimiterNamespace } from "./client.ts";

export interface RateLimitOptions {
  /** The RateLimiter namespace; defaults to env.RATE_LIMITER. Tests pass a failing one to check on_error. */
  namespace?: (env: Env) => LimiterNamespace | undefined;
}

const clients = new WeakMap<object, LimiterClient>();

/** One client per namespace per isolate: its lease and refusal caches are what make the isolate cheap. */
export function limiterClient(ns: LimiterNamespace): LimiterClient {
  let client = clients.get(ns);
  if (!client) {
    client = new LimiterClient(ns);
    clients.set(ns, client);
  }
  return client;
}

export function rateLimit({ namespace = (env) => env.RATE_LIMITER }: RateLimitOptions = {}) {
  return async function rateLimitStage(c: Context<AppEnv>, next: Next) {
    const sy = c.var.sy;
    const policies = sy.plan?.rateLimits ?? [];
    // A WAF custom rule with action "allow" exempts the request from rate limiting too (see docs/waf.md).
    if (policies.length === 0 || sy.waf?.action === "allow") return next();
    const ns = namespace(c.env);
    if (!ns) {
      throw new ProxyError(
        "SY_CONFIG_INVALID",
        "routes use rate_limits but the worker has no RATE_LIMITER Durable Object binding; add it to wrangler.toml",
      );
    }
    const client = limiterClient(ns);
    const fields =
      sy.ruleFields ?? new RequestFields(ruleRequestFrom(c.req.raw as FetchLikeRequest, sy.clientIp));
    sy.ruleFields = fields;

    const states: PolicyState[] = [];
    let blocked: { state: PolicyState } | undefined;
    for (const p of policies) {
      const name = p.name;
      if (p.match && !p.match.test(fields)) continue;
      const key = p.key(fields);
      if (key === undefined) {
        sy.rateLimits.push({ policy: name, outcome: "skipped-no-key" });
        continue;
      }
      const result = await client.limit(p.policy, key);
      const state = { name, spec: p.policy.spec, decision: result.decision };
      if (p.headers) states.push(state);
      const verdict: RateLimitVerdict = {
        policy: name,
        outcome: result.decision.allowed ? "allowed" : p.action === "log" ? "over-logged" : "limited",
        source: result.source,
      };
      if (result.error) {
        verdict.error = result.error;
        console.error(
          JSON.stringify({
            level: "warn",
            msg: "rate limiter unavailable",
            code: "SY_RATE_LIMITER_UNAVAILABLE",
            request_id: sy.requestId,
            policy: name,
            on_error: p.policy.onError,
            error: result.error,
          }),
        );
      }
      sy.rateLimits.push(verdict);
      if (!result.decision.allowed && p.action === "block" && !blocked) blocked = { state };
    }

    const setHeaders = (headers: Headers) => {
      if (states.length === 0) return;
      headers.set("ratelimit-policy", rateLimitPolicyHeader(states));
      const current = rateLimitHeader(states);
      if (current) headers.set("ratelimit", current);
    };

    if (blocked) {
      const retryAfter = retryAfterSeconds(blocked.state.decision.retryAfterMs);
      const error = new ProxyError(
        "SY_RATE_LIMITED",
        `rate limit "${blocked.state.name}" exceeded; retry in ${retryAfter}s`,
        {
          details: { policy: blocked.state.name, retry_after: retryAfter },
        },
      );
      sy.error = error;
      const headers = new Headers({
        "content-type": "application/json; charset=utf-8",
        "retry-after": String(retryAfter),
        "x-request-id": sy.requestId,
      });
      setHeaders(headers);
      return c.body(
        JSON.stringify({
          error: {
            code: error.code,
            message: error.message,
            policy: blocked.state.name,
            retry_after: retryAfter,
          },
          request_id: sy.requestId,
        }),
        429,
        Object.fromEntries(headers),
      );
    }

    await next();
    if (states.length > 0) {
      // Upstream responses can have immutable headers; copy once when needed.
      try {
        setHeaders(c.res.headers);
      } catch {
        c.res = new Response(c.res.body, c.res);
        setHeaders(c.res.headers);
      }
    }
  };
}

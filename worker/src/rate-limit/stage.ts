// rate-limit stage: for each policy the matched route names, count the request under its key in the
// RateLimiter Durable Object (through the isolate's LimiterClient) → pass, or 429 with Retry-After.
// RateLimit-Policy / RateLimit headers go on limited and allowed responses alike (per policy switch).
import type { PolicyState } from "../../../core/ratelimit/headers.ts";
import {
  rateLimitHeader,
  rateLimitPolicyHeader,
  retryAfterSeconds,
} from "../../../core/ratelimit/headers.ts";
import type { RateLimitVerdict, RequestContext } from "../context.ts";
import { ProxyError } from "../errors.ts";
import { ruleFieldsOf } from "../stages/match.ts";
import { type Ctx, type Deps, type Step, writableResponse } from "../step.ts";
import { LimiterClient, type LimiterNamespace } from "./client.ts";
import type { CompiledPolicy } from "./policies.ts";

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

/** The route's rate-limit step (compiled with its plan); undefined when the route names no rate_limits. */
export function rateLimitStep(policies: readonly CompiledPolicy[]): Step | undefined {
  if (policies.length === 0) return undefined;
  return {
    name: "rate-limit",
    before: function rateLimitStage(c, sy, deps) {
      // A WAF custom rule with action "allow" exempts the request from rate limiting too (see docs/waf.md).
      if (sy.waf?.action === "allow") return Promise.resolve(undefined);
      return count(c, sy, deps, policies);
    },
    after: function rateLimitHeaders(_c, sy, res) {
      if (sy.rateLimitStates === undefined) return res;
      const out = writableResponse(sy, res);
      setHeaders(out.headers, sy.rateLimitStates);
      return out;
    },
  };
}

function setHeaders(headers: Headers, states: PolicyState[]): void {
  headers.set("ratelimit-policy", rateLimitPolicyHeader(states));
  const current = rateLimitHeader(states);
  if (current) headers.set("ratelimit", current);
}

async function count(
  c: Ctx,
  sy: RequestContext,
  deps: Deps,
  policies: readonly CompiledPolicy[],
): Promise<Response | undefined> {
  const ns = deps.rateLimiter(c.env);
  if (!ns) {
    throw new ProxyError(
      "SY_CONFIG_INVALID",
      "routes use rate_limits but the worker has no RATE_LIMITER Durable Object binding; add it to wrangler.toml",
    );
  }
  const client = limiterClient(ns);
  const background = c.waitUntil;
  const fields = ruleFieldsOf(sy, c.req);
  let states: PolicyState[] | undefined;
  let blocked: PolicyState | undefined;
  for (const p of policies) {
    const name = p.name;
    if (p.match && !p.match.test(fields)) continue;
    const key = p.key(fields);
    if (key === undefined) {
      sy.rateLimits.push({ policy: name, outcome: "skipped-no-key" });
      continue;
    }
    const decided = client.limit(p.policy, key, Date.now(), background);
    const result = decided instanceof Promise ? await decided : decided;
    const state = { name, spec: p.policy.spec, decision: result.decision };
    if (p.headers) {
      states ??= [];
      states.push(state);
    }
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
    if (!result.decision.allowed && p.action === "block" && !blocked) blocked = state;
  }
  sy.rateLimitStates = states;
  if (!blocked) return undefined;

  const retryAfter = retryAfterSeconds(blocked.decision.retryAfterMs);
  const error = new ProxyError(
    "SY_RATE_LIMITED",
    `rate limit "${blocked.name}" exceeded; retry in ${retryAfter}s`,
    {
      details: { policy: blocked.name, retry_after: retryAfter },
    },
  );
  sy.error = error;
  const headers = new Headers({
    "content-type": "application/json; charset=utf-8",
    "retry-after": String(retryAfter),
    "x-request-id": sy.requestId,
  });
  if (states) setHeaders(headers, states);
  const body = JSON.stringify({
    error: { code: error.code, message: error.message, policy: blocked.name, retry_after: retryAfter },
    request_id: sy.requestId,
  });
  return new Response(body, { status: 429, headers });
}

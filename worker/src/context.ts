// The typed per-request context every stage reads and writes. Stages talk to each other only through it, which
// keeps each stage replaceable and its order visible in app.ts alone.
import type { PolicyState } from "../../core/ratelimit/headers.ts";
import type { RouteMatch } from "../../core/routing/index.ts";
import type { RequestFields } from "../../core/rules/index.ts";
import type { WafDecision } from "../../core/waf/engine.ts";
import type { ProxyError } from "./errors.ts";
import type { RequestHeaders } from "./request-headers.ts";
import type { RoutePlan, Runtime, ServicePool } from "./runtime.ts";

export interface Attempt {
  /** 1 for the first try, 2 for the first retry or hedge, … (the value of the attempt header). */
  n: number;
  /** Backend base URL. */
  backend: string;
  /**
   * "response" when the backend answered (any status); otherwise why the attempt failed: connect-failure
   * (nothing was sent), reset (dropped without an answer, maybe sent), timeout (per-try or total), or
   * cancelled (a hedged attempt that lost the race).
   */
  outcome: "response" | "connect-failure" | "reset" | "timeout" | "cancelled";
  status?: number;
  ms: number;
  /** Started as a hedge while an earlier attempt was still waiting. */
  hedge?: true;
}

export interface RateLimitVerdict {
  policy: string;
  outcome: "allowed" | "limited" | "over-logged" | "skipped-no-key";
  /** Where the decision came from: the object, a local lease, a cached refusal, or on_error. */
  source?: "object" | "lease" | "cached-refusal" | "error";
  error?: string;
}

export interface RequestContext {
  requestId: string;
  /**
   * The request id is the request's CF-Ray: the client gets it on every response from Cloudflare's edge, so a
   * backend's response is not copied only to add X-Request-Id (answers Switchyard builds carry it always).
   */
  idIsRay: boolean;
  /** The request method, read once. */
  method: string;
  /** The client's headers, read from workerd once for every stage that needs them all (request-headers.ts). */
  headers: RequestHeaders;
  /** From CF-Connecting-IP; an incoming X-Forwarded-For is trusted only from forwarding.trusted_proxies. */
  clientIp: string;
  /** The client is in forwarding.trusted_proxies: its X-Forwarded-For and X-Request-Id are kept. */
  trusted: boolean;
  startedAt: number;
  /** The request URL, parsed once for every stage; its path is the normalised one after the normalise stage. */
  url: URL;
  /** The path exactly as received (set by the normalise stage). */
  rawPath?: string;
  /** Normalized host of the request (lower case, no port). */
  host: string;
  runtime?: Runtime;
  route?: RouteMatch;
  plan?: RoutePlan;
  /** The service the request was forwarded to (a split picks one per request). */
  service?: ServicePool;
  attempts: Attempt[];
  ruleFields?: RequestFields;
  rateLimits: RateLimitVerdict[];
  /** What the RateLimit/RateLimit-Policy response headers report (policies with headers on). */
  rateLimitStates?: PolicyState[];
  /** What the WAF decided (absent when the route has no WAF). */
  waf?: WafDecision;
  /** Resilience notes for the log line: the pool was in panic mode, the retry budget stopped a retry. */
  panic?: true;
  retryBudgetExhausted?: true;
  /**
   * A backend's response passed on as it came (its headers are immutable): a step that writes headers into the
   * answer gets a copy through writableResponse() (step.ts), so only a request that writes pays for one.
   */
  uncopied?: Response;
  /** A Set-Cookie value for sticky sessions, added to the response by the respond stage. */
  setCookie?: string;
  error?: ProxyError;
  /** The admin API answered (no metrics point for it). */
  admin: boolean;
}

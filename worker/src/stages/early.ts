// early: the request id and the client IP, before anything can fail, so every response and log line has them.
import { normalizeHost } from "../../../core/routing/index.ts";
import type { RequestContext } from "../context.ts";
import { RequestHeaders } from "../request-headers.ts";

/** The request's context: one object per request, every field set here so its shape never changes. */
export function startRequest(req: Request, requestId: string): RequestContext {
  const url = new URL(req.url);
  const headers = new RequestHeaders(req.headers);
  return {
    requestId,
    method: req.method,
    headers,
    clientIp: headers.get("cf-connecting-ip") ?? "",
    trusted: false,
    startedAt: Date.now(),
    url,
    rawPath: undefined,
    host: normalizeHost(headers.get("host") ?? url.host),
    runtime: undefined,
    route: undefined,
    plan: undefined,
    service: undefined,
    attempts: [],
    ruleFields: undefined,
    rateLimits: [],
    rateLimitStates: undefined,
    waf: undefined,
    panic: undefined,
    retryBudgetExhausted: undefined,
    setCookie: undefined,
    error: undefined,
    admin: false,
  };
}

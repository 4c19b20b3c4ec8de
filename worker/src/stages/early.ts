// early: the request id and the client IP, before anything can fail, so every response and log line has them.
// The request id is Cloudflare's Ray ID when the request has one (CF-Ray, which Cloudflare's edge sets on every
// request and returns to the client on every response, and which its own logs carry), else a generated one.
import { normalizeHost } from "../../../core/routing/index.ts";
import type { RequestContext } from "../context.ts";
import { RequestHeaders } from "../request-headers.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether a request id from a header (CF-Ray, or a trusted proxy's X-Request-Id) may be taken as it is. */
export const validRequestId = (id: string): boolean => REQUEST_ID.test(id);

/** The request's context: one object per request, every field set here so its shape never changes. */
export function startRequest(req: Request, generateId: () => string): RequestContext {
  const url = new URL(req.url);
  const headers = new RequestHeaders(req.headers);
  const ray = headers.get("cf-ray");
  const isRay = ray !== null && validRequestId(ray);
  return {
    requestId: isRay ? ray : generateId(),
    idIsRay: isRay,
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
    uncopied: undefined,
    setCookie: undefined,
    error: undefined,
    admin: false,
  };
}

// The one error handler: any throw becomes a ProxyError and then JSON { error: { code, message }, request_id }.
import type { Context } from "hono";
import type { AppEnv, RequestContext } from "./context.ts";
import { errorBody, toProxyError } from "./errors.ts";

export function errorResponse(err: unknown, sy: RequestContext | undefined): Response {
  const error = toProxyError(err);
  if (sy) sy.error = error;
  const requestId = sy?.requestId ?? "";
  if (error.code === "SY_INTERNAL") {
    console.error(JSON.stringify({ level: "error", request_id: requestId, msg: String(error.cause) }));
  }
  return new Response(JSON.stringify(errorBody(error, requestId)), {
    status: error.status,
    headers: { "content-type": "application/json; charset=utf-8", "x-request-id": requestId },
  });
}

/** Hono's onError: only reached if something throws outside the request path's own handling. */
export function handleError(err: unknown, c: Context<AppEnv>): Response {
  return errorResponse(err, c.get("sy"));
}

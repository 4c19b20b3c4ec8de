// The one error handler: any throw becomes a ProxyError and then JSON { error: { code, message }, request_id }.
import type { RequestContext } from "./context.ts";
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

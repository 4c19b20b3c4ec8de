// trust: whether the client is one of forwarding.trusted_proxies. Only then is its X-Request-Id kept (and its
// X-Forwarded-For extended, in prepare); everyone else gets a fresh id.
import type { RequestContext } from "../context.ts";
import type { Runtime } from "../runtime.ts";
import { validRequestId } from "./early.ts";

export function trustClient(sy: RequestContext, runtime: Runtime): void {
  const trusted = runtime.trusted;
  sy.trusted = sy.clientIp !== "" && trusted.size > 0 && trusted.hasText(sy.clientIp);
  if (sy.trusted) {
    const incoming = sy.headers.get("x-request-id");
    if (incoming && validRequestId(incoming)) {
      sy.requestId = incoming;
      sy.idIsRay = false;
    }
  }
}

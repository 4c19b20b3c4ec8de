// trust: whether the client is one of forwarding.trusted_proxies. Only then is its X-Request-Id kept (and its
// X-Forwarded-For extended, in prepare); everyone else gets a fresh id.
import type { Context, Next } from "hono";
import type { AppEnv } from "../context.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function trustClient() {
  return async function trustStage(c: Context<AppEnv>, next: Next) {
    const sy = c.var.sy;
    const trusted = sy.runtime!.trusted;
    sy.trusted = sy.clientIp !== "" && trusted.size > 0 && trusted.hasText(sy.clientIp);
    if (sy.trusted) {
      const incoming = c.req.header("x-request-id");
      if (incoming && REQUEST_ID.test(incoming)) sy.requestId = incoming;
    }
    await next();
  };
}

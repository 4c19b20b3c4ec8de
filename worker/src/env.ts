// The worker's bindings, as declared in wrangler.toml (vars) and `wrangler secret put` (secrets).
import type { RateLimiter } from "./rate-limit/limiter-object.ts";

export interface Env {
  /** The Switchyard config: a table from [vars.SWITCHYARD], or the same document as a JSON string. */
  SWITCHYARD?: unknown;
  /** HMAC secret for sticky-session cookies (a wrangler secret; .dev.vars for `wrangler dev`). */
  STICKY_SECRET?: string;
  /** RateLimiter Durable Objects: one per (rate_limits policy, key). */
  RATE_LIMITER?: DurableObjectNamespace<RateLimiter>;
}

// The worker's bindings, as declared in wrangler.toml (vars) and `wrangler secret put` (secrets).
import type { MetricsAggregator } from "./observe/aggregator-object.ts";
import type { RateLimiter } from "./rate-limit/limiter-object.ts";
import type { HealthChecker } from "./resilience/health-object.ts";

export interface Env {
  /** The Switchyard config: a table from [vars.SWITCHYARD], or the same document as a JSON string. */
  SWITCHYARD?: unknown;
  /** HMAC secret for sticky-session cookies (a wrangler secret; .dev.vars for `wrangler dev`). */
  STICKY_SECRET?: string;
  /** RateLimiter Durable Objects: one per (rate_limits policy, key). */
  RATE_LIMITER?: DurableObjectNamespace<RateLimiter>;
  /** HealthChecker Durable Objects: one per service, runs active checks and shares ejections. */
  HEALTH_CHECKER?: DurableObjectNamespace<HealthChecker>;
  /**
   * Set by `switchyard deploy` when the config is too large for a variable: the KV config version this deploy
   * serves (or a newer one). Until it can be read, requests get 503 rather than the reduced SWITCHYARD var.
   */
  SWITCHYARD_KV_VERSION?: string;
  /** Workers KV namespace holding the live config (key "config", see core/config/store.ts); overrides SWITCHYARD. */
  SWITCHYARD_KV?: KVNamespace;
  /** Bearer token of the admin API (a wrangler secret). Unset: the admin API answers 404 to everything. */
  ADMIN_TOKEN?: string;
  /** MetricsAggregator Durable Object: sums the isolates' metric batches for /metrics and the dashboard. */
  METRICS?: DurableObjectNamespace<MetricsAggregator>;
  /** Workers static assets ([assets] in wrangler.toml): the dashboard page, worker/assets/dashboard.html. */
  ASSETS?: Fetcher;
  /** Workers Analytics Engine dataset: one data point per request, for production dashboards and SQL. */
  ANALYTICS?: AnalyticsEngineDataset;
}

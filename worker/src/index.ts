// The worker's entry point: exports only. The stage order lives in app.ts.
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { scheduled } from "./resilience/scheduled.ts";

export { MetricsAggregator } from "./observe/aggregator-object.ts";
export { RateLimiter } from "./rate-limit/limiter-object.ts";
export { HealthChecker } from "./resilience/health-object.ts";

const app = createApp();
// fetch serves requests; scheduled (the cron trigger) re-arms the health-check alarms.
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;

// The worker with its log line and/or metrics point switched off (esbuild defines SY_BENCH_LOG and
// SY_BENCH_METRICS), so the bench's per-stage rows can measure each as the difference between two workers.
import { createApp } from "../../worker/src/app.ts";

export { MetricsAggregator } from "../../worker/src/observe/aggregator-object.ts";
export { RateLimiter } from "../../worker/src/rate-limit/limiter-object.ts";
export { HealthChecker } from "../../worker/src/resilience/health-object.ts";

declare const SY_BENCH_LOG: boolean;
declare const SY_BENCH_METRICS: boolean;

const app = createApp({ log: SY_BENCH_LOG ? undefined : () => {}, metrics: SY_BENCH_METRICS });
export default { fetch: app.fetch };

// The worker's entry point: exports only. The stage order lives in app.ts.
import { app } from "./app.ts";

export { MetricsAggregator } from "./observe/aggregator-object.ts";
export { RateLimiter } from "./rate-limit/limiter-object.ts";
export default app;

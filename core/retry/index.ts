// Retry policy shared by the worker's proxy loop: the decision, backoff with jitter, the retry budget.
export { backoffDelay, parseRetryAfter } from "./backoff.ts";
export { type RetryBudget, type RetryBudgetOptions, retryBudget } from "./budget.ts";
export {
  type AttemptOutcome,
  GATEWAY_ERROR_STATUSES,
  IDEMPOTENT_METHODS,
  idempotent,
  RETRY_CONDITIONS,
  type RetryCondition,
  type RetryPolicy,
  retryOn,
  shouldRetry,
} from "./policy.ts";

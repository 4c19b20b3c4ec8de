// One error type for the whole request path (after Pingora's Error and Hono's HTTPException): a stable code,
// the HTTP status it becomes, where it came from, whether a retry is safe, and the original cause.
// Codes are documented with "how to fix" in docs/errors.md; keep them stable.

export type ErrorSource = "downstream" | "upstream" | "internal" | "config";

export const ERROR_CODES = {
  SY_NO_ROUTE: { status: 404, source: "downstream" },
  SY_PATH_REJECTED: { status: 400, source: "downstream" },
  SY_RATE_LIMITED: { status: 429, source: "downstream" },
  SY_WAF_BLOCKED: { status: 403, source: "downstream" },
  SY_CONFIG_MISSING: { status: 500, source: "config" },
  SY_CONFIG_INVALID: { status: 500, source: "config" },
  SY_NO_BACKEND: { status: 503, source: "internal" },
  SY_UPSTREAM_UNAVAILABLE: { status: 502, source: "upstream" },
  SY_UPSTREAM_FAILED: { status: 502, source: "upstream" },
  SY_UPSTREAM_TIMEOUT: { status: 504, source: "upstream" },
  SY_INTERNAL: { status: 500, source: "internal" },
  SY_ADMIN_DISABLED: { status: 404, source: "config" },
  SY_ADMIN_UNAUTHORIZED: { status: 401, source: "downstream" },
  SY_ADMIN_BAD_REQUEST: { status: 400, source: "downstream" },
  SY_ADMIN_NOT_FOUND: { status: 404, source: "downstream" },
  SY_ADMIN_NO_HEALTH_OBJECT: { status: 409, source: "config" },
  SY_ADMIN_NO_KV: { status: 409, source: "config" },
  SY_ADMIN_NO_DASHBOARD: { status: 404, source: "config" },
  SY_CONFIG_REJECTED: { status: 422, source: "downstream" },
  SY_CONFIG_CONFLICT: { status: 412, source: "downstream" },
  SY_CONFIG_VERSION_NOT_FOUND: { status: 404, source: "downstream" },
  SY_CONFIG_KV_UNAVAILABLE: { status: 503, source: "internal" },
} as const satisfies Record<string, { status: number; source: ErrorSource }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ProxyErrorOptions {
  status?: number;
  retryable?: boolean;
  cause?: unknown;
  /** Extra fields for the JSON body, e.g. the list of config problems. */
  details?: Record<string, unknown>;
}

export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ProxyErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "ProxyError";
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.source = ERROR_CODES[code].source;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** Anything thrown → a ProxyError; unknown throws become SY_INTERNAL with the original as cause. */
export function toProxyError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  return new ProxyError("SY_INTERNAL", "the load balancer failed while handling the request", { cause: err });
}

/** The JSON body every Switchyard-generated error has: { error: { code, message, ... }, request_id }. */
export function errorBody(err: ProxyError, requestId: string): Record<string, unknown> {
  return { error: { code: err.code, message: err.message, ...err.details }, request_id: requestId };
}

// The typed per-request context every stage reads and writes (Hono variable "sy"). Stages talk to each other
// only through it, which keeps each stage replaceable and its order visible in app.ts alone.
import type { RouteMatch } from "../../core/routing/index.ts";
import type { Env } from "./env.ts";
import type { ProxyError } from "./errors.ts";
import type { Runtime, ServicePool } from "./runtime.ts";

export interface Attempt {
  /** Backend base URL. */
  backend: string;
  /** "response" when the backend answered (any status), otherwise why the attempt failed. */
  outcome: "response" | "connect-failure" | "send-failure";
  status?: number;
  ms: number;
}

export interface RequestContext {
  requestId: string;
  /** From CF-Connecting-IP; an incoming X-Forwarded-For is never trusted. "" when absent (local dev). */
  clientIp: string;
  startedAt: number;
  /** Normalized host of the request (lower case, no port). */
  host: string;
  runtime?: Runtime;
  route?: RouteMatch;
  service?: ServicePool;
  attempts: Attempt[];
  error?: ProxyError;
}

export type AppEnv = { Bindings: Env; Variables: { sy: RequestContext } };

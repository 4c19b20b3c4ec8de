// The request's waitUntil, for work that may finish after the response (KV re-checks, metric flushes).
import type { Context } from "hono";

/** ctx.waitUntil, or undefined when the app is called without an execution context (app.fetch in tests). */
export function waitUntilOf(c: Context): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined;
  }
}

// Cloudflare's documented Workers limits that a deploy can check before anything is uploaded (developers'
// docs, "Workers › Platform › Limits"). One table, so the figures are stated once.

export type Plan = "free" | "paid";

export interface PlanLimits {
  /** Size of one environment variable (text or JSON), in bytes: 5 KB on every plan. */
  varBytes: number;
  /** Environment variables per Worker, secrets included. */
  vars: number;
  /** The Worker's size after gzip compression. */
  bundleGzipBytes: number;
  /** CPU time of one request; a fresh isolate's first request also validates and compiles the config. */
  requestCpuMs: number;
  /** Global scope evaluation at startup. */
  startupMs: number;
}

const KB = 1024;
const MB = 1024 * KB;

export const LIMITS: Record<Plan, PlanLimits> = {
  free: { varBytes: 5 * KB, vars: 64, bundleGzipBytes: 3 * MB, requestCpuMs: 10, startupMs: 1000 },
  paid: { varBytes: 5 * KB, vars: 128, bundleGzipBytes: 10 * MB, requestCpuMs: 30_000, startupMs: 1000 },
};

/** The size Cloudflare counts for a var: its text, or the JSON of a table/object var. */
export function varBytes(value: unknown): number {
  return new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)).length;
}

export const kib = (n: number): string =>
  n < 10 * KB ? `${(n / KB).toFixed(1)} KB` : `${Math.round(n / KB)} KB`;

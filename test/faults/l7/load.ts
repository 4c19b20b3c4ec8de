// Steady load for the L7 fault scenarios: `total` requests from `concurrency` clients, with faults injected
// when given request numbers are reached, and the worker's own log lines to count retries.
import { env } from "cloudflare:workers";
import type { ConfigInput } from "../../../core/config/index.ts";
import type { AppOptions } from "../../../worker/src/app.ts";
import { makeCaller } from "../../worker/helpers.ts";

export interface LoadResult {
  statuses: number[];
  /** Requests whose log line shows more than one attempt. */
  retried: number;
  failed: number;
  logs: string[];
}

export interface LoadOptions {
  total: number;
  concurrency: number;
  /** Faults to inject: before request i is sent, the client sending it awaits at[i](). */
  at?: Record<number, () => Promise<unknown>>;
  path?: (i: number) => string;
  /** Request headers, e.g. cf-connecting-ip for rate-limit keys. */
  headers?: Record<string, string>;
  options?: AppOptions;
  extraEnv?: Record<string, unknown>;
}

/** Runs the load against a worker app serving `config`; failed = answers other than 200. */
export async function steadyLoad(config: ConfigInput, o: LoadOptions): Promise<LoadResult> {
  const { call, logs } = makeCaller(config, o.options, { HEALTH_CHECKER: env.HEALTH_CHECKER, ...o.extraEnv });
  const statuses: number[] = [];
  let next = 0;
  const client = async () => {
    while (next < o.total) {
      const i = next++;
      await o.at?.[i]?.();
      const res = await call(`http://faults.test${o.path?.(i) ?? `/item/${i}`}`, { headers: o.headers });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  const retried = logs.filter(
    (l) => ((JSON.parse(l) as { attempts?: unknown[] }).attempts?.length ?? 0) > 1,
  ).length;
  return { statuses, retried, failed: statuses.filter((s) => s !== 200).length, logs };
}

let seq = 0;
/** A service name not used before in this isolate, so per-isolate health and budget state start fresh. */
export const freshName = (label: string) => `${label}-${Date.now()}-${seq++}`;

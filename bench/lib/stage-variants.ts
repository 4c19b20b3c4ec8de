// The workers that differ in one stage each, shared by the bench's stage rows (bench/sections/worker-stages.ts)
// and the instruction counter (scripts/count-worker-instructions.ts -- --config stages):
//   bare      one route, no WAF, no rate limit, log and metrics off (bench/workerd/stages-entry.ts)
//   log       bare + the log line        observe  bare + the metrics point
//   match     bare with the realistic 200-route table (request matches mid-table) instead of one route
//   waf       bare + the managed WAF     rate_limit  bare + an approximate rate limit on ip.src
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type WranglerInfo, writeSwitchyardConfig } from "../workerd/config.ts";
import { oneRouteConfig, REALISTIC_REQUEST, realisticConfig } from "./configs.ts";

export interface StageSpec {
  key: "bare" | "log" | "observe" | "match" | "waf" | "rate_limit";
  /** The directory of the bundle to serve (stages-entry.ts built with the log line and metrics on or off). */
  dist: string;
  /** The Switchyard config. */
  doc: unknown;
  /** The Host header the config routes. */
  host: string;
}

/** Writes the workerd config that serves one variant on `port`. */
export function writeStageConfig(
  s: StageSpec,
  file: string,
  port: number,
  wrangler: WranglerInfo,
  v8Flags?: string[],
): void {
  writeSwitchyardConfig({
    file,
    port,
    wrangler,
    modules: [{ name: "index.js", path: join(s.dist, "index.js"), kind: "esModule" }],
    switchyard: s.doc,
    v8Flags,
  });
}

/** stages-entry.ts bundled with the log line and the metrics point switched on or off. */
async function bundle(root: string, dir: string, log: boolean, metrics: boolean): Promise<string> {
  const { build } = await import("esbuild");
  const out = join(dir, `stages-${log ? "log" : "nolog"}-${metrics ? "metrics" : "nometrics"}`);
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(root, "bench/workerd/stages-entry.ts")],
    outfile: join(out, "index.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    minify: true,
    define: { SY_BENCH_LOG: String(log), SY_BENCH_METRICS: String(metrics) },
    logLevel: "silent",
  });
  return out;
}

/** Builds the three bundles into `dir` and returns the six variants, bare first. */
export async function stageSpecs(root: string, dir: string, backends: string[]): Promise<StageSpec[]> {
  const noWaf = { managed: { enabled: false } };
  const one = (extra: Record<string, unknown> = {}) => ({
    ...oneRouteConfig(backends[0]!),
    waf: noWaf,
    ...extra,
  });
  const table = { ...realisticConfig(backends, []).doc, waf: noWaf };
  const rateLimited = one({
    rate_limits: [{ name: "per-ip", key: "ip.src", limit: 100_000_000, period: "1m", mode: "approximate" }],
  });
  (rateLimited.routes as { rate_limit?: string }[])[0]!.rate_limit = "per-ip";
  const bare = await bundle(root, dir, false, false);
  const log = await bundle(root, dir, true, false);
  const metrics = await bundle(root, dir, false, true);
  const host = "bench.example.com";
  return [
    { key: "bare", dist: bare, doc: one(), host },
    { key: "log", dist: log, doc: one(), host },
    { key: "observe", dist: metrics, doc: one(), host },
    { key: "match", dist: bare, doc: table, host: REALISTIC_REQUEST.host },
    { key: "waf", dist: bare, doc: one({ waf: undefined }), host },
    { key: "rate_limit", dist: bare, doc: rateLimited, host },
  ];
}

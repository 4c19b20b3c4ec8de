// What the worker profiling scripts share: the bundle built as `wrangler deploy` builds it, and the bench's
// target (nginx with two ports, the one-route or realistic config, the request the bench sends).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { oneRouteConfig, REALISTIC_REQUEST, realisticConfig } from "../../bench/lib/configs.ts";
import { freePort, type Procs } from "../../bench/lib/procs.ts";
import { startNginx } from "../../bench/lib/servers.ts";
import {
  bundleModules,
  readWrangler,
  type WranglerInfo,
  writeSwitchyardConfig,
} from "../../bench/workerd/config.ts";

/** `wrangler deploy --dry-run` into `out` (unminified on request, so profiles name functions); returns `out`. */
export function buildWorker(root: string, out: string, minify: boolean): string {
  const args = [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out];
  if (!minify) args.push("--no-minify");
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) throw new Error("wrangler deploy --dry-run failed");
  return out;
}

export interface WorkerTarget {
  wrangler: WranglerInfo;
  /** The nginx backends: two ports of one server. */
  backends: string[];
  /** The Switchyard config: one route, or the bench's realistic one. */
  doc: unknown;
  path: string;
  /** The bench's request headers, with the Host the config routes. */
  headers: Record<string, string>;
  /** Writes the workerd config serving the bundle in `dist` with this target's Switchyard config. */
  writeSwitchyard(file: string, port: number, dist: string, v8Flags?: string[]): void;
}

export async function startTarget(
  root: string,
  procs: Procs,
  tmp: string,
  config: "one" | "realistic",
): Promise<WorkerTarget> {
  const wrangler = readWrangler(join(root, "wrangler.toml"));
  const [p1, p2] = [await freePort(), await freePort()];
  await startNginx(procs, tmp, [p1, p2]);
  const backends = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`];
  const realistic = config === "realistic";
  const doc = realistic ? realisticConfig(backends).doc : oneRouteConfig(backends[0]!);
  const { path, host, headers } = REALISTIC_REQUEST;
  return {
    wrangler,
    backends,
    doc,
    path,
    headers: { ...headers, Host: realistic ? host : "bench.example.com" },
    writeSwitchyard(file, port, dist, v8Flags) {
      const modules = bundleModules(dist, wrangler.main);
      writeSwitchyardConfig({ file, port, wrangler, modules, switchyard: doc, v8Flags });
    },
  };
}

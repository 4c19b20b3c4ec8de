// The rate limiter's cost under plain `workerd serve` (RateLimiter objects in memory, one nginx backend):
// Switchyard with one route and no limit, with an exact-mode limit, and with an approximate-mode limit, in
// interleaved rounds. Reports the latency the limiter adds (p50, p99) and object calls per request, read from
// the worker's own log lines (rate_limits[].source: "object" is a call, "lease" a local decision).
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchContext, errorText, median } from "../lib/context.ts";
import { freePort, waitForPort } from "../lib/procs.ts";
import { startNginx } from "../lib/servers.ts";
import { runWrk, type WrkResult } from "../lib/wrk.ts";
import { bundleModules, readWrangler, writeSwitchyardConfig } from "../workerd/config.ts";

const CONNECTIONS = 16;
const KEY_HEADER = "x-bench-key";

interface Variant {
  key: "none" | "exact" | "approximate";
  label: string;
  port: number;
  results: WrkResult[];
  error?: string;
}

function config(backend: string, mode?: "exact" | "approximate"): unknown {
  return {
    services: [{ name: "origin", backends: [{ url: backend }] }],
    routes: [{ name: "all", service: "origin", ...(mode ? { rate_limit: "bench" } : {}) }],
    // A limit that is never reached: this measures the cost of asking, not of refusing.
    rate_limits: mode
      ? [
          {
            name: "bench",
            key: `http.request.headers["${KEY_HEADER}"]`,
            limit: 1_000_000_000,
            period: "1s",
            mode,
            deadline: "1s",
          },
        ]
      : [],
  };
}

export async function rateLimitSection(ctx: BenchContext): Promise<void> {
  const sec = ctx.results.section(
    `Rate limiter cost (workerd serve, wrk 1 thread × ${CONNECTIONS} connections)`,
  );
  if ("error" in ctx.bundle) {
    sec.skip("rate limiter", ctx.bundle.error);
    return;
  }
  const dir = join(ctx.tmp, "workerd-rl");
  mkdirSync(dir, { recursive: true });
  const workerd = join(ctx.root, "node_modules/.bin/workerd");
  const wrangler = readWrangler(ctx.bundle.wranglerToml);
  const modules = bundleModules(ctx.bundle.dir, wrangler.main);
  const nginxPort = await freePort();
  await startNginx(ctx.procs, join(ctx.tmp, "nginx-rl"), [nginxPort]);
  const backend = `http://127.0.0.1:${nginxPort}`;

  const variants: Variant[] = [
    { key: "none", label: "no rate limit", port: 0, results: [] },
    { key: "exact", label: "exact mode", port: 0, results: [] },
    { key: "approximate", label: "approximate mode", port: 0, results: [] },
  ];
  for (const v of variants) {
    try {
      v.port = await freePort();
      const file = join(dir, `${v.key}.capnp`);
      writeSwitchyardConfig({
        file,
        port: v.port,
        wrangler,
        modules,
        switchyard: config(backend, v.key === "none" ? undefined : v.key),
      });
      const child: ChildProcess = ctx.procs.start(
        `workerd-rl-${v.key}`,
        workerd,
        ["serve", "--experimental", file],
        {
          cwd: dir,
        },
      );
      await waitForPort(v.port, 30_000, child);
    } catch (err) {
      v.error = `workerd did not start: ${errorText(err)}`;
    }
  }

  const live = variants.filter((v) => !v.error);
  const seconds = ctx.quick ? 3 : 6;
  const rounds = ctx.quick ? 1 : 3;
  const wrk = (v: Variant, s: number) =>
    runWrk(ctx.procs, {
      url: `http://127.0.0.1:${v.port}/`,
      seconds: s,
      connections: CONNECTIONS,
      headers: { Host: "bench.example.com", [KEY_HEADER]: "tenant-1" },
    });
  for (const v of live) await wrk(v, 1).catch(() => undefined);
  for (let r = 0; r < rounds; r++) {
    for (const v of live.map((_, i) => live[(i + r) % live.length]!)) {
      if (Date.now() > ctx.deadline) break;
      try {
        v.results.push(await wrk(v, seconds));
      } catch (err) {
        v.error = errorText(err);
      }
    }
  }

  const base = variants[0]!;
  for (const v of variants) {
    if (v.results.length === 0) {
      sec.skip(`${v.label}: requests/s`, v.error ?? "not measured (time budget)");
      continue;
    }
    const p50 = median(v.results.map((x) => x.p50Ms));
    const p99 = median(v.results.map((x) => x.p99Ms));
    sec.add(
      `rate_limit.${v.key}.rps`,
      `${v.label}: requests/s`,
      median(v.results.map((x) => x.rps)),
      "req/s",
    );
    sec.add(`rate_limit.${v.key}.p50_ms`, `${v.label}: p50 latency`, p50, "ms");
    sec.add(`rate_limit.${v.key}.p99_ms`, `${v.label}: p99 latency`, p99, "ms");
    if (v === base || base.results.length === 0) continue;
    sec.add(
      `rate_limit.${v.key}.added_p50_ms`,
      `${v.label}: p50 added by the limiter`,
      p50 - median(base.results.map((x) => x.p50Ms)),
      "ms",
    );
    sec.add(
      `rate_limit.${v.key}.added_p99_ms`,
      `${v.label}: p99 added by the limiter`,
      p99 - median(base.results.map((x) => x.p99Ms)),
      "ms",
    );
    const calls = objectCallsPerRequest(join(ctx.procs.logDir, `workerd-rl-${v.key}.log`));
    if (calls === undefined)
      sec.skip(`${v.label}: object calls per request`, "no log lines with rate_limits found");
    else
      sec.add(
        `rate_limit.${v.key}.object_calls_per_request`,
        `${v.label}: object calls per request`,
        calls,
        "ratio",
      );
  }
}

/** Share of logged requests whose rate-limit decision needed a call to the object. */
function objectCallsPerRequest(logFile: string): number | undefined {
  let requests = 0;
  let calls = 0;
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (!line.includes('"rate_limits"')) continue;
    try {
      const entry = JSON.parse(line) as { rate_limits?: { source?: string }[] };
      requests++;
      if (entry.rate_limits?.some((r) => r.source === "object")) calls++;
    } catch {}
  }
  return requests === 0 ? undefined : calls / requests;
}

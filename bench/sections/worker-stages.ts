// Per-stage cost of the worker's request path: each stage's cost is the difference between two workers that
// differ only in that stage, measured in the same run against the same nginx, rounds interleaved. Two measures:
// workerd's CPU time per request (from /proc, far steadier on a shared machine) and 1/rps differences. The
// variants are in bench/lib/stage-variants.ts; the "proxy" row is bare − the pass-through worker: the shell, the
// one-route match and the proxy loop.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REALISTIC_REQUEST } from "../lib/configs.ts";
import { type BenchContext, errorText, median } from "../lib/context.ts";
import { probe } from "../lib/http-probe.ts";
import { freePort, stop, waitForPort } from "../lib/procs.ts";
import type { SectionWriter } from "../lib/results.ts";
import { type StageSpec, stageSpecs, writeStageConfig } from "../lib/stage-variants.ts";
import { runWrk } from "../lib/wrk.ts";
import { type WranglerInfo, writePassthroughConfig } from "../workerd/config.ts";

interface StageVariant {
  key: string;
  port: number;
  pid: number;
  host: string;
  rps: number[];
  cpuUs: number[];
}

/** utime + stime of a process, in µs (clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

export async function stageCosts(
  ctx: BenchContext,
  sec: SectionWriter,
  wrangler: WranglerInfo,
  backends: string[],
): Promise<void> {
  const dir = join(ctx.tmp, "stages");
  mkdirSync(dir, { recursive: true });
  const workerd = join(ctx.root, "node_modules/.bin/workerd");
  const { path, headers } = REALISTIC_REQUEST;
  const specs: (StageSpec | { key: "passthrough"; host: string })[] = [
    { key: "passthrough", host: "bench.example.com" },
    ...(await stageSpecs(ctx.root, dir, backends)),
  ];
  const live: StageVariant[] = [];
  for (const s of specs) {
    const port = await freePort();
    const file = join(dir, `${s.key}.capnp`);
    if (s.key === "passthrough") writePassthroughConfig(file, port, backends[0]!, wrangler.compatibilityDate);
    else writeStageConfig(s, file, port, wrangler);
    const child = ctx.procs.start(`workerd-stage-${s.key}`, workerd, ["serve", "--experimental", file], {
      cwd: dir,
    });
    try {
      await waitForPort(port, 30_000, child);
      await probe(port, path, { ...headers, Host: s.host });
      live.push({ key: s.key, port, pid: child.pid!, host: s.host, rps: [], cpuUs: [] });
    } catch (err) {
      await stop(child);
      sec.skip(`stage ${s.key}`, errorText(err));
    }
  }
  const seconds = ctx.quick ? 2 : 3;
  const rounds = ctx.quick ? 2 : 4;
  const wrk = (v: StageVariant, s: number) =>
    runWrk(ctx.procs, {
      url: `http://127.0.0.1:${v.port}${path}`,
      seconds: s,
      connections: 16,
      headers: { ...headers, Host: v.host },
    });
  for (const v of live) await wrk(v, 1).catch(() => undefined);
  for (let r = 0; r < rounds && Date.now() < ctx.deadline; r++) {
    for (let i = 0; i < live.length; i++) {
      const v = live[(i + r) % live.length]!;
      const before = cpuMicros(v.pid);
      const w = await wrk(v, seconds).catch(() => undefined);
      if (!w || w.requests === 0) continue;
      v.rps.push(w.rps);
      v.cpuUs.push((cpuMicros(v.pid) - before) / w.requests);
    }
  }
  const by = new Map(live.map((v) => [v.key, v]));
  const row = (key: string, base: string, label: string) => {
    const v = by.get(key);
    const b = by.get(base);
    if (!v?.rps.length || !b?.rps.length) return sec.skip(`stage cost: ${label}`, "not measured");
    sec.add(
      `worker.stage.${key}.cpu_us`,
      `stage cost: ${label} (workerd CPU per request)`,
      median(v.cpuUs) - median(b.cpuUs),
      "us",
    );
    const n = Math.min(v.rps.length, b.rps.length);
    const d = median(Array.from({ length: n }, (_, i) => (1 / v.rps[i]! - 1 / b.rps[i]!) * 1e6));
    sec.add(`worker.stage.${key}.us`, `stage cost: ${label} (1/rps difference)`, d, "us");
  };
  row("bare", "passthrough", "proxy (shell, 1-route match, proxy loop) = bare − pass-through");
  row("log", "bare", "log line");
  row("observe", "bare", "observe (metrics point)");
  row("match", "bare", "match, 200 routes instead of 1");
  row("waf", "bare", "WAF (managed, paranoia 1)");
  row("rate_limit", "bare", "rate limit (approximate)");
  sec.note(
    "Stage costs: each row is the difference between two workers that differ only in that stage (bench/sections/" +
      "worker-stages.ts), rounds interleaved; workerd CPU per request comes from /proc and is the steadier measure.",
  );
}

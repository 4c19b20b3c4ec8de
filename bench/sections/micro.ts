// Microbenchmarks: route matching and WAF (bench/*.bench.ts, written with the features they measure, run in a
// child process each) and config compile time for 10,000 routes, measured here.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BenchContext, errorText, median } from "../lib/context.ts";
import { oneLineTail } from "../lib/procs.ts";
import type { SectionWriter, Unit } from "../lib/results.ts";

const MARKER = "BENCH-FIGURES ";

export async function microSection(ctx: BenchContext): Promise<void> {
  await moduleBench(ctx, "route_match", "Route matching (mitata)", "bench/route-match.bench.ts");
  await moduleBench(ctx, "waf", "WAF per request (mitata)", "bench/waf.bench.ts");
  await moduleBench(ctx, "log_line", "Worker log line alone (mitata)", "bench/log-line.bench.ts");
  await compileTime(ctx);
}

async function moduleBench(ctx: BenchContext, prefix: string, title: string, rel: string): Promise<void> {
  const sec = ctx.results.section(title);
  const file = join(ctx.root, rel);
  if (!existsSync(file)) {
    sec.skip(title, `not available (${rel} does not exist yet)`);
    return;
  }
  const timeout = ctx.quick ? 40_000 : 240_000;
  const args = [join(ctx.root, "bench/helpers/run-module.ts"), file, ...(ctx.quick ? ["--quick"] : [])];
  const r = await ctx.procs.run(process.execPath, args, timeout, { cwd: ctx.root });
  const line = r.stdout.split("\n").find((l) => l.startsWith(MARKER));
  if (r.timedOut) return sec.skip(title, `${rel} did not finish within ${timeout / 1000} s`);
  if (r.code !== 0 || !line) return sec.skip(title, `${rel} failed: ${oneLineTail(r.stderr || r.stdout)}`);
  try {
    const { figures } = JSON.parse(line.slice(MARKER.length)) as { figures: unknown };
    const flat = flatten(figures).map(
      ([k, v]) => [k.startsWith(`${prefix}.`) ? k : `${prefix}.${k}`, v] as const,
    );
    if (flat.length === 0) return sec.skip(title, `${rel} returned no numeric figures`);
    // `target_<what>_<unit>` figures are goals, not measurements: they go in the Target column of <what>.
    const targets = new Map<string, string>();
    for (const [k, v] of flat) {
      const m = /^(.*)\.target_(.+)_(us|ms|ns)$/.exec(k);
      if (!m) continue;
      const of = TARGET_OF[k] ?? `${m[1]}.${m[2]}_median_${m[3]}`;
      targets.set(of, `≤ ${v} ${m[3] === "us" ? "µs" : m[3]}`);
    }
    for (const [k, v] of flat) {
      if (/\.target_/.test(k)) {
        if (![...targets.keys()].some((t) => flat.some(([n]) => n === t))) sec.note(`${k} = ${v}`);
        continue;
      }
      addFigure(sec, k, v, targets.get(k));
    }
  } catch (err) {
    sec.skip(title, `${rel} printed figures that are not JSON: ${errorText(err)}`);
  }
}

/** Nested objects and arrays of { name, value } become dotted names; only finite numbers are kept. */
function flatten(v: unknown, prefix = ""): [string, number][] {
  if (typeof v === "number") return Number.isFinite(v) && prefix ? [[prefix, v]] : [];
  if (Array.isArray(v))
    return v.flatMap((item, i) => {
      const o = item as { name?: unknown; value?: unknown };
      return typeof o?.name === "string" && typeof o.value === "number"
        ? flatten(o.value, join2(prefix, o.name))
        : flatten(item, join2(prefix, String(i)));
    });
  if (v !== null && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => flatten(x, join2(prefix, k)));
  return [];
}
const join2 = (a: string, b: string) => (a ? `${a}.${b}` : b);

function unitOf(name: string): Unit {
  if (/(_|\.)us$/.test(name)) return "us";
  if (/(_|\.)ms$/.test(name)) return "ms";
  if (/(_|\.)ns$/.test(name)) return "ns";
  if (/(ratio|speedup|_vs_|\.x$|_x$)/.test(name)) return "ratio";
  if (/(ops|per_s|rps)$/.test(name)) return "ops/s";
  return "count";
}

/** Targets whose figure is not `<what>_median_<unit>`. */
const TARGET_OF: Record<string, string> = {
  "route_match.target_10000_us": "route_match.routes_10000.indexed_median_us",
  "waf.target_crafted_128k_worst_ms": "waf.crafted_128k_worst_ms",
};

function addFigure(sec: SectionWriter, name: string, value: number, target?: string): void {
  const label = name
    .split(".")
    .slice(1)
    .join(": ")
    .replace(/^routes_(\d+)/, (_, n: string) => `${Number(n).toLocaleString("en-US")} routes`)
    .replace(/_(us|ms|ns)$/, "")
    .replace(/_/g, " ");
  sec.add(name, label, value, unitOf(name), { target });
}

async function compileTime(ctx: BenchContext): Promise<void> {
  const sec = ctx.results.section("Config compile, 10,000 routes (fresh process)");
  const runs = ctx.quick ? 3 : 7;
  const r = await ctx.procs.run(
    process.execPath,
    [join(ctx.root, "bench/helpers/compile-time.ts"), "10000", String(runs)],
    ctx.quick ? 40_000 : 120_000,
    { cwd: ctx.root },
  );
  if (r.code !== 0) return sec.skip("parse + compile", `failed: ${oneLineTail(r.stderr || r.stdout)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
    compileName: string | null;
    parse: number[];
    compile: number[] | null;
  };
  const total = out.parse.map((p, i) => p + (out.compile?.[i] ?? 0));
  sec.add(
    "config_compile.routes_10000.parse_ms",
    "parseConfig (validate + freeze), median",
    median(out.parse),
    "ms",
  );
  if (out.compile) {
    sec.add(
      "config_compile.routes_10000.compile_ms",
      `${out.compileName} (core/routing), median`,
      median(out.compile),
      "ms",
    );
  } else sec.skip("route compile", "core/routing exports no compile function yet");
  sec.add("config_compile.routes_10000.total_ms", `parse + compile, median of ${runs}`, median(total), "ms", {
    target: "≤ 200 ms",
  });
  sec.add(
    "config_compile.routes_10000.cold_total_ms",
    "parse + compile, first run (cold JIT)",
    total[0]!,
    "ms",
  );
}

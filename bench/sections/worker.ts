// Worker throughput and latency under plain `workerd serve`, all against one nginx: (a) a pass-through worker,
// (b) Switchyard with one route, (c) Switchyard with the realistic config, (d) HAProxy as an HTTP proxy, and
// (e) the floor under (c): a worker that makes only the calls into workerd that (c)'s features need.
// Rounds interleave the variants (in rotating order) so that drift on a shared machine hits all of them alike.
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { type BenchContext, errorText, median } from "../lib/context.ts";
import { activeFeatures, type ProbeResult, probe } from "../lib/http-probe.ts";
import { freePort, stop, waitForPort } from "../lib/procs.ts";
import type { SectionWriter } from "../lib/results.ts";
import { startHaproxy, startNginx } from "../lib/servers.ts";
import { runWrk, type WrkResult } from "../lib/wrk.ts";
import {
  bundleModules,
  readWrangler,
  writePassthroughConfig,
  writeSwitchyardConfig,
} from "../workerd/config.ts";
import { stageCosts } from "./worker-stages.ts";

const CONNECTIONS = 16;

interface Variant {
  key: string;
  label: string;
  port: number;
  headers: Record<string, string>;
  path: string;
  results: WrkResult[];
  error?: string;
  note?: string;
}

export async function workerSection(ctx: BenchContext): Promise<void> {
  // Imported here, not at the top: core/ changes under our feet while others work, and a broken import must
  // cost this section only, not the whole run.
  const configs = await import("../lib/configs.ts");
  const sec = ctx.results.section(`Worker HTTP (workerd serve, wrk 1 thread × ${CONNECTIONS} connections)`);
  const dir = join(ctx.tmp, "workerd");
  mkdirSync(dir, { recursive: true });
  const workerdBin = join(ctx.root, "node_modules/.bin/workerd");

  const [p1, p2] = [await freePort(), await freePort()];
  await startNginx(ctx.procs, ctx.tmp, [p1, p2]);
  const backend = `http://127.0.0.1:${p1}`;
  const backends = [backend, `http://127.0.0.1:${p2}`];

  // Same request line and headers for every variant, so only the proxy differs; (c) needs its routed host.
  const { path, host, headers } = configs.REALISTIC_REQUEST;
  const variant = (key: string, label: string, h = "bench.example.com"): Variant => ({
    key,
    label,
    port: 0,
    path,
    headers: { ...headers, Host: h },
    results: [],
  });
  const a = variant("passthrough", "(a) pass-through worker");
  const b = variant("one_route", "(b) Switchyard, 1 route");
  const c = variant("realistic", "(c) Switchyard, realistic config", host);
  const d = variant("haproxy", "(d) HAProxy, mode http");
  const e = variant(
    "floor",
    "(e) floor under (c): its workerd calls, no routing logic (bench/workerd/floor.js)",
  );
  const direct = variant("nginx_direct", "nginx directly (no proxy)");
  const variants = [a, b, c, d, e, direct];

  let attempt = 0;
  /** Starts workerd on a capnp config and probes it; on any failure it is stopped again. */
  const up = async (v: Variant, write: (file: string, port: number) => void) => {
    const port = await freePort();
    const file = join(dir, `${v.key}-${++attempt}.capnp`);
    write(file, port);
    const child = ctx.procs.start(
      `workerd-${v.key}-${attempt}`,
      workerdBin,
      ["serve", "--experimental", file],
      {
        cwd: dir,
      },
    );
    try {
      await waitForPort(port, 30_000, child);
      const p = await probe(port, v.path, v.headers);
      v.port = port;
      if (p.cookie) v.headers = { ...v.headers, Cookie: p.cookie };
      return { res: p.res, child };
    } catch (err) {
      await stop(child);
      const log = relative(ctx.root, join(ctx.procs.logDir, `workerd-${v.key}-${attempt}.log`));
      throw new Error(`${errorText(err)} (log: ${log})`);
    }
  };

  const wrangler = "error" in ctx.bundle ? undefined : readWrangler(ctx.bundle.wranglerToml);
  await up(a, (f, port) =>
    writePassthroughConfig(f, port, backend, wrangler?.compatibilityDate ?? "2025-01-01"),
  ).catch((err) => {
    a.error = errorText(err);
  });
  await up(e, (f, port) =>
    writePassthroughConfig(
      f,
      port,
      backend,
      wrangler?.compatibilityDate ?? "2025-01-01",
      undefined,
      "floor.js",
    ),
  ).catch((err) => {
    e.error = errorText(err);
  });

  if ("error" in ctx.bundle || !wrangler) {
    b.error = c.error = "error" in ctx.bundle ? ctx.bundle.error : "no wrangler.toml";
  } else {
    if (wrangler.unsupported.length > 0)
      sec.note(`wrangler.toml keys not provided under plain workerd: ${wrangler.unsupported.join(", ")}`);
    if (wrangler.analyticsBindings.length > 0)
      sec.note(
        `Analytics Engine (${wrangler.analyticsBindings.join(", ")}) is left unbound: workerd sends each data ` +
          "point as an HTTP request, far dearer than the production runtime's buffered write (bound to a stub, it " +
          "halved (b) in a side-by-side test).",
      );
    const modules = bundleModules(ctx.bundle.dir, wrangler.main);
    const switchyard = (doc: unknown) => (file: string, port: number) =>
      writeSwitchyardConfig({ file, port, wrangler, modules, switchyard: doc });
    await up(b, switchyard(configs.oneRouteConfig(backend))).catch((err) => {
      b.error = errorText(err);
    });
    await startRealistic(c, sec, (only) => configs.realisticConfig(backends, only), switchyard, up);
  }

  try {
    d.port = await freePort();
    await startHaproxy(ctx.procs, ctx.tmp, {
      mode: "http",
      listen: d.port,
      backend: `127.0.0.1:${p1}`,
      label: "haproxy-http",
    });
    await probe(d.port, d.path, d.headers);
  } catch (err) {
    d.error = `haproxy: ${errorText(err)}`;
  }
  direct.port = p1;

  await measure(
    ctx,
    variants.filter((v) => !v.error),
  );
  report(sec, variants, a, b, c, d, e);
  if (wrangler && !("error" in ctx.bundle))
    await stageCosts(ctx, sec, wrangler, backends).catch((err) => sec.skip("stage costs", errorText(err)));
}

type Up = (
  v: Variant,
  write: (file: string, port: number) => void,
) => Promise<{ res: ProbeResult; child: ChildProcess }>;
type Realistic = (only?: string[]) => {
  doc: unknown;
  included: string[];
  missing: { label: string; why: string }[];
};

/**
 * (c) with every feature the schema accepts; if the worker then fails the probe, each feature is tried alone
 * and (c) runs with those that work, so that one unfinished feature costs its own row and not the comparison.
 */
async function startRealistic(
  c: Variant,
  sec: SectionWriter,
  realistic: Realistic,
  switchyard: (doc: unknown) => (file: string, port: number) => void,
  up: Up,
): Promise<void> {
  let full: ReturnType<Realistic>;
  try {
    full = realistic();
  } catch (err) {
    c.error = errorText(err);
    return;
  }
  const left: string[] = full.missing.map((m) => `${m.label}: ${m.why}`);
  let included = full.included;
  let first = await up(c, switchyard(full.doc)).catch((err: unknown) => errorText(err));
  if (typeof first === "string") {
    const fullError = first;
    const kept: string[] = [];
    for (const f of full.included.slice(1)) {
      const one = await up(c, switchyard(realistic([f]).doc)).catch((err: unknown) => errorText(err));
      if (typeof one === "string") left.push(`${f}: the worker fails with it (${one})`);
      else {
        kept.push(f);
        await stop(one.child); // only a probe: the combination is started below
      }
    }
    const final = realistic(kept);
    included = final.included;
    first = await up(c, switchyard(final.doc)).catch((err: unknown) => errorText(err));
    if (typeof first === "string") {
      c.error = `${fullError}; also without the features: ${first}`;
      return;
    }
  }
  const active = await activeFeatures(c.port, c.path, c.headers, first.res);
  c.note = included.map((f) => (active[f] === false ? `${f} (configured, not active yet)` : f)).join(", ");
  if (left.length > 0) c.note += `; left out: ${left.join("; ")}`;
  sec.note(
    "(c) is checked before it is measured: a sy_aff Set-Cookie shows sticky sessions, RateLimit headers the " +
      "rate limit, a 403 for an SQLi/XSS query the managed WAF.",
  );
}

async function measure(ctx: BenchContext, live: Variant[]): Promise<void> {
  // Many short rounds rather than a few long ones: a median over five shrugs off a burst from a neighbour.
  const seconds = ctx.quick ? 3 : 5;
  const rounds = ctx.quick ? 1 : 5;
  for (const v of live) await runWrk(ctx.procs, wrkOptions(v, 1)).catch(() => undefined); // warm-up: JIT, pools
  for (let r = 0; r < rounds; r++) {
    const order = live.map((_, i) => live[(i + r) % live.length]!);
    for (const v of order) {
      if (Date.now() > ctx.deadline || v.error) continue;
      try {
        v.results.push(await runWrk(ctx.procs, wrkOptions(v, seconds)));
      } catch (err) {
        v.error = errorText(err);
      }
    }
  }
}

function report(
  sec: SectionWriter,
  variants: Variant[],
  a: Variant,
  b: Variant,
  c: Variant,
  d: Variant,
  e: Variant,
): void {
  for (const v of variants) {
    if (v.results.length === 0) {
      sec.skip(`${v.label}: requests/s`, v.error ?? "not measured (time budget)");
      continue;
    }
    const non2xx = v.results.reduce((s, r) => s + r.non2xx, 0);
    const socket = v.results.reduce((s, r) => s + r.socketErrors, 0);
    const note = [
      v.note,
      non2xx > 0 ? `${non2xx} non-2xx responses` : undefined,
      socket > 0 ? `${socket} socket errors/timeouts` : undefined,
    ]
      .filter(Boolean)
      .join("; ");
    sec.add(`worker.${v.key}.rps`, `${v.label}: requests/s`, median(v.results.map((x) => x.rps)), "req/s", {
      note: note || undefined,
    });
    sec.add(`worker.${v.key}.p50_ms`, `${v.label}: p50 latency`, median(v.results.map((x) => x.p50Ms)), "ms");
    sec.add(`worker.${v.key}.p99_ms`, `${v.label}: p99 latency`, median(v.results.map((x) => x.p99Ms)), "ms");
  }

  // Ratios and costs pair the runs of one round (seconds apart), then take the median over rounds.
  const pairedRow = (
    x: Variant,
    base: Variant,
    name: string,
    label: string,
    unit: "ratio" | "us",
    f: (rx: number, rbase: number) => number,
    target?: string,
  ) => {
    const n = Math.min(x.results.length, base.results.length);
    if (n === 0) return sec.skip(label, x.error ?? base.error ?? "not measured");
    const value = median(Array.from({ length: n }, (_, i) => f(x.results[i]!.rps, base.results[i]!.rps)));
    sec.add(name, label, value, unit, { target });
  };
  const ratio = (rx: number, rbase: number) => rx / rbase;
  /** 1/rps(x) − 1/rps(base), in µs. */
  const cost = (rx: number, rbase: number) => (1 / rx - 1 / rbase) * 1e6;
  pairedRow(b, a, "worker.one_route_vs_passthrough", "(b)/(a) requests/s", "ratio", ratio);
  pairedRow(c, a, "worker.realistic_vs_passthrough", "(c)/(a) requests/s", "ratio", ratio, "≥ 0.90");
  pairedRow(d, a, "worker.haproxy_vs_passthrough", "(d)/(a) requests/s", "ratio", ratio);
  pairedRow(
    e,
    a,
    "worker.floor_vs_passthrough",
    "(e)/(a) requests/s: the most (c) could reach in workerd",
    "ratio",
    ratio,
  );
  pairedRow(
    c,
    a,
    "worker.realistic_cost_us",
    "router cost per request: 1/rps(c) − 1/rps(a)",
    "us",
    cost,
    "≤ 25",
  );
  pairedRow(e, a, "worker.floor_cost_us", "floor cost per request: 1/rps(e) − 1/rps(a)", "us", cost);
  pairedRow(
    c,
    e,
    "worker.realistic_over_floor_us",
    "Switchyard's logic per request: 1/rps(c) − 1/rps(e)",
    "us",
    cost,
  );
}

function wrkOptions(v: Variant, seconds: number) {
  return {
    url: `http://127.0.0.1:${v.port}${v.path}`,
    seconds,
    connections: CONNECTIONS,
    headers: v.headers,
  };
}

// Worker throughput and latency under plain `workerd serve`, all against one nginx: (a) a pass-through worker,
// (b) Switchyard with one route, (c) Switchyard with the realistic config, (d) HAProxy as an HTTP proxy.
// Rounds interleave the variants (in rotating order) so that drift on a shared machine hits all of them alike.
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import http, { type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import type { RealisticConfig } from "../lib/configs.ts";
import { type BenchContext, errorText, median } from "../lib/context.ts";
import { freePort, waitForPort } from "../lib/procs.ts";
import { BODY, startHaproxy, startNginx } from "../lib/servers.ts";
import { runWrk, type WrkResult } from "../lib/wrk.ts";
import {
  bundleModules,
  readWrangler,
  writePassthroughConfig,
  writeSwitchyardConfig,
} from "../workerd/config.ts";

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
  const { realisticConfig, oneRouteConfig, REALISTIC_REQUEST } = await import("../lib/configs.ts");
  const sec = ctx.results.section(`Worker HTTP (workerd serve, wrk 1 thread × ${CONNECTIONS} connections)`);
  const dir = join(ctx.tmp, "workerd");
  mkdirSync(dir, { recursive: true });
  const workerd = join(ctx.root, "node_modules/.bin/workerd");

  const [p1, p2] = [await freePort(), await freePort()];
  await startNginx(ctx.procs, ctx.tmp, [p1, p2]);
  const backend = `http://127.0.0.1:${p1}`;

  const variants: Variant[] = [];
  const add = (key: string, label: string, path = "/", headers: Record<string, string> = {}) => {
    const v: Variant = { key, label, port: 0, headers, path, results: [] };
    variants.push(v);
    return v;
  };
  const a = add("passthrough", "(a) pass-through worker");
  const b = add("one_route", "(b) Switchyard, 1 route");
  const c = add("realistic", "(c) Switchyard, realistic config", REALISTIC_REQUEST.path, {
    Host: REALISTIC_REQUEST.host,
    ...REALISTIC_REQUEST.headers,
  });
  const d = add("haproxy", "(d) HAProxy, mode http");
  const e = add("nginx_direct", "nginx directly (no proxy)");
  // Same request line and headers for every variant, so only the proxy differs.
  for (const v of [a, b, d, e]) {
    v.path = c.path;
    v.headers = { ...c.headers, Host: "bench.example.com" };
  }

  const startWorkerd = async (v: Variant, capnp: string): Promise<ChildProcess> => {
    const child = ctx.procs.start(`workerd-${v.key}`, workerd, ["serve", "--experimental", capnp], {
      cwd: dir,
    });
    await waitForPort(v.port, 30_000, child);
    return child;
  };

  let included: string[] = [];
  const wrangler = "error" in ctx.bundle ? undefined : readWrangler(ctx.bundle.wranglerToml);
  const compat = wrangler?.compatibilityDate ?? "2025-01-01";

  // (a)
  try {
    a.port = await freePort();
    const capnp = join(dir, "passthrough.capnp");
    writePassthroughConfig(capnp, a.port, backend, compat);
    await startWorkerd(a, capnp);
  } catch (err) {
    a.error = `workerd did not start: ${errorText(err)}`;
  }
  // (b), (c)
  if ("error" in ctx.bundle) {
    b.error = c.error = ctx.bundle.error;
  } else if (wrangler) {
    if (wrangler.unsupported.length > 0)
      sec.note(`wrangler.toml keys not provided under plain workerd: ${wrangler.unsupported.join(", ")}`);
    const modules = bundleModules(ctx.bundle.dir, wrangler.main);
    let realistic: RealisticConfig | undefined;
    try {
      realistic = realisticConfig([backend, `http://127.0.0.1:${p2}`]);
      included = realistic.included;
      if (realistic.missing.length > 0)
        sec.note(
          `realistic config leaves out ${realistic.missing.map((m) => `${m.label} (${m.why})`).join("; ")}`,
        );
    } catch (err) {
      c.error = errorText(err);
    }
    for (const [v, doc] of [
      [b, oneRouteConfig(backend)],
      [c, realistic?.doc],
    ] as const) {
      if (v.error || doc === undefined) continue;
      try {
        v.port = await freePort();
        const capnp = join(dir, `${v.key}.capnp`);
        writeSwitchyardConfig({ file: capnp, port: v.port, wrangler, modules, switchyard: doc });
        await startWorkerd(v, capnp);
      } catch (err) {
        v.error = `workerd did not start: ${errorText(err)} (log: bench/.tmp/logs/workerd-${v.key}.log)`;
      }
    }
  }
  // (d)
  try {
    d.port = await freePort();
    await startHaproxy(ctx.procs, ctx.tmp, {
      mode: "http",
      listen: d.port,
      backend: `127.0.0.1:${p1}`,
      label: "haproxy-http",
    });
  } catch (err) {
    d.error = `haproxy did not start: ${errorText(err)}`;
  }
  e.port = p1;

  // Every variant must answer the bench request with nginx's body before it is measured.
  for (const v of variants) {
    if (v.error) continue;
    try {
      const first = await probe(v);
      if (v === c) {
        const active = await activeFeatures(v, first);
        c.note = included
          .map((f) => (active[f] === false ? `${f} (configured, not active yet)` : f))
          .join(", ");
        sec.note(
          "(c) is checked before it is measured: a sy_aff Set-Cookie shows sticky sessions, RateLimit headers " +
            "the rate limit, a 403 for an SQLi/XSS query the managed WAF.",
        );
      }
    } catch (err) {
      v.error = errorText(err);
    }
  }

  const live = variants.filter((v) => !v.error);
  const seconds = ctx.quick ? 3 : 8;
  const rounds = ctx.quick ? 1 : 3;
  for (const v of live) await runWrk(ctx.procs, wrkOptions(v, 1)).catch(() => undefined); // warm-up (JIT, pools)
  for (let r = 0; r < rounds; r++) {
    const order = live.map((_, i) => live[(i + r) % live.length]!);
    for (const v of order) {
      if (Date.now() > ctx.deadline) break;
      try {
        v.results.push(await runWrk(ctx.procs, wrkOptions(v, seconds)));
      } catch (err) {
        v.error = errorText(err);
      }
    }
  }

  for (const v of variants) {
    if (v.results.length === 0) {
      sec.skip(`${v.label}: requests/s`, v.error ?? "not measured (time budget)");
      continue;
    }
    const bad = v.results.reduce((s, r) => s + r.non2xx + r.socketErrors, 0);
    const note = [v.note, bad > 0 ? `${bad} non-2xx or socket errors` : undefined].filter(Boolean).join("; ");
    sec.add(`worker.${v.key}.rps`, `${v.label}: requests/s`, median(v.results.map((x) => x.rps)), "req/s", {
      note: note || undefined,
    });
    sec.add(`worker.${v.key}.p50_ms`, `${v.label}: p50 latency`, median(v.results.map((x) => x.p50Ms)), "ms");
    sec.add(`worker.${v.key}.p99_ms`, `${v.label}: p99 latency`, median(v.results.map((x) => x.p99Ms)), "ms");
  }

  // Ratios pair the runs of one round (measured minutes apart at most), then take the median over rounds.
  const ratio = (x: Variant, y: Variant) =>
    median(x.results.slice(0, y.results.length).map((r, i) => r.rps / y.results[i]!.rps));
  const ratioRow = (x: Variant, name: string, label: string, target?: string) => {
    if (x.results.length && a.results.length) sec.add(name, label, ratio(x, a), "ratio", { target });
    else sec.skip(label, x.error ?? a.error ?? "not measured");
  };
  ratioRow(b, "worker.one_route_vs_passthrough", "(b)/(a) requests/s");
  ratioRow(c, "worker.realistic_vs_passthrough", "(c)/(a) requests/s", "≥ 0.90");
  ratioRow(d, "worker.haproxy_vs_passthrough", "(d)/(a) requests/s");
  if (c.results.length && a.results.length) {
    const costs = c.results
      .slice(0, a.results.length)
      .map((r, i) => (1 / r.rps - 1 / a.results[i]!.rps) * 1e6);
    sec.add("worker.realistic_cost_us", "router cost per request: 1/rps(c) − 1/rps(a)", median(costs), "us");
  } else sec.skip("router cost per request: 1/rps(c) − 1/rps(a)", c.error ?? a.error ?? "not measured");
}

function wrkOptions(v: Variant, seconds: number) {
  return {
    url: `http://127.0.0.1:${v.port}${v.path}`,
    seconds,
    connections: CONNECTIONS,
    headers: v.headers,
  };
}

interface ProbeResult {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

function get(port: number, path: string, headers: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers, timeout: 10_000 }, (r) => {
      let body = "";
      r.setEncoding("utf8");
      r.on("data", (d: string) => {
        body += d;
      });
      r.on("end", () => resolve({ status: r.statusCode ?? 0, body, headers: r.headers }));
    });
    req.on("timeout", () => req.destroy(new Error("the probe request timed out")));
    req.on("error", reject);
  });
}

/** One request with the bench's headers (node:http, since fetch would drop Host); a sticky cookie it sets is
 * sent on every measured request too. */
async function probe(v: Variant): Promise<ProbeResult> {
  const res = await get(v.port, v.path, v.headers);
  if (res.status !== 200 || res.body.trim() !== BODY.trim())
    throw new Error(`the probe request got ${res.status} ${res.body.replace(/\s+/g, " ").slice(0, 120)}`);
  const cookies = (res.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]!);
  if (cookies.length > 0) v.headers = { ...v.headers, Cookie: cookies.join("; ") };
  return res;
}

/** A schema that accepts a feature does not prove the worker runs it: each feature's trace in a response. */
async function activeFeatures(v: Variant, first: ProbeResult): Promise<Record<string, boolean>> {
  const attack = await get(
    v.port,
    `${v.path}&id=1%27%20OR%20%271%27%3D%271&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E`,
    v.headers,
  );
  return {
    "sticky cookies": first.headers["set-cookie"]?.some((c) => c.startsWith("sy_aff=")) ?? false,
    "approximate rate limit": Object.keys(first.headers).some((k) => k.startsWith("ratelimit")),
    "managed WAF": attack.status === 403,
  };
}

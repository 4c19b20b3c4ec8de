// The L4 sidecar against HAProxy (mode tcp) and a direct connection: iperf3 throughput, the rate of short
// connections (wrk with Connection: close to nginx), and RSS per idle connection at ~10,000 connections.
// Each program runs at its own defaults (the sidecar's --workers auto, one process per core but one; HAProxy's
// nbthread, one thread per core) and in one process / one thread; the targets compare the sidecar at its defaults
// with HAProxy's better figure. When the default is not one per core, one process per core is measured too.
// RSS per idle connection compares one sidecar process with one HAProxy thread (a per-process figure). The
// sidecar runs on its native engine (SWITCHYARD_L4_DATA_PATH=native: an error, not a quiet fallback, when it is
// not built); the same sidecar on its JavaScript data path and the naive pipe() proxy are measured alongside.
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type BenchContext, errorText, median } from "../lib/context.ts";
import { freePort, type Procs, stop, waitForListen, waitForPort } from "../lib/procs.ts";
import type { SectionWriter } from "../lib/results.ts";
import { NOFILE, startHaproxy, startIperfServer, startNginx } from "../lib/servers.ts";
import { runWrk } from "../lib/wrk.ts";

/** A proxy holds two sockets per connection and the hard open-files limit is 20000, so just under 10,000. */
export const IDLE_CONNECTIONS = Math.min(10_000, Math.floor((NOFILE - 100) / 2));

interface Target {
  key:
    | "direct"
    | "haproxy"
    | "haproxy_default"
    | "sidecar"
    | "sidecar_w1"
    | "sidecar_percore"
    | "sidecar_js"
    | "node_pipe";
  label: string;
  port?: number;
  error?: string;
}

export async function sidecarSection(ctx: BenchContext): Promise<void> {
  const sec = ctx.results.section("L4 sidecar (vs HAProxy mode tcp, and direct)");
  const main = join(ctx.root, "l4-sidecar/src/main.ts");
  if (!existsSync(main)) {
    sec.skip("sidecar", "not available (l4-sidecar/src/main.ts does not exist yet)");
    return;
  }
  const built = await ctx.procs.run("bash", [join(ctx.root, "l4-sidecar/native/build.sh")], 120_000);
  if (built.code !== 0) console.error(`native engine build failed: ${built.stderr.trim()}`);
  const iperfPort = await freePort();
  const httpPort = await freePort();
  await startNginx(ctx.procs, ctx.tmp, [httpPort], "nginx-l4");

  // The proxies start (and are probed) before the iperf3 server exists: iperf3 serves one client at a time,
  // and a probe connection forwarded to it would hold it up.
  const cores = availableParallelism();
  // A dynamic import, as in startSidecar: sources that do not load fail this section only.
  const { autoWorkers } = await import("../../l4-sidecar/src/args.ts");
  const defaultWorkers = autoWorkers(cores);
  const started = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e) => errorText(e),
    );
  const sidecarPorts = { iperf: await freePort(), http: await freePort() };
  const sidecarError = await started(
    startSidecar(ctx, "sidecar", {
      iperf: [sidecarPorts.iperf, iperfPort],
      http: [sidecarPorts.http, httpPort],
    }),
  );
  const haproxy = async (threads: 1 | "default", label: string) => {
    const ports = { iperf: await freePort(), http: await freePort() };
    const error = await started(
      Promise.all(
        (["iperf", "http"] as const).map((which) =>
          startHaproxy(ctx.procs, ctx.tmp, {
            mode: "tcp",
            listen: ports[which],
            backend: `127.0.0.1:${which === "iperf" ? iperfPort : httpPort}`,
            threads,
            label: `${label}-${which}`,
          }),
        ),
      ),
    );
    return { ports, error };
  };
  const ha1 = await haproxy(1, "haproxy-tcp");
  const haDefault = await haproxy("default", "haproxy-tcp-default");
  // One sidecar process, beside HAProxy's one thread (short connections only: one iperf3 stream is one
  // connection, served by one worker or thread either way).
  const sidecarW1Port = await freePort();
  const sidecarW1Error = await started(
    startSidecar(ctx, "sidecar-w1", { http: [sidecarW1Port, httpPort] }, 1),
  );
  // One process per core, when that is not the default (short connections only, as above).
  const perCore =
    defaultWorkers === cores ? undefined : { port: await freePort(), error: undefined as string | undefined };
  if (perCore)
    perCore.error = await started(
      startSidecar(ctx, "sidecar-percore", { http: [perCore.port, httpPort] }, cores),
    );
  // The same sidecar on its JavaScript data path (raw TCP handles), and the naive pipe() proxy.
  const sidecarJsPort = await freePort();
  const sidecarJsError = await started(
    startSidecar(ctx, "sidecar-js", { http: [sidecarJsPort, httpPort] }, 1, "raw"),
  );
  const pipePort = await freePort();
  const pipeError = await started(startPipeProxy(ctx, pipePort, httpPort));
  const iperfServer = await startIperfServer(ctx.procs, iperfPort);
  const make = (which: "iperf" | "http"): Target[] => [
    { key: "direct", label: "direct", port: which === "iperf" ? iperfPort : httpPort },
    { key: "haproxy", label: "HAProxy nbthread 1", port: ha1.ports[which], error: ha1.error },
    {
      key: "haproxy_default",
      label: `HAProxy at its default nbthread (${cores})`,
      port: haDefault.ports[which],
      error: haDefault.error,
    },
    {
      key: "sidecar",
      label: `sidecar at its default --workers (${defaultWorkers})`,
      port: sidecarPorts[which],
      error: sidecarError,
    },
  ];
  const byKind = {
    iperf: make("iperf"),
    http: [
      ...make("http"),
      { key: "sidecar_w1", label: "sidecar --workers 1", port: sidecarW1Port, error: sidecarW1Error },
      ...(perCore
        ? [
            {
              key: "sidecar_percore" as const,
              label: `sidecar --workers ${cores} (one per core)`,
              port: perCore.port,
              error: perCore.error,
            },
          ]
        : []),
      {
        key: "sidecar_js",
        label: "sidecar on its JavaScript data path (--workers 1)",
        port: sidecarJsPort,
        error: sidecarJsError,
      },
      { key: "node_pipe", label: "naive Node pipe() proxy", port: pipePort, error: pipeError },
    ] satisfies Target[],
  };
  const targets = (which: "iperf" | "http") => byKind[which];
  const rounds = ctx.quick ? 1 : 3;
  const seconds = ctx.quick ? 3 : 4;

  // Throughput: one iperf3 stream per run.
  const gbps = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const t of targets("iperf")) {
      if (t.error || Date.now() > ctx.deadline) continue;
      try {
        const list = gbps.get(t.key) ?? [];
        list.push(await iperf(ctx.procs, t.port!, seconds));
        gbps.set(t.key, list);
      } catch (e) {
        t.error = errorText(e);
      }
    }
  }
  const thr = (k: string) => (gbps.get(k)?.length ? median(gbps.get(k)!) : undefined);
  for (const t of targets("iperf")) {
    const v = thr(t.key);
    if (v !== undefined)
      sec.add(`sidecar.${prefix(t.key)}throughput_gbps`, `iperf3 throughput, ${t.label}`, v, "Gbit/s");
    else sec.skip(`iperf3 throughput, ${t.label}`, t.error ?? sidecarError ?? "not measured");
  }
  const better = (get: (k: string) => number | undefined, ...keys: string[]) => {
    const vs = keys.map(get).filter((v): v is number => v !== undefined);
    return vs.length ? Math.max(...vs) : undefined;
  };
  ratio(
    sec,
    "throughput_vs_haproxy",
    "iperf3 throughput: sidecar (defaults) / HAProxy (better of nbthread 1 and default)",
    thr("sidecar"),
    better(thr, "haproxy", "haproxy_default"),
    { target: "≥ 1.0" },
  );
  ratio(
    sec,
    "throughput_vs_haproxy_1t",
    "iperf3 throughput: sidecar / HAProxy nbthread 1",
    thr("sidecar"),
    thr("haproxy"),
  );
  ratio(sec, "throughput_vs_direct", "iperf3 throughput: sidecar / direct", thr("sidecar"), thr("direct"));

  await stop(iperfServer);

  // RSS per idle connection: fresh processes, so earlier traffic's buffers are not counted.
  if (!sidecarError) await idleRss(ctx, sec, "sidecar");
  else sec.skip("RSS per idle connection, sidecar", sidecarError);
  if (!ha1.error) await idleRss(ctx, sec, "haproxy");
  else sec.skip("RSS per idle connection, HAProxy", ha1.error);

  // Short connections: every request on a new connection (nginx closes it after the response).
  const rates = new Map<string, number[]>();
  // Each round starts at a different target: every run leaves tens of thousands of TIME_WAIT sockets behind,
  // which make the next runs' connects dearer, so a fixed order would favour whoever goes first.
  const http = targets("http");
  for (let r = 0; r < rounds; r++) {
    const shift = Math.floor((r * http.length) / rounds);
    for (const t of [...http.slice(shift), ...http.slice(0, shift)]) {
      if (t.error || Date.now() > ctx.deadline) continue;
      try {
        const res = await runWrk(ctx.procs, {
          url: `http://127.0.0.1:${t.port}/`,
          seconds,
          connections: 16,
          headers: { Connection: "close" },
        });
        if (res.requests === 0) throw new Error("no request completed");
        rates.set(t.key, [...(rates.get(t.key) ?? []), res.rps]);
      } catch (e) {
        t.error = errorText(e);
      }
    }
  }
  const rate = (k: string) => (rates.get(k)?.length ? median(rates.get(k)!) : undefined);
  for (const t of targets("http")) {
    const v = rate(t.key);
    if (v !== undefined)
      sec.add(
        `sidecar.${prefix(t.key)}short_conn_rate`,
        `short connections (1 request each), ${t.label}`,
        v,
        "conn/s",
      );
    else sec.skip(`short connections, ${t.label}`, t.error ?? "not measured");
  }
  const haOne = rate("haproxy");
  const label = (what: string) => `short connections: ${what}`;
  ratio(
    sec,
    "short_conn_vs_haproxy",
    label("sidecar (defaults) / HAProxy (better of nbthread 1 and default)"),
    rate("sidecar"),
    better(rate, "haproxy", "haproxy_default"),
    { target: "≥ 1.0" },
  );
  ratio(
    sec,
    "short_conn_vs_haproxy_default",
    label("sidecar (defaults) / HAProxy (default nbthread)"),
    rate("sidecar"),
    rate("haproxy_default"),
  );
  ratio(
    sec,
    "short_conn_1p_vs_haproxy_1t",
    label("1 sidecar process / 1 HAProxy thread"),
    rate("sidecar_w1"),
    haOne,
  );
  ratio(
    sec,
    "js_short_conn_vs_haproxy_1t",
    label("sidecar on its JavaScript data path / 1 HAProxy thread"),
    rate("sidecar_js"),
    haOne,
  );
  ratio(
    sec,
    "node_pipe_short_conn_vs_haproxy_1t",
    label("naive pipe() proxy / 1 HAProxy thread"),
    rate("node_pipe"),
    haOne,
  );
  ratio(sec, "short_conn_vs_direct", label("sidecar (defaults) / direct"), rate("sidecar"), rate("direct"));
}

/** The sidecar's own figures have the plain names; its peers' carry their name. */
const prefix = (key: Target["key"]) =>
  key === "sidecar"
    ? ""
    : key === "sidecar_w1"
      ? "w1_"
      : key === "sidecar_percore"
        ? "percore_"
        : key === "sidecar_js"
          ? "js_"
          : `${key}_`;

/** A `sidecar.<key>` row a / b, when both were measured. */
function ratio(
  sec: SectionWriter,
  key: string,
  label: string,
  a: number | undefined,
  b: number | undefined,
  extra: { target?: string } = {},
): void {
  if (a !== undefined && b !== undefined) sec.add(`sidecar.${key}`, label, a / b, "ratio", extra);
}

/** Starts the sidecar with one listener per entry (name → [listen port, backend port]). */
async function startSidecar(
  ctx: BenchContext,
  label: string,
  listeners: Record<string, [number, number]>,
  /** undefined: the program's default (--workers auto). */
  workers?: number,
  dataPath: "native" | "raw" = "native",
): Promise<ChildProcess> {
  const doc = {
    services: Object.entries(listeners).map(([name, [, backend]]) => ({
      name,
      backends: [{ address: `127.0.0.1:${backend}` }],
    })),
    listeners: Object.entries(listeners).map(([name, [listen]]) => ({
      name,
      listen: `127.0.0.1:${listen}`,
      service: name,
    })),
  };
  // A dynamic import: a core/ that does not load (mid-edit by someone) fails this section only.
  const { checkConfig } = await import("../../core/config/parse.ts");
  const check = checkConfig(doc);
  if (!check.config)
    throw new Error(
      `the sidecar config is rejected: ${check.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
  const file = join(ctx.tmp, `${label}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const child = ctx.procs.start(
    label,
    process.execPath,
    [
      join(ctx.root, "l4-sidecar/src/main.ts"),
      "--config",
      file,
      "--drain-timeout",
      "1s",
      ...(workers === undefined ? [] : ["--workers", String(workers)]),
    ],
    { cwd: ctx.root, nofile: NOFILE, env: { ...process.env, SWITCHYARD_L4_DATA_PATH: dataPath } },
  );
  for (const [listen] of Object.values(listeners)) await waitForPort(listen, 20_000, child);
  return child;
}

async function iperf(procs: Procs, port: number, seconds: number): Promise<number> {
  const r = await procs.run(
    "iperf3",
    ["-c", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-J", "--connect-timeout", "3000"],
    (seconds + 20) * 1000,
  );
  let json: { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`iperf3 printed no JSON (exit ${r.code}${r.timedOut ? ", timed out" : ""})`);
  }
  const bps = json.end?.sum_received?.bits_per_second;
  if (json.error || bps === undefined) throw new Error(`iperf3: ${json.error ?? "no result"}`);
  return bps / 1e9;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

async function idleRss(ctx: BenchContext, sec: SectionWriter, who: "sidecar" | "haproxy"): Promise<void> {
  const label = `RSS per idle connection, ${who === "sidecar" ? "sidecar --workers 1" : "HAProxy nbthread 1"}`;
  const children: ChildProcess[] = [];
  try {
    if (Date.now() > ctx.deadline) throw new Error("time budget");
    const backendPort = await freePort();
    const listen = await freePort();
    const server = startHold(ctx, "hold-server", ["server", String(backendPort)]);
    children.push(server.child);
    await server.waitFor((l) => l === "ready", "ready", 10_000);
    const proxy =
      who === "sidecar"
        ? await startSidecar(ctx, "sidecar-rss", { hold: [listen, backendPort] }, 1)
        : await startHaproxy(ctx.procs, ctx.tmp, {
            mode: "tcp",
            listen,
            backend: `127.0.0.1:${backendPort}`,
            maxconn: IDLE_CONNECTIONS + 10,
            label: "haproxy-rss",
          });
    children.push(proxy);
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssBytes(proxy.pid!);
    const client = startHold(ctx, "hold-client", ["client", String(listen), String(IDLE_CONNECTIONS)]);
    children.push(client.child);
    const done = await client.waitFor((l) => l.startsWith("connected "), "connected", 60_000);
    const [ok, failed] = done.split(" ").slice(1).map(Number) as [number, number];
    // At least: the readiness probe of the proxy's port was forwarded too.
    const accepted = (l: string) => l.startsWith("accepted ") && Number(l.split(" ")[1]) >= ok;
    await server.waitFor(accepted, `accepted ${ok}`, 30_000).catch(() => {
      throw new Error(`the backend saw fewer than the ${ok} connections the client opened`);
    });
    await new Promise((r) => setTimeout(r, 2000));
    const after = rssBytes(proxy.pid!);
    const note = failed > 0 ? `${failed} of ${IDLE_CONNECTIONS} connects failed` : undefined;
    sec.add(
      `sidecar.${who === "sidecar" ? "" : "haproxy_"}idle_rss_per_conn_bytes`,
      `${label} (${ok.toLocaleString("en-US")} connections)`,
      (after - before) / ok,
      "bytes",
      { note },
    );
    if (who === "sidecar") sec.add("sidecar.idle_connections", "idle connections held open", ok, "count");
    sec.add(
      `sidecar.${who === "sidecar" ? "" : "haproxy_"}idle_rss_bytes`,
      `RSS with them open, ${who === "sidecar" ? "sidecar" : "HAProxy"}`,
      after,
      "bytes",
    );
  } catch (e) {
    sec.skip(label, errorText(e));
  } finally {
    for (const c of children.reverse()) await stop(c);
  }
}

/** The naive pipe() proxy (bench/helpers/pipe-proxy.ts); resolves once it listens. */
async function startPipeProxy(ctx: BenchContext, listen: number, backend: number): Promise<void> {
  const child = ctx.procs.start(
    "node-pipe-proxy",
    process.execPath,
    [join(ctx.root, "bench/helpers/pipe-proxy.ts"), String(listen), String(backend)],
    { nofile: NOFILE },
  );
  await waitForListen(listen, 10_000, child);
}

function startHold(ctx: BenchContext, label: string, args: string[]) {
  const child = ctx.procs.start(label, process.execPath, [join(ctx.root, "bench/helpers/hold.ts"), ...args], {
    nofile: NOFILE,
    pipeStdout: true,
  });
  const lines: string[] = [];
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    lines.push(l);
    for (const w of [...waiters])
      if (w.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
  });
  const waitFor = (test: (l: string) => boolean, what: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find(test);
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${label}: no "${what}" within ${timeoutMs} ms (last: ${lines.at(-1) ?? "nothing"})`),
          ),
        timeoutMs,
      );
      waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  return { child, waitFor };
}

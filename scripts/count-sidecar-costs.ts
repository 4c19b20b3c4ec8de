// npm run profile:sidecar [-- --connections 10000] [-- --warm 40000] [-- --no-instructions]
//   [-- --v8-flags=--perf-basic-prof] (the sidecar's JIT code is then named in /tmp/perf-PID.map)
// What one short connection costs the sidecar (native engine, one process) and HAProxy (mode tcp, nbthread 1),
// counted rather than timed, so a shared machine does not move the figures: system calls per connection by name
// (perf's syscall tracepoints, or strace -c where perf cannot), voluntary context switches, TCP segments (sent by
// anyone in this network namespace while the connections are made: alone in a namespace of its own, as with
// `unshare -n sh -c 'ip link set lo up && npm run profile:sidecar'`, they are the connections' own), and
// user-space instructions per connection (valgrind's callgrind, after a warm-up). The load is the bench's
// short-connection row: 16 clients at a time, one HTTP request each on a new connection, to nginx, which closes it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, Procs, stop, stopAll, waitForPort } from "../bench/lib/procs.ts";
import { NOFILE, startHaproxy, startNginx } from "../bench/lib/servers.ts";
import { callgrind, totalInstructions, windowed } from "./lib/callgrind.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "10000" },
    warm: { type: "string", default: "40000" },
    "no-instructions": { type: "boolean", default: false },
    "v8-flags": { type: "string", default: "" },
    /** Internal: only make the connections, to this port (the process the syscall counter runs). */
    client: { type: "string" },
  },
});
const N = Number(values.connections);
const WARM = Number(values.warm);
const tmp = mkdtempSync(join(tmpdir(), "sy-sidecar-costs-"));
const procs = new Procs(join(tmp, "logs"));
const REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

/** `n` connections through `port`, 16 at a time, each one request read to the server's close. */
async function connections(port: number, n: number): Promise<void> {
  let left = n;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => s.end(REQUEST));
      let got = "";
      s.setEncoding("latin1");
      s.on("data", (d: string) => {
        got += d;
      });
      s.on("error", reject);
      s.on("close", () => (got.startsWith("HTTP/1.1 200") ? resolve() : reject(new Error(`got ${got}`))));
    });
  const loop = async () => {
    while (left-- > 0) await one();
  };
  await Promise.all(Array.from({ length: 16 }, loop));
}

interface Target {
  name: string;
  start(wrap: string[], listen: number, backend: number): Promise<{ pid: number; stop(): Promise<void> }>;
}

function sidecarConfig(listen: number, backend: number): string {
  const file = join(tmp, `sidecar-${listen}.json`);
  const doc = {
    services: [{ name: "http", backends: [{ address: `127.0.0.1:${backend}` }] }],
    listeners: [{ name: "http", listen: `127.0.0.1:${listen}`, service: "http" }],
  };
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const targets: Target[] = [
  {
    name: "sidecar --workers 1 (native engine)",
    async start(wrap, listen, backend) {
      // Under callgrind V8 compiles on the main thread, at the same point in every run.
      const v8 = wrap.length ? ["--single-threaded", ...values["v8-flags"].split(" ").filter(Boolean)] : [];
      const [cmd, ...args] = [...wrap, process.execPath, ...v8, join(root, "l4-sidecar/src/main.ts")];
      args.push("--config", sidecarConfig(listen, backend), "--workers", "1");
      const child = procs.start(`sidecar-${listen}`, cmd!, args, {
        cwd: root,
        nofile: NOFILE,
        env: { ...process.env, SWITCHYARD_L4_DATA_PATH: "native" },
      });
      await waitForPort(listen, 120_000, child);
      return { pid: child.pid!, stop: () => stop(child) };
    },
  },
  {
    name: "HAProxy nbthread 1",
    async start(wrap, listen, backend) {
      const child = await startHaproxy(procs, tmp, {
        mode: "tcp",
        listen,
        backend: `127.0.0.1:${backend}`,
        threads: 1,
        label: `haproxy-${listen}`,
        wrap,
      });
      return { pid: child.pid!, stop: () => stop(child) };
    },
  },
];

const perfWorks =
  spawnSync("perf", ["stat", "-e", "syscalls:sys_enter_close", "--", "true"], { stdio: "ignore" }).status ===
  0;

/** TCP segments sent on this machine (network namespace) so far: /proc/net/snmp's Tcp OutSegs. */
function tcpSegmentsSent(): number {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Tcp:"));
  const [names, values] = lines.map((l) => l.split(/\s+/)) as [string[], string[]];
  return Number(values[names.indexOf("OutSegs")]);
}

/**
 * System calls of `pid` (every thread) while `n` connections go through `port`, per connection by name, with the
 * TCP segments sent meanwhile ("tcp-segments"). The connections are made by this script in a child process that
 * the counting tool runs and waits for.
 */
async function syscalls(pid: number, port: number, n: number): Promise<Map<string, number>> {
  const out = join(tmp, `syscalls-${pid}.txt`);
  const client = [
    process.execPath,
    fileURLToPath(import.meta.url),
    "--client",
    String(port),
    "--connections",
    String(n),
  ];
  const counter = perfWorks
    ? [
        "perf",
        "stat",
        "-x,",
        "-e",
        "syscalls:sys_enter_*",
        "-e",
        "context-switches",
        "-p",
        String(pid),
        "-o",
        out,
      ]
    : ["strace", "-f", "-c", "-U", "calls,name", "-o", out, "-p", String(pid)];
  const segmentsBefore = tcpSegmentsSent();
  const r = await procs.run(counter[0]!, [...counter.slice(1), "--", ...client], 600_000);
  if (r.code !== 0) throw new Error(`${counter[0]} exited ${r.code}: ${r.stderr}`);
  const counts = new Map<string, number>([["tcp-segments", (tcpSegmentsSent() - segmentsBefore) / n]]);
  for (const line of readFileSync(out, "utf8").split("\n")) {
    const m = perfWorks
      ? /^(\d+),[^,]*,(?:syscalls:sys_enter_)?([\w-]+),/.exec(line)
      : /^\s*(\d+)\s+(\w+)\s*$/.exec(line);
    if (m && Number(m[1]) > 0) counts.set(m[2]!, Number(m[1]) / n);
  }
  return counts;
}

/** User-space instructions per connection under callgrind, after `warm` connections. */
async function instructions(t: Target, backend: number): Promise<number> {
  const listen = await freePort();
  const out = join(tmp, `callgrind-${listen}.%p`);
  const p = await t.start(callgrind(out), listen, backend);
  await connections(listen, WARM);
  await windowed(p.pid, () => connections(listen, N));
  await p.stop();
  const total = totalInstructions(out);
  return total / N;
}

/** Counts that are not system calls. */
const extraRows = new Set(["context-switches", "tcp-segments"]);

async function main() {
  const backend = await freePort();
  await startNginx(procs, tmp, [backend]);
  const rows: { name: string; calls: Map<string, number>; instr?: number }[] = [];
  for (const t of targets) {
    const listen = await freePort();
    const p = await t.start([], listen, backend);
    await connections(listen, WARM);
    rows.push({ name: t.name, calls: await syscalls(p.pid, listen, N) });
    await p.stop();
  }
  if (!values["no-instructions"])
    for (const [i, t] of targets.entries()) rows[i]!.instr = await instructions(t, backend);

  const names = [...new Set(rows.flatMap((r) => [...r.calls.keys()]))]
    .filter((k) => !extraRows.has(k) && rows.some((r) => (r.calls.get(k) ?? 0) >= 0.01))
    .sort((a, b) => (rows[0]!.calls.get(b) ?? 0) - (rows[0]!.calls.get(a) ?? 0));
  const col = (s: string) => s.padStart(14);
  console.log(
    `${N} short connections after ${WARM} warm-up ones, per connection (${perfWorks ? "perf" : "strace"}):`,
  );
  console.log(`${"".padEnd(22)}${rows.map((r) => col(r.name.split(" ")[0]!)).join("")}`);
  for (const k of names)
    console.log(`${k.padEnd(22)}${rows.map((r) => col((r.calls.get(k) ?? 0).toFixed(2))).join("")}`);
  const total = (r: (typeof rows)[number]) =>
    [...r.calls].reduce((s, [k, v]) => (extraRows.has(k) ? s : s + v), 0);
  console.log(`${"system calls".padEnd(22)}${rows.map((r) => col(total(r).toFixed(2))).join("")}`);
  if (perfWorks)
    console.log(
      `${"context switches".padEnd(22)}${rows.map((r) => col((r.calls.get("context-switches") ?? 0).toFixed(2))).join("")}`,
    );
  console.log(
    `${"TCP segments".padEnd(22)}${rows.map((r) => col((r.calls.get("tcp-segments") ?? 0).toFixed(2))).join("")}`,
  );
  if (rows.some((r) => r.instr))
    console.log(
      `${"instructions (user)".padEnd(22)}${rows.map((r) => col(`${((r.instr ?? 0) / 1000).toFixed(1)}k`)).join("")}`,
    );
  console.log(rows.map((r) => r.name).join("; "));
  console.log(`callgrind files (callgrind_annotate --inclusive=yes FILE): ${tmp}`);
}

(values.client ? connections(Number(values.client), N) : main())
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => stopAll());

// Quick A/B loop for the worker's request path: builds nothing itself; pass one or more bundle directories
// (e.g. `npx wrangler deploy --dry-run --outdir /tmp/sy-a`) and it serves each under plain workerd with the
// one-route and realistic configs, next to the pass-through and floor workers, and runs short interleaved wrk
// rounds.
//   npx node bench/helpers/worker-ab.ts [--seconds 3] [--rounds 3] [--only one,realistic] DIR [DIR…]
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { oneRouteConfig, REALISTIC_REQUEST, realisticConfig } from "../lib/configs.ts";
import { probe } from "../lib/http-probe.ts";
import { freePort, Procs, stopAll, waitForPort } from "../lib/procs.ts";
import { startNginx } from "../lib/servers.ts";
import { runWrk } from "../lib/wrk.ts";
import {
  bundleModules,
  readWrangler,
  writePassthroughConfig,
  writeSwitchyardConfig,
} from "../workerd/config.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    only: { type: "string", default: "one,realistic" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const only = values.only!.split(",");
const tmp = mkdtempSync(join(tmpdir(), "worker-ab-"));
const procs = new Procs(join(tmp, "logs"));
const workerd = join(root, "node_modules/.bin/workerd");
const wrangler = readWrangler(join(root, "wrangler.toml"));

interface V {
  label: string;
  port: number;
  headers: Record<string, string>;
  rps: number[];
  /** workerd CPU time (user + system) per request, µs: far less noisy than requests/s on a shared machine. */
  cpu: number[];
  /** This process's CPU per request: it copies workerd's log output (one line per request) to a file. */
  self: number[];
  pid: number;
}

/** utime + stime of a process, in µs (clock ticks are 10 ms here). */
function cpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

async function main() {
  const [p1, p2] = [await freePort(), await freePort()];
  await startNginx(procs, tmp, [p1, p2]);
  const backends = [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`];
  const { path, host, headers } = REALISTIC_REQUEST;
  const vs: V[] = [];
  let n = 0;
  const serve = async (label: string, write: (file: string, port: number) => void, h: string) => {
    const port = await freePort();
    const file = join(tmp, `v${++n}.capnp`);
    write(file, port);
    const child = procs.start(`workerd-${n}`, workerd, ["serve", "--experimental", file], { cwd: tmp });
    await waitForPort(port, 30_000, child);
    const v: V = {
      label,
      port,
      headers: { ...headers, Host: h },
      rps: [],
      cpu: [],
      self: [],
      pid: child.pid!,
    };
    const p = await probe(port, path, v.headers);
    if (p.cookie) v.headers.Cookie = p.cookie;
    vs.push(v);
  };
  await serve(
    "passthrough",
    (f, port) => writePassthroughConfig(f, port, backends[0]!, wrangler.compatibilityDate),
    "bench.example.com",
  );
  // The floor under the realistic config: its calls into workerd without Switchyard's logic (floor.js).
  await serve(
    "floor",
    (f, port) =>
      writePassthroughConfig(f, port, backends[0]!, wrangler.compatibilityDate, undefined, "floor.js"),
    "bench.example.com",
  );
  for (const dist of positionals) {
    const modules = bundleModules(dist, wrangler.main);
    const sw = (doc: unknown) => (file: string, port: number) =>
      writeSwitchyardConfig({ file, port, wrangler, modules, switchyard: doc });
    if (only.includes("one"))
      await serve(`${dist} one`, sw(oneRouteConfig(backends[0]!)), "bench.example.com");
    if (only.includes("realistic")) await serve(`${dist} realistic`, sw(realisticConfig(backends).doc), host);
  }
  const opts = (v: V, s: number) => ({
    url: `http://127.0.0.1:${v.port}${path}`,
    seconds: s,
    connections: 16,
    headers: v.headers,
  });
  for (const v of vs) await runWrk(procs, opts(v, 1));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < vs.length; i++) {
      const v = vs[(i + r) % vs.length]!;
      const before = cpuMicros(v.pid);
      const self = process.cpuUsage();
      const w = await runWrk(procs, opts(v, seconds));
      v.rps.push(w.rps);
      v.cpu.push((cpuMicros(v.pid) - before) / w.requests);
      const used = process.cpuUsage(self);
      v.self.push((used.user + used.system) / w.requests);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = vs[0]!.rps;
  for (const v of vs) {
    const ratio = med(v.rps.map((x, i) => x / base[i]!));
    const cost = med(v.rps.map((x, i) => (1 / x - 1 / base[i]!) * 1e6));
    console.log(
      `${v.label.padEnd(28)} ${med(v.rps).toFixed(0).padStart(6)} req/s  ratio ${ratio.toFixed(2)}  cost ${cost.toFixed(0).padStart(4)} µs  workerd cpu ${med(v.cpu).toFixed(0).padStart(4)} (min ${Math.min(...v.cpu).toFixed(0)}) µs/req  bench ${med(v.self).toFixed(0)} µs/req  [${v.rps.map((x) => x.toFixed(0)).join(" ")}] [${v.cpu.map((x) => x.toFixed(0)).join(" ")}]`,
    );
  }
  console.log(`logs: ${procs.logDir}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => stopAll());

// npm run profile:worker [-- --config one|realistic] [-- --seconds 10] [-- --dist DIR] [-- --top 25]
// CPU profile of the production bundle under load: plain `workerd serve --inspector-addr`, nginx behind, wrk in
// front (the bench's worker setup), and the DevTools protocol's Profiler over the inspector's WebSocket. Prints
// the functions with the most self time (the bundle is built unminified, so names are the source's); --out FILE keeps the raw .cpuprofile (opens in Chrome DevTools).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { probe } from "../bench/lib/http-probe.ts";
import { freePort, Procs, stopAll, waitForPort } from "../bench/lib/procs.ts";
import { runWrk } from "../bench/lib/wrk.ts";
import { buildWorker, startTarget } from "./lib/worker-target.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    config: { type: "string", default: "realistic" },
    seconds: { type: "string", default: "10" },
    dist: { type: "string" },
    top: { type: "string", default: "25" },
    out: { type: "string" },
  },
});
const tmp = mkdtempSync(join(tmpdir(), "sy-profile-"));
const procs = new Procs(join(tmp, "logs"));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A minimal CDP client: numbered calls over one WebSocket, answers matched by id. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector WebSocket ${url} failed`));
  });
  let next = 0;
  const waiting = new Map<number, (msg: { result?: unknown; error?: { message: string } }) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data));
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  };
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (m) =>
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T),
      );
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Self time per function (name, file, line), in ms, from the samples and their time deltas. */
function selfTimes(p: Profile): { name: string; where: string; ms: number }[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // The delta after a sample is the time it stands for.
    const d = (deltas[i + 1] ?? 0) / 1000;
    ms.set(samples[i]!, (ms.get(samples[i]!) ?? 0) + d);
  }
  const byFn = new Map<string, { name: string; where: string; ms: number }>();
  for (const [id, t] of ms) {
    const f = byId.get(id)!.callFrame;
    const file = f.url.split("/").at(-1) || "(native)";
    const where = f.url ? `${file}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName}\u0000${where}`;
    const e = byFn.get(key) ?? { name: f.functionName || "(anonymous)", where, ms: 0 };
    e.ms += t;
    byFn.set(key, e);
  }
  return [...byFn.values()].sort((a, b) => b.ms - a.ms);
}

async function main() {
  const dist = values.dist ?? buildWorker(root, join(tmp, "dist"), false);
  const config = values.config === "one" ? "one" : "realistic";
  const setup = await startTarget(root, procs, tmp, config);
  const { path, headers } = setup;
  const reqHeaders: Record<string, string> = { ...headers };

  const port = await freePort();
  const inspector = await freePort();
  const file = join(tmp, "switchyard.capnp");
  setup.writeSwitchyard(file, port, dist);
  const child = procs.start(
    "workerd",
    join(root, "node_modules/.bin/workerd"),
    ["serve", "--experimental", `--inspector-addr=127.0.0.1:${inspector}`, file],
    { cwd: tmp },
  );
  await waitForPort(port, 30_000, child);
  const p = await probe(port, path, reqHeaders);
  if (p.cookie) reqHeaders.Cookie = p.cookie;
  const wrk = (seconds: number) =>
    runWrk(procs, { url: `http://127.0.0.1:${port}${path}`, seconds, connections: 16, headers: reqHeaders });
  await wrk(2); // warm-up: JIT, connection pools, leases

  // The inspector lists one target per worker; the bundle runs as the service named "main".
  const targets = (await (await fetch(`http://127.0.0.1:${inspector}/json/list`)).json()) as {
    id: string;
    title?: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => `${t.id} ${t.title ?? ""}`.includes("main")) ?? targets[0];
  if (!target) throw new Error("the inspector lists no worker");
  const cdp = await connect(target.webSocketDebuggerUrl);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 250 });
  await cdp.send("Profiler.start");
  const load = await wrk(Number(values.seconds));
  const { profile } = await cdp.send<{ profile: Profile }>("Profiler.stop");
  cdp.close();
  if (values.out) writeFileSync(values.out, JSON.stringify(profile));

  const rows = selfTimes(profile);
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const idle = rows
    .filter((r) => r.name === "(idle)" || r.name === "(program)")
    .reduce((s, r) => s + r.ms, 0);
  console.log(
    `${values.config} config, ${load.requests} requests in ${values.seconds} s (${load.rps.toFixed(0)} req/s, ` +
      `${load.non2xx} non-2xx); JavaScript thread busy ${(total - idle).toFixed(0)} of ${total.toFixed(0)} ms ` +
      `(${(((total - idle) * 1000) / load.requests).toFixed(1)} µs per request outside idle/program)`,
  );
  console.log("self ms   share  µs/req  function");
  for (const r of rows.slice(0, Number(values.top))) {
    const share = ((r.ms / total) * 100).toFixed(1).padStart(5);
    const per = ((r.ms * 1000) / load.requests).toFixed(2).padStart(6);
    console.log(`${r.ms.toFixed(0).padStart(7)}  ${share}%  ${per}  ${r.name} ${r.where}`);
  }
  console.log(`logs: ${procs.logDir}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => stopAll());

// `npm start`: the whole thing on loopback — demo HTTP backends, the worker under `wrangler dev`, a demo TCP
// backend pair and the L4 sidecar, all from wrangler.toml. Ctrl-C stops everything it started.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startHttpDemo, startTcpEcho } from "./demo/backends.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const WORKER_PORT = Number(process.env.SWITCHYARD_WORKER_PORT ?? 8787);
const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? "demo-admin-token";
const children: ChildProcess[] = [];
const servers: { close(): void }[] = [];

function run(label: string, cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const prefix = (data: Buffer) =>
    data
      .toString()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => `[${label}] ${l}`)
      .join("\n");
  child.stdout?.on("data", (d: Buffer) => console.log(prefix(d)));
  child.stderr?.on("data", (d: Buffer) => console.error(prefix(d)));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[${label}] exited (${signal ?? code}); stopping`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, "SIGTERM");
    } catch {}
  }
  for (const s of servers) s.close();
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

for (const [i, port] of [9001, 9002, 9003].entries())
  servers.push(await startHttpDemo(`demo-${i + 1}`, port));
for (const [i, port] of [9101, 9102].entries()) servers.push(await startTcpEcho(`echo-${i + 1}`, port));

run("sidecar", process.execPath, ["l4-sidecar/src/main.ts", "--config", "wrangler.toml"]);
run("worker", process.execPath, [
  "node_modules/wrangler/bin/wrangler.js",
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  String(WORKER_PORT),
  "--show-interactive-dev-session=false",
  // Opens the admin API and dashboard of the demo (loopback only); set ADMIN_TOKEN to choose the token.
  "--var",
  `ADMIN_TOKEN:${ADMIN_TOKEN}`,
]);

console.log(`
Switchyard demo
  HTTP backends   http://127.0.0.1:9001  :9002  :9003  (they answer with their name)
  TCP backends    127.0.0.1:9101  :9102                (echo, prefixed with their name)
  worker          http://127.0.0.1:${WORKER_PORT}        (wrangler dev; config: [vars.SWITCHYARD] in wrangler.toml)
  sidecar         127.0.0.1:7000 → echo backends       (same wrangler.toml, listeners section)
  dashboard       http://127.0.0.1:${WORKER_PORT}/__switchyard/#token=${ADMIN_TOKEN}

Try:
  curl -s http://127.0.0.1:${WORKER_PORT}/ | head -3            # round-robin over demo-1..3
  curl -s -H 'host: api.localhost' http://127.0.0.1:${WORKER_PORT}/v1/users   # the api route: demo-1 twice as often
  curl -si -H 'host: nowhere.test' http://127.0.0.1:${WORKER_PORT}/          # 404 JSON with a request id
  echo ping | nc -q1 127.0.0.1 7000                        # through the sidecar to echo-1 / echo-2
  npx switchyard check                                    # validate wrangler.toml
  npx switchyard explain 'GET http://api.localhost/v1/users'   # which route and backend, and why
  curl -s -H 'authorization: Bearer ${ADMIN_TOKEN}' http://127.0.0.1:${WORKER_PORT}/__switchyard/metrics | head

Ctrl-C stops everything.
`);

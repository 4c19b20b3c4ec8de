// `npm start` end to end: the demo comes up (demo backends, worker under `wrangler dev`, TCP echo backends,
// sidecar) and real clients reach the backends through it — curl through the worker, nc through the sidecar.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const PORT = 18787;
let child: ChildProcess;
let output = "";

async function curl(...args: string[]): Promise<string> {
  const { stdout } = await run("curl", ["-s", "--max-time", "10", ...args]);
  return stdout;
}

beforeAll(async () => {
  child = spawn(process.execPath, ["scripts/start.ts"], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_WORKER_PORT: String(PORT) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    try {
      if ((await curl("-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${PORT}/`)) === "200")
        return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the worker did not come up within 90s:\n${output}`);
}, 100_000);

afterAll(async () => {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGINT");
  await exited;
});

describe("npm start", () => {
  it("routes curl through the worker to the demo backends, round-robin", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const body = JSON.parse(await curl(`http://127.0.0.1:${PORT}/`)) as { backend: string };
      seen.add(body.backend);
    }
    expect([...seen].sort()).toEqual(["demo-1", "demo-2", "demo-3"]);
  });

  it("routes by host and path, and answers 404 JSON with a request id when nothing matches", async () => {
    const api = JSON.parse(await curl("-H", "host: api.localhost", `http://127.0.0.1:${PORT}/v1/users`));
    expect(["demo-1", "demo-2"]).toContain(api.backend);
    expect(api.url).toBe("/v1/users");
    const missing = await curl("-i", "-H", "host: nowhere.test", `http://127.0.0.1:${PORT}/`);
    expect(missing).toMatch(/^HTTP\/1\.1 404/);
    expect(missing).toMatch(/"code":"SY_NO_ROUTE"/);
    expect(missing).toMatch(/"request_id":"[0-9a-f-]{36}"/);
  });

  it("pipes nc through the sidecar to the TCP echo backends", async () => {
    // The sidecar runs one process per core, each with its own round-robin position and the kernel spreading
    // connections among them (SO_REUSEPORT): one more connection than processes puts two on one process,
    // which alternates, so both backends answer whatever the spread.
    const replies: string[] = [];
    for (let i = 0; i <= availableParallelism(); i++) {
      const { stdout } = await run("bash", ["-c", "(echo ping; sleep 0.3) | nc -q1 127.0.0.1 7000"]).catch(
        (e) => {
          throw new Error(`${e.message}\n${output}`);
        },
      );
      replies.push(stdout);
    }
    expect([...new Set(replies.map((r) => r.split("\n")[0]))].sort()).toEqual([
      "hello from echo-1",
      "hello from echo-2",
    ]);
    for (const r of replies) expect(r).toMatch(/echo-\d: ping/);
  });
});

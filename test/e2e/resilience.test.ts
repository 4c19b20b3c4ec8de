// Resilience end to end: the worker under `wrangler dev` (workerd, as users run it), real backend servers in
// this process, and a real HTTP client. A backend is really killed (its listener closed, its connections
// destroyed) in the middle of 1,000 GETs; a health endpoint really fails and the HealthChecker object's own
// alarm (not a test hook) takes the backend out. Worker log lines are read from wrangler's output.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../sidecar/helpers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-e2e-"));

interface Backend {
  name: string;
  port: number;
  server: Server;
  sockets: Set<Socket>;
  healthy: boolean;
  requests: number;
}

async function backend(name: string): Promise<Backend> {
  const server = createServer();
  const b: Backend = { name, port: 0, server, sockets: new Set(), healthy: true, requests: 0 };
  server.on("connection", (s: Socket) => {
    b.sockets.add(s);
    s.on("close", () => b.sockets.delete(s));
  });
  server.on("request", (req, res) => {
    if (req.url === "/health") {
      res.writeHead(b.healthy ? 200 : 503).end(b.healthy ? "ok" : "down");
      return;
    }
    b.requests++;
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end(name));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  b.port = (server.address() as AddressInfo).port;
  return b;
}

function kill(b: Backend): Promise<void> {
  const closed = new Promise<void>((r) => b.server.close(() => r()));
  for (const s of b.sockets) s.destroy();
  return closed;
}

let child: ChildProcess;
let base: URL;
let backends: Backend[];
let output = "";
const logs = () => output.split("\n");

beforeAll(async () => {
  backends = await Promise.all(["a", "b", "c", "d", "e"].map(backend));
  const url = (b: Backend) => `http://127.0.0.1:${b.port}`;
  const [a, b, c, d, e] = backends as [Backend, Backend, Backend, Backend, Backend];
  const config = {
    services: [
      { name: "killed", backends: [a, b, c].map((x) => ({ url: url(x) })), passive: { failures: 3 } },
      {
        name: "checked",
        backends: [d, e].map((x) => ({ url: url(x) })),
        health: { path: "/health", interval: "200ms", jitter: "50ms", healthy: 2, unhealthy: 2 },
      },
    ],
    routes: [
      // By path: wrangler dev's proxy sets the Host header itself.
      { name: "killed", match: { path: { prefix: "/killed" } }, service: "killed" },
      { name: "checked", match: { path: { prefix: "/checked" } }, service: "checked" },
    ],
  };
  writeFileSync(
    join(dir, "wrangler.toml"),
    [
      'name = "switchyard-e2e"',
      `main = ${JSON.stringify(join(root, "worker/src/index.ts"))}`,
      'compatibility_date = "2026-11-01"',
      "[vars]",
      `SWITCHYARD = ${JSON.stringify(JSON.stringify(config))}`,
      "[[durable_objects.bindings]]",
      'name = "HEALTH_CHECKER"',
      'class_name = "HealthChecker"',
      "[[durable_objects.bindings]]",
      'name = "RATE_LIMITER"',
      'class_name = "RateLimiter"',
      "[[migrations]]",
      'tag = "v1"',
      'new_sqlite_classes = ["RateLimiter", "HealthChecker"]',
      "",
    ].join("\n"),
  );
  const port = await freePort();
  child = spawn(
    process.execPath,
    [
      "node_modules/wrangler/bin/wrangler.js",
      "dev",
      "-c",
      join(dir, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--persist-to",
      join(dir, "state"),
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: root,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  base = new URL(`http://127.0.0.1:${port}/`);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      if ((await fetch(new URL("/killed/up", base))).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the worker did not come up within 90s:\n${output}`);
}, 100_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid, "SIGINT");
    await exited;
  }
  for (const b of backends ?? []) await kill(b).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(new URL(path, base));
  return { status: res.status, body: await res.text() };
}

describe("resilience end to end", () => {
  it("serves 1,000 GETs without a failure while one of three backends is killed", async () => {
    const [a, b, c] = backends as [Backend, Backend, Backend];
    const statuses: number[] = [];
    let next = 0;
    const client = async () => {
      while (next < 1000) {
        const i = next++;
        if (i === 300) await kill(b);
        statuses.push((await get(`/killed/item/${i}`)).status);
      }
    };
    await Promise.all(Array.from({ length: 16 }, client));
    expect(statuses).toHaveLength(1000);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(b.requests).toBeGreaterThan(50);
    expect(b.requests).toBeLessThan(400);
    expect(a.requests + c.requests).toBeGreaterThan(600);
    expect(logs().some((l) => l.includes('"msg":"backend ejected"') && l.includes(`:${b.port}/`))).toBe(true);
  }, 120_000);

  it("takes a backend out once its health check fails `unhealthy` times, from the object's own alarm", async () => {
    const [, , , d] = backends as [Backend, Backend, Backend, Backend];
    // Traffic starts the checks (the isolate's cache refresh arms the alarm).
    for (let i = 0; i < 4; i++) expect((await get("/checked/")).status).toBe(200);
    d.healthy = false;
    const deadline = Date.now() + 10_000;
    while (!logs().some((l) => l.includes('"msg":"backend is unhealthy"') && l.includes(`:${d.port}/`))) {
      if (Date.now() > deadline) throw new Error(`no health flip logged:\n${logs().slice(-20).join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const flips = logs().filter((l) => l.includes('"msg":"backend is unhealthy"'));
    expect(flips).toHaveLength(1);
    expect(flips[0]).toContain("status 503 is not an expected status");
    // The isolate's cache catches up within its ttl (here the 200ms interval); then only e is used.
    await new Promise((r) => setTimeout(r, 600));
    await get("/checked/warm");
    await new Promise((r) => setTimeout(r, 300));
    const before = d.requests;
    for (let i = 0; i < 20; i++) expect((await get(`/checked/${i}`)).body).toBe("e");
    expect(d.requests).toBe(before);
  }, 60_000);
});

// End to end with a real peer: two redis-server backends behind the real switchyard-l4 program, driven by
// redis-cli and redis-benchmark; one backend is killed in the middle of the run and the other serves the rest.
// The Debian tools come from scripts/ensure-debian-tools.sh (which .ci/run calls); a missing tool fails here.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort, onCleanup, ROOT, sleep, spawnSidecar, waitFor } from "./helpers.ts";

const TOOLS = ["redis-server", "redis-cli", "redis-benchmark"];
const have = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

beforeAll(() => {
  if (!TOOLS.every(have))
    execFileSync("bash", [path.join(ROOT, "scripts/ensure-debian-tools.sh")], { stdio: "inherit" });
  const missing = TOOLS.filter((t) => !have(t));
  if (missing.length)
    throw new Error(`missing ${missing.join(", ")}: run scripts/ensure-debian-tools.sh (apt-get)`);
}, 300_000);

async function redisServer(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  for (let i = 0; i < 100; i++) {
    if ((await run("redis-cli", ["-p", String(port), "PING"])).out.trim() === "PONG") return { port, child };
    await sleep(100);
  }
  throw new Error(`redis-server on ${port} did not start`);
}

function run(
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => resolve({ code, out, err }));
    child.stdin.on("error", () => {}); // EPIPE when the tool exits without reading its input
    child.stdin.end(input ?? "");
  });
}

const info = async (port: number, field: string) => {
  const { out } = await run("redis-cli", ["-p", String(port), "INFO", "stats"]);
  return Number(new RegExp(`${field}:(\\d+)`).exec(out)?.[1]);
};

/** Short connections per benchmark round. */
const ROUND = 2000;

describe("redis behind the sidecar", () => {
  // Its own timeout: beside the rest of the suite on a 2-core machine, a larger version of this run (36k short
  // connections) took close to a minute, over the sidecar project's 60 s.
  it("serves redis-cli and redis-benchmark, and survives a backend killed mid-run", {
    timeout: 150_000,
  }, async () => {
    const a = await redisServer();
    const b = await redisServer();
    const port = await freePort();
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sy-redis-")), "sidecar.json");
    writeFileSync(
      file,
      JSON.stringify({
        services: [
          {
            name: "redis",
            balance: "maglev",
            backends: [{ address: `127.0.0.1:${a.port}` }, { address: `127.0.0.1:${b.port}` }],
            health: {
              send: "PING\r\n",
              expect: "+PONG",
              interval: "200ms",
              jitter: "0s",
              timeout: "200ms",
              unhealthy: 2,
              healthy: 2,
            },
            passive: { failures: 1, eject: "30s" },
          },
        ],
        listeners: [
          { name: "redis", listen: `127.0.0.1:${port}`, service: "redis", connect_timeout: "500ms" },
        ],
      }),
    );
    const p = spawnSidecar(["--config", file]);
    await p.waitForLog("started");
    const cli = (...args: string[]) => run("redis-cli", ["-p", String(port), ...args]);

    // redis-cli: single commands, and a pipelined session on one connection.
    expect((await cli("PING")).out.trim()).toBe("PONG");
    const session = await run(
      "redis-cli",
      ["-p", String(port)],
      "SET sy:key hello\nGET sy:key\nINCR sy:n\nINCR sy:n\n",
    );
    expect(session.out.trim().split("\n")).toEqual(["OK", "hello", "1", "2"]);

    // redis-benchmark: persistent connections, then one connection per request.
    const bench = await run("redis-benchmark", [
      "-p",
      String(port),
      "-n",
      "5000",
      "-c",
      "20",
      "-t",
      "set,get",
      "-q",
    ]);
    expect(bench.code).toBe(0);
    expect(bench.out).toMatch(/SET: [\d.]+ requests per second/);
    expect(bench.out).toMatch(/GET: [\d.]+ requests per second/);
    // Maglev keys on the client address, and every client here is 127.0.0.1: one backend carries it all.
    const served = [
      await info(a.port, "total_commands_processed"),
      await info(b.port, "total_commands_processed"),
    ];
    const [hot, cold] = served[0]! > served[1]! ? [a, b] : [b, a];
    expect(Math.max(...served)).toBeGreaterThan(10_000);

    // The run: 8 benchmark rounds of short connections; the backend serving them dies during round 3.
    const rounds: { code: number | null; err: string }[] = [];
    for (let r = 0; r < 8; r++) {
      const round = run("redis-benchmark", [
        "-p",
        String(port),
        "-n",
        String(ROUND),
        "-c",
        "8",
        "-k",
        "0",
        "-t",
        "ping",
        "-q",
      ]);
      if (r === 2) {
        await sleep(100);
        hot.child.kill("SIGKILL");
        await once(hot.child, "exit");
      }
      rounds.push(await round);
    }
    // At most the round in flight at the kill saw errors (connections the dead backend held were reset).
    expect(rounds.slice(0, 2).map((r) => r.code)).toEqual([0, 0]);
    expect(rounds.slice(3).map((r) => r.code)).toEqual(new Array(5).fill(0));
    expect(await info(cold.port, "total_connections_received")).toBeGreaterThan(5 * ROUND);
    expect((await cli("PING")).out.trim()).toBe("PONG");
    await waitFor(() =>
      p.lines.some((l) => l.msg === "backend ejected" || l.msg === "backend health changed"),
    );

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});

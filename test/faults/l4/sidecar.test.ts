// L4 fault scenarios with real sockets: a backend killed mid-stream, reloads under load, 10,000 connections
// opened and closed by a separate sidecar process (its file descriptors and RSS before and after), and slowloris
// clients at the prelude and when idle. Each records a row in the table printed at the end.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../core/config/index.ts";
import {
  backend,
  clientHello,
  echoBackend,
  freePort,
  sleep,
  spawnSidecar,
  startSidecar,
  tcpConfig,
  waitFor,
} from "../../sidecar/helpers.ts";
import { faultTable } from "../recorder.ts";

const table = faultTable("L4 faults: the sidecar");
afterAll(() => console.log(table.render()));

/** One connection: sends `text` from `localAddress`, half-closes, resolves with the reply or the error code. */
function exchange(port: number, text: string | Buffer, localAddress = "127.0.0.1"): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress, allowHalfOpen: true }, () => s.end(text));
    let got = "";
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      got += d;
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
    s.on("close", () => resolve(got));
  });
}

/** `total` exchanges, `concurrency` at a time; `at[i]` runs before exchange i starts. Returns the replies. */
async function load(
  total: number,
  concurrency: number,
  one: (i: number) => Promise<string>,
  at: Record<number, () => unknown> = {},
): Promise<string[]> {
  const out: string[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await at[i]?.();
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

describe("L4 faults", () => {
  it("a backend killed mid-stream: its streams end at once, the others go on, new connections fail over", async () => {
    const doomed = await echoBackend();
    const survivor = await echoBackend();
    const { port, connections } = await startSidecar(
      tcpConfig([doomed.address, survivor.address], { connect_attempts: 2 }, { balance: "round-robin" }),
    );
    // 20 streams that keep talking (a byte every 20 ms, echoed back) until told to stop.
    const streams = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = net.connect(port, "127.0.0.1");
        s.on("error", () => {});
        await new Promise((r) => s.once("connect", r));
        let echoed = 0;
        s.on("data", (d) => {
          echoed += d.length;
        });
        const timer = setInterval(() => s.writable && s.write("x"), 20);
        const ended = new Promise<void>((r) => s.once("close", () => r()));
        return { s, timer, ended, echoed: () => echoed };
      }),
    );
    await waitFor(() => doomed.sockets.size === 10 && survivor.sockets.size === 10, 5000, "streams spread");
    await sleep(100);
    // As a crash mid-transfer looks from outside: every connection reset, nothing listening any more.
    for (const s of doomed.sockets) s.resetAndDestroy();
    await doomed.close();
    // The doomed backend's streams end promptly; the survivor's keep echoing.
    const broken = await Promise.race([
      Promise.all(streams.map((st) => Promise.race([st.ended.then(() => 1), sleep(3000).then(() => 0)]))),
    ]);
    const ended = broken.reduce((a, b) => a + b, 0);
    const before = streams.map((st) => st.echoed());
    await sleep(200);
    const stillTalking = streams.filter((st, i) => !st.s.destroyed && st.echoed() > before[i]!).length;
    for (const st of streams) {
      clearInterval(st.timer);
      st.s.destroy();
    }
    // New connections: the dead backend refuses, the sidecar fails over, nothing was sent yet.
    const replies = await load(200, 10, (i) => exchange(port, `n${i}`));
    const newFailed = replies.filter((r, i) => r !== `n${i}`).length;
    const logged = connections().filter((l) => l.closed_by === "backend-reset").length;
    const held = ended === 10 && stillTalking === 10 && newFailed === 0;
    table.record({
      scenario: "backend killed mid-stream",
      unit: "connections",
      total: streams.length + replies.length,
      failed: 10 - stillTalking + newFailed,
      retried: connections().filter((l) => (l.attempts as number) > 1).length,
      promise: "its 10 streams end at once (backend-reset), the other 10 go on, 200 new ones all served",
      held,
    });
    expect({ ended, stillTalking, newFailed }).toEqual({ ended: 10, stillTalking: 10, newFailed: 0 });
    expect(logged).toBeGreaterThanOrEqual(10);
  });

  it("reloads under load: 10 reloads during 1,000 connections lose none", async () => {
    const reply = (name: string) =>
      backend((s) => {
        s.on("data", () => {});
        s.on("end", () => s.end(name));
      });
    const [a, b] = [await reply("A"), await reply("B")];
    const port = await freePort();
    const doc = (addresses: string[], idle: string) =>
      tcpConfig(addresses, { listen: `127.0.0.1:${port}`, idle_timeout: idle });
    const { sidecar } = await startSidecar(doc([a.address], "1h"));
    const configs = [doc([b.address], "30m"), doc([a.address, b.address], "1h"), doc([a.address], "45m")];
    const at: Record<number, () => unknown> = {};
    let reloads = 0;
    for (let k = 1; k <= 10; k++)
      at[k * 90] = async () => {
        const errors = await sidecar.apply(parseConfig(configs[k % configs.length]!));
        if (errors.length === 0) reloads++;
      };
    const replies = await load(1000, 20, () => exchange(port, "hi"), at);
    const failed = replies.filter((r) => r !== "A" && r !== "B").length;
    table.record({
      scenario: "reload under load",
      unit: "connections",
      total: replies.length,
      failed,
      retried: 0,
      promise: "0 failed connections across 10 reloads",
      held: failed === 0 && reloads === 10,
    });
    expect({ failed, reloads }).toEqual({ failed: 0, reloads: 10 });
  });

  it("10,000 connections opened and closed: the sidecar's file descriptors and RSS are flat", async () => {
    const b = await echoBackend();
    const port = await freePort();
    const file = path.join(tmpdir(), `sy-faults-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(tcpConfig([b.address], { listen: `127.0.0.1:${port}` })));
    const p = spawnSidecar(["--config", file]);
    await p.waitForLog("started");
    const pid = p.child.pid!;
    const fds = () => readdirSync(`/proc/${pid}/fd`).length;
    const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
    const run = (n: number) => load(n, 50, (i) => exchange(port, `c${i}`));
    // Warm up first: buffers, JIT and the allocator's first arenas are not a leak.
    await run(2000);
    await sleep(300);
    const before = { fds: fds(), rss: rssKiB() };
    const replies = await run(10_000);
    await sleep(300);
    const after = { fds: fds(), rss: rssKiB() };
    p.child.kill("SIGTERM");
    await p.exited;
    const failed = replies.filter((r, i) => r !== `c${i}`).length;
    const rssGrowthMiB = (after.rss - before.rss) / 1024;
    const held = failed === 0 && after.fds <= before.fds && rssGrowthMiB < 16;
    table.record({
      scenario: "10,000 connections opened and closed",
      unit: "connections",
      total: replies.length,
      failed,
      retried: 0,
      promise: `fds ${before.fds} → ${after.fds}, RSS ${(before.rss / 1024).toFixed(1)} → ${(after.rss / 1024).toFixed(1)} MiB (flat: no more fds, < 16 MiB)`,
      held,
    });
    expect(failed).toBe(0);
    expect(after.fds).toBeLessThanOrEqual(before.fds);
    expect(rssGrowthMiB).toBeLessThan(16);
  });

  it("slowloris at the prelude: clients that never finish their ClientHello cannot keep others out", async () => {
    const b = await echoBackend();
    const { port, sidecar } = await startSidecar(
      tcpConfig([b.address], { protocol: "tls", max_prelude_per_source: 16, max_connections: 150 }),
    );
    // 150 slow clients from one address, each sending 3 bytes of a hello and then nothing.
    const slow = await Promise.all(
      Array.from({ length: 150 }, async () => {
        const s = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
        // A refused one may see its reset before its connect completes.
        await new Promise((r) => {
          s.once("connect", r);
          s.once("error", r);
        });
        if (!s.destroyed) s.write(clientHello("slow.example.com").subarray(0, 3));
        s.on("error", () => {});
        return s;
      }),
    );
    await waitFor(
      () => sidecar.listenerStats.get("l")!.refused.prelude_limit === 150 - 16,
      5000,
      "slow ones capped",
    );
    const hello = clientHello("db.example.com");
    const replies = await load(300, 10, () => exchange(port, hello));
    const failed = replies.filter((r) => r !== hello.toString("latin1")).length;
    for (const s of slow) s.destroy();
    const held = failed === 0 && sidecar.listenerStats.get("l")!.refused.max_connections === 0;
    table.record({
      scenario: "slowloris at the prelude",
      unit: "connections",
      total: slow.length + replies.length,
      failed,
      retried: 0,
      promise: "150 slow hellos from one address (max_connections 150) hold 16 places; 300 others all served",
      held,
    });
    expect(failed).toBe(0);
  });

  it("slowloris when idle: idle connections are closed at idle_timeout and their places go to others", async () => {
    const b = await echoBackend();
    const { port, sidecar, connections } = await startSidecar(
      tcpConfig([b.address], { idle_timeout: "500ms", max_connections: 100 }),
    );
    const idle = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const s = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
        s.on("error", () => {});
        await new Promise((r) => s.once("connect", r));
        return s;
      }),
    );
    await waitFor(() => sidecar.status().listeners[0]!.active === 100, 5000, "all places taken");
    const refusedWhileFull = await exchange(port, "early");
    await waitFor(() => sidecar.status().listeners[0]!.active === 0, 5000, "idle ones closed");
    const replies = await load(200, 20, (i) => exchange(port, `h${i}`));
    const failed = replies.filter((r, i) => r !== `h${i}`).length;
    const timedOut = connections().filter((l) => l.closed_by === "idle-timeout").length;
    for (const s of idle) s.destroy();
    const held = refusedWhileFull === "error:ECONNRESET" && timedOut === 100 && failed === 0;
    table.record({
      scenario: "slowloris when idle",
      unit: "connections",
      total: idle.length + 1 + replies.length,
      failed,
      retried: 0,
      promise: "100 idle clients closed at idle_timeout; then 200 others all served",
      held,
    });
    expect({ refusedWhileFull, timedOut, failed }).toEqual({
      refusedWhileFull: "error:ECONNRESET",
      timedOut: 100,
      failed: 0,
    });
  });
});

// The sidecar's core job over real sockets: bytes both ways intact, backpressure, half-close, failover, logs.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type net from "node:net";
import { describe, expect, it } from "vitest";
import {
  backend,
  connect,
  deadAddress,
  echoBackend,
  readAll,
  roundTrip,
  sleep,
  startSidecar,
  tcpConfig,
  useDataPath,
  waitFor,
} from "./helpers.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Sends one byte through a new connection that stays open (closed at cleanup); returns the echo. */
async function roundTripKeep(port: number): Promise<string> {
  const c = await connect(port);
  c.write("x");
  const [chunk] = (await once(c, "data")) as [Buffer];
  return chunk.toString();
}

/** The `tr` (active timer) field of /proc/net/tcp for the socket 127.0.0.1:local → 127.0.0.1:remote. */
function keepAliveTimer(local: number, remote: number): number {
  const hex = (p: number) => `0100007F:${p.toString(16).toUpperCase().padStart(4, "0")}`;
  const row = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1] === hex(local) && f[2] === hex(remote));
  if (!row) throw new Error(`no socket ${local} → ${remote} in /proc/net/tcp`);
  return Number(row[5]!.split(":")[0]);
}

/** Writes `data` in 64 KiB slices honouring backpressure, then ends. */
async function writeAll(s: net.Socket, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; off += 65536) {
    if (!s.write(data.subarray(off, off + 65536))) await once(s, "drain");
  }
  s.end();
}

// Every data path: the native engine (the default), raw TCP handles and net.Socket streams (the fallbacks).
describe.each(["native", "raw", "socket"])("sidecar proxying (%s data path)", (mode) => {
  useDataPath(mode);

  it("carries 100 MB each way at once, byte-exact (sha256 both ways)", async () => {
    const MB = 1024 * 1024;
    const up = randomBytes(100 * MB);
    const down = randomBytes(100 * MB);
    let receivedHash = "";
    const b = await backend((s) => {
      const h = createHash("sha256");
      s.on("data", (c: Buffer) => h.update(c));
      s.on("end", () => {
        receivedHash = h.digest("hex");
      });
      void writeAll(s, down);
    });
    const { port, connections, sidecar } = await startSidecar(tcpConfig([b.address]));
    // The mode under test is the one in use (a silent fallback would test the same path twice).
    expect(sidecar.status().listeners[0]).toMatchObject({ data_path: mode });
    const c = await connect(port);
    const h = createHash("sha256");
    let got = 0;
    c.on("data", (chunk: Buffer) => {
      got += chunk.length;
      h.update(chunk);
    });
    const ended = once(c, "end");
    await writeAll(c, up);
    await ended;
    expect(got).toBe(down.length);
    expect(h.digest("hex")).toBe(sha256(down));
    await waitFor(() => receivedHash !== "", 10_000, "backend hash");
    expect(receivedHash).toBe(sha256(up));
    await waitFor(() => connections().length === 1);
    expect(connections()[0]).toMatchObject({
      bytes_in: up.length,
      bytes_out: down.length,
      backend: b.address,
    });
  });

  it("keeps 24 concurrent transfers apart (pooled read buffers are never shared while in use)", async () => {
    const b = await echoBackend();
    const { port } = await startSidecar(tcpConfig([b.address]));
    const one = async (i: number) => {
      const data = randomBytes(3 * 1024 * 1024 + i * 997);
      const c = await connect(port);
      const h = createHash("sha256");
      let got = 0;
      c.on("data", (chunk: Buffer) => {
        got += chunk.length;
        h.update(chunk);
        // Some readers are slow, so writes towards them stay pending while other connections read.
        if (i % 3 === 0) {
          c.pause();
          setTimeout(() => c.resume(), 1);
        }
      });
      const ended = once(c, "end");
      await writeAll(c, data);
      await ended;
      expect(got).toBe(data.length);
      expect(h.digest("hex")).toBe(sha256(data));
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => one(i)));
  });

  it("applies backpressure: a client that stops reading stops the backend, the sidecar does not buffer", async () => {
    let flushed = 0;
    let backendSocket: net.Socket | undefined;
    const chunk = Buffer.alloc(65536, 7);
    const b = await backend((s) => {
      backendSocket = s;
      const pump = () => {
        while (flushed < 256 * 1024 * 1024) {
          flushed += chunk.length;
          if (!s.write(chunk)) return void s.once("drain", pump);
        }
      };
      pump();
    });
    const { port } = await startSidecar(tcpConfig([b.address]));
    const c = await connect(port);
    c.pause();
    await waitFor(() => backendSocket !== undefined);
    await sleep(1000);
    const stalled = flushed;
    await sleep(300);
    // Kernel buffers on two loopback connections hold a few MB; without backpressure the sidecar would read on.
    expect(flushed).toBe(stalled);
    expect(flushed).toBeLessThan(48 * 1024 * 1024);
    c.destroy();
  });

  it("resolves a backend named by host name at connect, failing over from a name that does not resolve", async () => {
    const b = await echoBackend();
    const { port, connections } = await startSidecar(
      tcpConfig(["no-such-backend.invalid:7", `localhost:${b.port}`], { connect_timeout: "2s" }),
    );
    for (let i = 0; i < 2; i++) expect(await roundTrip(port, `ping ${i}`)).toBe(`ping ${i}`);
    await waitFor(() => connections().length === 2);
    expect(connections().map((l) => l.backend)).toEqual([`localhost:${b.port}`, `localhost:${b.port}`]);
    // One of the two connections tried the unresolvable name first and moved on.
    expect(connections().some((l) => (l.connect_failures as string[] | undefined)?.length === 1)).toBe(true);
  });

  it("sets TCP keep-alive on the backend socket once a connection has lived a second (at once below 10s)", async () => {
    let sidecarPort = 0;
    const b = await backend((s) => {
      sidecarPort = s.remotePort!;
      s.pipe(s);
    });
    for (const [keepalive, deferred] of [
      ["60s", true],
      ["5s", false],
    ] as const) {
      const { port } = await startSidecar(tcpConfig([b.address], { tcp_keepalive: keepalive }));
      expect(await roundTripKeep(port)).toBe("x");
      // /proc/net/tcp's timer column is 2 while a keep-alive timer is armed on that socket.
      const timer = () => keepAliveTimer(sidecarPort, b.port);
      expect(timer()).toBe(deferred ? 0 : 2);
      if (deferred) await waitFor(() => timer() === 2, 3000, "keep-alive on the backend socket");
    }
  });

  it("half-close: a client that shuts its write side still gets the whole, late response", async () => {
    const b = await backend((s) => {
      const chunks: Buffer[] = [];
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("end", () => {
        // Reply only after the client's FIN arrived, and slowly, in pieces.
        const req = Buffer.concat(chunks).toString();
        setTimeout(() => s.write(`got ${req};`), 50);
        setTimeout(() => s.end("bye"), 150);
      });
    });
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    expect(await roundTrip(port, "question")).toBe("got question;bye");
    await waitFor(() => connections().length === 1);
    expect(connections()[0]!.closed_by).toBe("client");
  });

  it("half-close the other way: the backend finishes first and still receives what the client sends after", async () => {
    let received = "";
    const b = await backend((s) => {
      s.end("banner\n");
      s.on("data", (c: Buffer) => {
        received += c.toString();
      });
    });
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    const c = await connect(port);
    const reply = readAll(c);
    expect((await reply).toString()).toBe("banner\n");
    c.end("late data");
    await waitFor(() => received === "late data");
    await waitFor(() => connections().length === 1);
    expect(connections()[0]!.closed_by).toBe("backend");
  });
});

describe("sidecar proxying", () => {
  it("balances connections round-robin across backends", async () => {
    const backends = await Promise.all([0, 1, 2].map((i) => backend((s) => s.end(`b${i}`))));
    const { port } = await startSidecar(tcpConfig(backends.map((b) => b.address)));
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push(await roundTrip(port, ""));
    expect(seen.filter((s) => s === "b0").length).toBe(3);
    expect(seen.filter((s) => s === "b1").length).toBe(3);
    expect(seen.filter((s) => s === "b2").length).toBe(3);
    expect(seen.slice(0, 3).sort()).toEqual(["b0", "b1", "b2"]);
  });

  it("fails over to the next backend when a connect is refused (nothing was sent yet)", async () => {
    const dead = await deadAddress();
    const live = await echoBackend();
    const { port, connections } = await startSidecar(tcpConfig([dead, live.address]));
    for (let i = 0; i < 4; i++) expect(await roundTrip(port, `ping${i}`)).toBe(`ping${i}`);
    expect(live.accepted).toBe(4);
    await waitFor(() => connections().length === 4);
    const failedOver = connections().filter((l) => Array.isArray(l.connect_failures));
    expect(failedOver.length).toBeGreaterThan(0);
    expect(failedOver[0]!.connect_failures).toEqual([`${dead} SY_CONNECT_REFUSED`]);
  });

  it("closes the client at once when no backend can be reached", async () => {
    const { port, connections } = await startSidecar(tcpConfig([await deadAddress(), await deadAddress()]));
    const c = await connect(port);
    const t0 = Date.now();
    const got = await readAll(c);
    expect(got.length).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => connections().length === 1);
    expect(connections()[0]).toMatchObject({ closed_by: "no-backend", attempts: 2 });
  });

  it("logs one JSON line per connection with listener, client, backend, bytes, duration and who closed", async () => {
    const b = await echoBackend();
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    expect(await roundTrip(port, "12345")).toBe("12345");
    await waitFor(() => connections().length === 1);
    const line = connections()[0]!;
    expect(line).toMatchObject({
      listener: "l",
      backend: b.address,
      bytes_in: 5,
      bytes_out: 5,
      closed_by: "client",
    });
    expect(line.client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(typeof line.duration_ms).toBe("number");
  });

  it("names the client by its address in the log line, whatever the width of each part", async () => {
    const b = await echoBackend();
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    const from = ["127.0.10.200", "127.255.0.9", "127.100.99.1"];
    for (const address of from) {
      const c = await connect(port, "127.0.0.1", address);
      const reply = readAll(c);
      c.end("x");
      expect((await reply).toString()).toBe("x");
    }
    await waitFor(() => connections().length === from.length);
    expect(connections().map((l) => String(l.client).replace(/:\d+$/, ""))).toEqual(from);
  });
});

// Edge cases where the data paths differ in mechanism (the native engine keeps its own connection table, byte
// counters and timers; the stream paths do it in JavaScript), held to the same outcome on every path.
import { execFile } from "node:child_process";
import { lookup } from "node:dns/promises";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import type net from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/index.ts";
import { nativeEngine } from "../../l4-sidecar/src/io/native.ts";
import {
  backend,
  blackhole,
  connect,
  echoBackend,
  freePort,
  readAll,
  roundTrip,
  startSidecar,
  tcpConfig,
  useDataPath,
  waitFor,
} from "./helpers.ts";

const run = promisify(execFile);
const openFds = () => readdirSync("/proc/self/fd").length;

describe.each(["native", "raw", "socket"])("%s data path", (mode) => {
  useDataPath(mode);

  it("counts the bytes of a connection that is still open (in /status, within a couple of seconds)", async () => {
    const b = await echoBackend();
    const { sidecar } = await startSidecar(tcpConfig([b.address]));
    expect(sidecar.status().listeners[0]).toMatchObject({ data_path: mode });
    const c = await connect(sidecar.listeners.get("l")!.port());
    c.write(Buffer.alloc(5000, 1));
    let echoed = 0;
    c.on("data", (d: Buffer) => {
      echoed += d.length;
    });
    await waitFor(() => echoed === 5000, 2000, "echo");
    await waitFor(
      () => {
        const l = sidecar.status().listeners[0]!;
        return l.bytes_in === 5000 && l.bytes_out === 5000;
      },
      3000,
      "listener byte counts",
    );
    expect(sidecar.status().services[0]!.backends[0]).toMatchObject({ bytes_in: 5000, bytes_out: 5000 });
    c.end();
    await once(c, "end");
    // Counted once: the final report adds nothing twice.
    await waitFor(() => sidecar.status().listeners[0]!.active === 0);
    expect(sidecar.status().listeners[0]).toMatchObject({ bytes_in: 5000, bytes_out: 5000 });
  });

  it("a backend that accepts and resets at once ends the client promptly, and counts nothing twice", async () => {
    const b = await backend((s) => s.resetAndDestroy());
    const { sidecar, port, connections } = await startSidecar(
      tcpConfig([b.address], { connect_attempts: 1 }),
    );
    const c = await connect(port);
    const t0 = Date.now();
    c.write("hello");
    await readAll(c);
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => connections().length === 1, 2000, "log line");
    expect(sidecar.status().listeners[0]).toMatchObject({ active: 0 });
    expect(sidecar.status().services[0]!.backends[0]).toMatchObject({ active: 0 });
  });

  it("a client that resets while its backend connect is pending frees everything at once", async () => {
    const hole = await blackhole();
    const { sidecar, port, connections } = await startSidecar(tcpConfig([hole], { connect_timeout: "30s" }));
    const c = await connect(port);
    await waitFor(() => sidecar.status().services[0]!.backends[0]!.active === 1, 2000, "connect under way");
    c.resetAndDestroy();
    await waitFor(() => connections().length === 1, 5000, "log line");
    // Every path watches the client while its backend connects (the streams read it meanwhile), so the reset
    // is noticed at once, not when connect_timeout ends the attempt.
    const status = sidecar.status();
    expect(status.listeners[0]).toMatchObject({ active: 0 });
    expect(status.services[0]!.backends[0]).toMatchObject({ active: 0, total: 0 });
    // It never reached the backend, so it is not a connect failure either.
    expect(status.services[0]!.backends[0]!.connect_errors).toEqual({ refused: 0, timeout: 0, failed: 0 });
    expect(connections()[0]!.closed_by).toBe("client-reset");
  });

  it("close() called twice while a connection is open: both calls get the drain, settled when it ends", async () => {
    const b = await echoBackend();
    const { sidecar, port } = await startSidecar(tcpConfig([b.address]));
    const c = await connect(port);
    c.write("x");
    await once(c, "data");
    const listener = sidecar.listeners.get("l")!;
    let settled = 0;
    const first = listener.close().then(() => settled++);
    const second = listener.close().then(() => settled++);
    expect(settled).toBe(0);
    c.end();
    await Promise.all([first, second]);
    expect(settled).toBe(2);
  });

  it("600 connections, 100 at a time: every one served, no socket left open afterwards", async () => {
    const b = await echoBackend();
    const { sidecar, port, connections } = await startSidecar(tcpConfig([b.address]));
    await roundTrip(port, "warm-up");
    await waitFor(() => connections().length === 1);
    const before = openFds();
    let sent = "warm-up".length;
    for (let batch = 0; batch < 6; batch++) {
      const texts = Array.from({ length: 100 }, (_, i) => `c${batch}-${i}`);
      sent += texts.join("").length;
      expect(await Promise.all(texts.map((t) => roundTrip(port, t)))).toEqual(texts);
    }
    await waitFor(() => connections().length === 601, 5000, "every log line");
    await waitFor(() => sidecar.status().listeners[0]!.active === 0);
    expect(sidecar.status().listeners[0]).toMatchObject({ total: 601, bytes_in: sent, bytes_out: sent });
    // The sidecar's sockets (client and backend sides) are all closed; the echo backend's may linger briefly.
    await waitFor(() => openFds() <= before + 2, 3000, "sockets closed");
  });
});

describe("native data path", () => {
  useDataPath("native");

  it("connection ids go past 2^32 without meeting an older connection's id", async () => {
    const b = await echoBackend();
    const { sidecar, port, connections } = await startSidecar(tcpConfig([b.address]));
    const ids = () => [
      ...(sidecar.listeners.get("l") as unknown as { conns: Map<number, unknown> }).conns.keys(),
    ];
    const first = await connect(port);
    first.write("a");
    await once(first, "data");
    const [old] = ids() as [number];
    // Where a 32-bit counter would be after 2^32 more accepts: it would hand out `old` again.
    nativeEngine()!.nextConnectionId(old + 2 ** 32);
    const second = await connect(port);
    second.write("b");
    await once(second, "data");
    expect(ids()).toEqual([old, old + 2 ** 32]);
    first.end();
    await waitFor(() => connections().length === 1, 2000, "first logged");
    second.write("still");
    const [echo] = (await once(second, "data")) as [Buffer];
    expect(echo.toString()).toBe("still");
    expect(ids()).toEqual([old + 2 ** 32]);
  });

  it("a reply whose FIN is already queued reaches the client in one segment with that FIN", async () => {
    // The backend answers either with end(reply) (its FIN is queued before the engine reads the reply) or with
    // write(reply), ending only once the client has the reply. The client counts the TCP segments it received
    // (ss's segs_in): the first exchange must take one fewer, as the reply and the FIN travel together.
    let endNow = true;
    const held: net.Socket[] = [];
    const b = await backend((s) => {
      s.once("data", () => {
        if (endNow) s.end("reply");
        else s.write("reply");
        held.push(s);
      });
    });
    const { port } = await startSidecar(tcpConfig([b.address]));
    const segmentsIn = async (mode: "at once" | "later") => {
      endNow = mode === "at once";
      const c = await connect(port);
      const got = readAll(c);
      c.write("request");
      if (mode === "later") {
        await once(c, "data");
        held.at(-1)!.end();
      }
      expect((await got).toString()).toBe("reply");
      // The client has not closed its side (allowHalfOpen), so the kernel still reports on the connection.
      const { stdout } = await run("ss", ["-tinH", "state", "close-wait", `( sport = :${c.localPort} )`]);
      const m = /segs_in:(\d+)/.exec(stdout);
      if (!m) throw new Error(`ss did not report the connection: ${stdout}`);
      c.destroy();
      return Number(m[1]);
    };
    const together = await segmentsIn("at once");
    const apart = await segmentsIn("later");
    expect(apart - together).toBe(1);
  });

  it("the handshake's last ACK to the backend goes with the client's first bytes, or at once when there are none", async () => {
    // A PROXY-header listener connects only once the header is in, so the test decides whether the client's
    // first bytes are already there: sent with the header, or only after the backend has the connection.
    const first = new Map<number, Promise<Buffer>>();
    const b = await backend((s) =>
      first.set(
        s.remotePort!,
        once(s, "data").then(([d]) => d as Buffer),
      ),
    );
    const { port } = await startSidecar(
      tcpConfig([b.address], { accept_proxy_protocol: true, proxy_protocol_from: ["127.0.0.1"] }),
    );
    const header = (c: net.Socket) => `PROXY TCP4 127.0.0.1 127.0.0.1 ${c.localPort} ${port}\r\n`;
    /** Segments the backend's end of the connection from `remote` received (ss's segs_in). */
    const segmentsIn = async (remote: number) => {
      const { stdout } = await run("ss", ["-tinH", `( sport = :${b.port} and dport = :${remote} )`]);
      const m = /segs_in:(\d+)/.exec(stdout);
      if (!m) throw new Error(`ss did not report the connection: ${stdout}`);
      return Number(m[1]);
    };

    const together = await connect(port);
    together.write(`${header(together)}hello`);
    await waitFor(() => b.accepted === 1, 5000, "first backend connection");
    const [remote1] = [...first.keys()] as [number];
    expect((await first.get(remote1)!).toString()).toBe("hello");
    const withBytes = await segmentsIn(remote1);

    const apart = await connect(port);
    apart.write(header(apart));
    // No bytes for the backend yet: once the sidecar's end of the second connection is established, the
    // backend's is too (not left in SYN-RECV until the delayed ACK's timer fires).
    const established = async () => {
      const { stdout } = await run("ss", ["-tnH", "state", "established", `( dport = :${b.port} )`]);
      return stdout.trim().split("\n").filter(Boolean).length;
    };
    for (let i = 0; (await established()) < 2; i++) if (i === 500) throw new Error("no second connect");
    const { stdout } = await run("ss", ["-tnH", "state", "syn-recv", `( sport = :${b.port} )`]);
    expect(stdout.trim()).toBe("");
    await waitFor(() => b.accepted === 2, 5000, "second backend connection");
    const remote2 = [...first.keys()].find((p) => p !== remote1)!;
    apart.write("hello");
    expect((await first.get(remote2)!).toString()).toBe("hello");
    expect((await segmentsIn(remote2)) - withBytes).toBe(1);
  });

  it("listens on a host name (its first address, as net.Server does)", async () => {
    const b = await echoBackend();
    const { port, sidecar } = await startSidecar(tcpConfig([b.address], { listen: "localhost:0" }));
    expect(sidecar.status().listeners[0]).toMatchObject({ data_path: "native" });
    const { address } = await lookup("localhost");
    const c = await connect(port, address);
    const reply = readAll(c);
    c.end("hi");
    expect((await reply).toString()).toBe("hi");
  });

  it("reports a listen address in use with its errno code, and keeps serving the listeners that bound", async () => {
    const b = await echoBackend();
    const first = await startSidecar(tcpConfig([b.address]));
    const taken = `127.0.0.1:${first.port}`;
    await expect(startSidecar(tcpConfig([b.address], { listen: taken }))).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
    expect(await roundTrip(first.port, "still")).toBe("still");
  });

  it("a reload that turns on accept_proxy_protocol keeps the listener's socket; new connections read the header", async () => {
    const b = await echoBackend();
    const listen = `127.0.0.1:${await freePort()}`;
    const doc = (acceptProxy: boolean) =>
      tcpConfig([b.address], {
        listen,
        accept_proxy_protocol: acceptProxy,
        ...(acceptProxy ? { proxy_protocol_from: ["127.0.0.1"] } : {}),
      });
    const { sidecar, port } = await startSidecar(doc(false));
    const open = await connect(port);
    open.write("before");
    await once(open, "data");
    expect(await sidecar.apply(parseConfig(doc(true)))).toEqual([]);
    expect(sidecar.status().listeners[0]).toMatchObject({ data_path: "native", active: 1 });
    // The connection accepted before the reload goes on as it was; new ones start with a PROXY header.
    open.write("still plain");
    const [echo] = (await once(open, "data")) as [Buffer];
    expect(echo.toString()).toBe("still plain");
    const header = "PROXY TCP4 192.0.2.1 127.0.0.1 5000 80\r\n";
    expect(await roundTrip(port, `${header}behind a balancer`)).toBe("behind a balancer");
  });
});

// Connection limits and stream edge cases over real sockets: idle timeout, max connections, allow/deny by
// CIDR, connect timeout and attempt bound, per-backend max_connections, resets propagated both ways.
import { once } from "node:events";
import net from "node:net";
import { describe, expect, it } from "vitest";
import {
  backend,
  blackhole,
  connect,
  deadAddress,
  echoBackend,
  freePort,
  readAll,
  roundTrip,
  sleep,
  startSidecar,
  tcpConfig,
  useDataPath,
  waitFor,
} from "./helpers.ts";

/** A connect that finishes with the socket's fate: "data:<text>", "end", or the error code. */
async function fate(port: number, opts: { localAddress?: string; host?: string; send?: string } = {}) {
  const s = net.connect({
    port,
    host: opts.host ?? "127.0.0.1",
    localAddress: opts.localAddress,
    allowHalfOpen: true,
  });
  return new Promise<string>((resolve) => {
    let got = "";
    s.on("connect", () => (opts.send !== undefined ? s.end(opts.send) : undefined));
    s.on("data", (d) => {
      got += d;
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.on("close", () => resolve(got ? `data:${got}` : "end"));
  });
}

describe.each(["native", "raw", "socket"])("sidecar limits (%s data path)", (mode) => {
  useDataPath(mode);

  it("closes a connection idle for idle_timeout (no bytes either way), and counts it", async () => {
    const b = await echoBackend();
    const { port, connections, sidecar } = await startSidecar(
      tcpConfig([b.address], { idle_timeout: "300ms" }),
    );
    const c = await connect(port);
    const closed = readAll(c);
    // Traffic keeps it open past the timeout…
    let t0 = 0;
    for (let i = 0; i < 4; i++) {
      c.write("x");
      t0 = Date.now();
      await sleep(150);
    }
    expect(c.destroyed).toBe(false);
    // …silence closes it.
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(1500);
    await waitFor(() => connections().length === 1);
    expect(connections()[0]!.closed_by).toBe("idle-timeout");
    expect(sidecar.listenerStats.get("l")!.idleTimeouts).toBe(1);
    await waitFor(() => b.sockets.size === 0); // the backend side is closed too
  });

  it("refuses connections beyond max_connections at once (reset), counts them, and admits again later", async () => {
    const b = await echoBackend();
    const { port, sidecar } = await startSidecar(tcpConfig([b.address], { max_connections: 2 }));
    const held = [await connect(port), await connect(port)];
    for (const h of held) h.write("hi");
    await waitFor(() => b.sockets.size === 2);
    const t0 = Date.now();
    expect(await fate(port, { send: "x" })).toBe("ECONNRESET");
    expect(Date.now() - t0).toBeLessThan(500);
    expect(sidecar.listenerStats.get("l")!.refused.max_connections).toBe(1);
    held[0]!.destroy();
    await waitFor(() => sidecar.listenerStats.get("l")!.active === 1);
    expect(await roundTrip(port, "again")).toBe("again");
  });

  it("allow/deny by CIDR: only allowed clients get through, denied ranges win over allowed ones", async () => {
    const b = await echoBackend();
    const { port, sidecar } = await startSidecar(
      tcpConfig([b.address], { allow: ["127.0.0.0/24", "::1"], deny: ["127.0.0.3", "127.0.0.128/25"] }),
    );
    expect(await fate(port, { localAddress: "127.0.0.1", send: "ok" })).toBe("data:ok");
    expect(await fate(port, { localAddress: "127.0.0.2", send: "ok" })).toBe("data:ok");
    expect(await fate(port, { localAddress: "127.0.0.3", send: "no" })).toBe("ECONNRESET");
    expect(await fate(port, { localAddress: "127.0.0.200", send: "no" })).toBe("ECONNRESET");
    expect(await fate(port, { localAddress: "127.0.1.1", send: "no" })).toBe("ECONNRESET");
    expect(sidecar.listenerStats.get("l")!.refused.denied).toBe(3);
    expect(b.accepted).toBe(2);
  });

  it("allow/deny works for IPv6 clients", async () => {
    const b = await echoBackend();
    const ok = await startSidecar(tcpConfig([b.address], { listen: "[::1]:0", allow: ["::1/128"] }));
    expect(await fate(ok.port, { host: "::1", send: "v6" })).toBe("data:v6");
    const denied = await startSidecar(tcpConfig([b.address], { listen: "[::1]:0", deny: ["::/0"] }));
    expect(await fate(denied.port, { host: "::1", send: "v6" })).toBe("ECONNRESET");
    const v4only = await startSidecar(tcpConfig([b.address], { listen: "[::1]:0", allow: ["10.0.0.0/8"] }));
    expect(await fate(v4only.port, { host: "::1", send: "v6" })).toBe("ECONNRESET");
  });

  it("gives up on a backend after connect_timeout and fails over to the next one", async () => {
    const hole = await blackhole();
    const live = await echoBackend();
    const { port, connections } = await startSidecar(
      tcpConfig([hole, live.address], { connect_timeout: "200ms" }, { balance: "round-robin" }),
    );
    const t0 = Date.now();
    const replies = [await roundTrip(port, "a"), await roundTrip(port, "b")];
    expect(replies).toEqual(["a", "b"]);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(180); // one of the two went to the black hole first
    expect(elapsed).toBeLessThan(2000);
    await waitFor(() => connections().length === 2);
    expect(connections().flatMap((l) => (l.connect_failures as string[]) ?? [])).toEqual([
      `${hole} SY_CONNECT_TIMEOUT`,
    ]);
  });

  it("a short connect_timeout fires on time while a connect with a longer one is pending", async () => {
    const hole = await blackhole();
    const live = await echoBackend();
    const { sidecar, portOf, connections } = await startSidecar({
      services: [
        { name: "slow", backends: [{ address: hole }] },
        { name: "quick", backends: [{ address: hole }, { address: live.address }], balance: "round-robin" },
      ],
      listeners: [
        { name: "slow", listen: "127.0.0.1:0", service: "slow", connect_timeout: "30s" },
        {
          name: "quick",
          listen: `127.0.0.1:${await freePort()}`,
          service: "quick",
          connect_timeout: "200ms",
        },
      ],
    });
    await connect(portOf("slow"));
    await waitFor(() => sidecar.listenerStats.get("slow")!.active === 1);
    // One of the two goes to the black hole first and fails over once its 200 ms pass, not the slow one's 30 s.
    const replies = [await roundTrip(portOf("quick"), "a"), await roundTrip(portOf("quick"), "b")];
    expect(replies).toEqual(["a", "b"]);
    await waitFor(() => connections().length === 2);
    expect(connections().map((l) => l.listener)).toEqual(["quick", "quick"]);
    expect(connections().flatMap((l) => (l.connect_failures as string[]) ?? [])).toEqual([
      `${hole} SY_CONNECT_TIMEOUT`,
    ]);
    expect(sidecar.listenerStats.get("slow")!.active).toBe(1); // still connecting
  });

  it("tries at most connect_attempts backends, then closes the client", async () => {
    const dead = await Promise.all([1, 2, 3, 4].map(() => deadAddress()));
    const live = await echoBackend();
    const { port, connections } = await startSidecar(
      tcpConfig([...dead, live.address], { connect_attempts: 2 }, { balance: "round-robin" }),
    );
    // Closed at once; a reset rather than a FIN when the client's bytes were never read.
    const t0 = Date.now();
    expect(["end", "ECONNRESET"]).toContain(await fate(port, { send: "x" }));
    expect(Date.now() - t0).toBeLessThan(500);
    await waitFor(() => connections().length === 1);
    expect(connections()[0]).toMatchObject({ attempts: 2, closed_by: "no-backend" });
  });

  it("respects a backend's max_connections: when full, new connections go to the others", async () => {
    const a = await echoBackend();
    const b = await echoBackend();
    const { port } = await startSidecar({
      services: [
        {
          name: "svc",
          balance: "least-connections",
          backends: [
            { address: a.address, weight: 100, max_connections: 2 },
            { address: b.address, weight: 1 },
          ],
        },
      ],
      listeners: [{ name: "l", listen: "127.0.0.1:0", service: "svc" }],
    });
    const held: net.Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await connect(port);
      c.write("x");
      held.push(c);
    }
    await waitFor(() => a.sockets.size + b.sockets.size === 5);
    expect(a.sockets.size).toBe(2);
    expect(b.sockets.size).toBe(3);
    for (const c of held) c.destroy();
  });

  it("a backend reset mid-stream resets the client promptly", async () => {
    const b = await backend((s) => {
      s.write("partial");
      setTimeout(() => s.resetAndDestroy(), 100);
    });
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    const c = await connect(port);
    let got = "";
    c.on("data", (d) => {
      got += d;
    });
    const t0 = Date.now();
    const [err] = (await once(c, "error")) as [NodeJS.ErrnoException];
    expect(err.code).toBe("ECONNRESET");
    expect(got).toBe("partial");
    expect(Date.now() - t0).toBeLessThan(1000);
    await waitFor(() => connections().length === 1);
    expect(connections()[0]).toMatchObject({ closed_by: "backend-reset", error: "ECONNRESET" });
  });

  it("a client reset resets the backend connection", async () => {
    let backendError = "";
    const b = await backend((s) => {
      s.on("error", (e: NodeJS.ErrnoException) => {
        backendError = e.code ?? "";
      });
    });
    const { port, connections } = await startSidecar(tcpConfig([b.address]));
    const c = await connect(port);
    c.write("hello");
    await waitFor(() => b.sockets.size === 1);
    c.resetAndDestroy();
    await waitFor(() => backendError === "ECONNRESET", 2000, "backend reset");
    await waitFor(() => connections().length === 1);
    expect(connections()[0]!.closed_by).toBe("client-reset");
  });
});

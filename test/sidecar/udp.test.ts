// UDP listeners over real sockets: a session per client address on one backend, replies back to the right
// client, idle sessions ended, allow/deny, and a backend's ICMP "port unreachable" moving the client on.
import dgram from "node:dgram";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { onCleanup, sleep, startSidecar, waitFor } from "./helpers.ts";

/** A UDP backend that answers every datagram with "<name>:<datagram>". */
async function udpEcho(name: string) {
  const s = dgram.createSocket("udp4");
  s.on("message", (msg, r) => s.send(`${name}:${msg}`, r.port, r.address));
  s.bind(0, "127.0.0.1");
  await once(s, "listening");
  onCleanup(() => new Promise<void>((r) => s.close(() => r())));
  return `127.0.0.1:${s.address().port}`;
}

/** A free UDP port with nothing behind it (datagrams draw ICMP port unreachable). */
async function deadUdp() {
  const s = dgram.createSocket("udp4");
  s.bind(0, "127.0.0.1");
  await once(s, "listening");
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

async function client(localAddress = "127.0.0.1") {
  const s = dgram.createSocket("udp4");
  s.bind(0, localAddress);
  await once(s, "listening");
  onCleanup(() => new Promise<void>((r) => s.close(() => r())));
  const replies: string[] = [];
  s.on("message", (m) => replies.push(m.toString()));
  return {
    replies,
    send: (port: number, text: string) => s.send(text, port, "127.0.0.1"),
    /** Sends and waits for the reply to this datagram. */
    ask: async (port: number, text: string) => {
      const before = replies.length;
      s.send(text, port, "127.0.0.1");
      await waitFor(() => replies.length > before, 2000, `reply to ${text}`);
      return replies[replies.length - 1]!;
    },
  };
}

const udpConfig = (backends: string[], listener: Record<string, unknown> = {}) => ({
  services: [{ name: "dns", backends: backends.map((address) => ({ address })) }],
  listeners: [{ name: "l", listen: "127.0.0.1:0", protocol: "udp", service: "dns", ...listener }],
});

describe("udp listener", () => {
  it("keeps each client on one backend, spreads clients, and answers each client", async () => {
    const [a, b] = [await udpEcho("A"), await udpEcho("B")];
    const { port, sidecar } = await startSidecar(udpConfig([a, b]));
    const c1 = await client();
    const c2 = await client();
    const first = [await c1.ask(port, "x1"), await c2.ask(port, "y1")];
    expect(first.map((r) => r[0]).sort()).toEqual(["A", "B"]); // round-robin over sessions
    for (let i = 2; i < 6; i++) {
      expect(await c1.ask(port, `x${i}`)).toBe(`${first[0]![0]}:x${i}`);
      expect(await c2.ask(port, `y${i}`)).toBe(`${first[1]![0]}:y${i}`);
    }
    expect(sidecar.listenerStats.get("l")).toMatchObject({ active: 2, total: 2, bytesIn: 20 });
  });

  it("ends a session after idle_timeout; the next datagram opens a new one", async () => {
    const a = await udpEcho("A");
    const { port, connections, sidecar } = await startSidecar(udpConfig([a], { idle_timeout: "300ms" }));
    const c = await client();
    expect(await c.ask(port, "1")).toBe("A:1");
    await waitFor(() => connections().length === 1, 3000, "session end");
    expect(connections()[0]).toMatchObject({
      protocol: "udp",
      closed_by: "idle-timeout",
      bytes_in: 1,
      bytes_out: 3,
    });
    expect(await c.ask(port, "2")).toBe("A:2");
    expect(sidecar.listenerStats.get("l")!.total).toBe(2);
  });

  it("drops datagrams from denied addresses", async () => {
    const a = await udpEcho("A");
    const { port, sidecar } = await startSidecar(udpConfig([a], { deny: ["127.0.0.2"] }));
    const denied = await client("127.0.0.2");
    denied.send(port, "no");
    const ok = await client("127.0.0.1");
    expect(await ok.ask(port, "yes")).toBe("A:yes");
    await sleep(100);
    expect(denied.replies).toEqual([]);
    expect(sidecar.listenerStats.get("l")!.refused.denied).toBe(1);
  });

  it("moves a client off a backend that answers with ICMP port unreachable", async () => {
    const dead = await deadUdp();
    const live = await udpEcho("L");
    const { port, connections } = await startSidecar(udpConfig([dead, live]));
    const c = await client();
    c.send(port, "lost?"); // the first session goes to the dead backend (round-robin starts there)
    await waitFor(() => connections().some((l) => l.closed_by === "backend-reset"), 3000, "unreachable");
    expect(connections()[0]).toMatchObject({ backend: dead, error: "ECONNREFUSED" });
    expect(await c.ask(port, "again")).toBe("L:again");
  });
});

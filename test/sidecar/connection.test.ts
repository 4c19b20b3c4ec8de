// The connection decision machine without sockets: events in, actions out, time injected. Every data path
// (native engine, JavaScript streams, UDP) only performs these actions, so admission, preludes, failover,
// passive health and the log line are checked here once.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/index.ts";
import { IpSet } from "../../core/rules/ip.ts";
import { type Action, type Clock, ListenerPolicy, type Notices } from "../../l4-sidecar/src/connection.ts";
import type { ListenerSettings } from "../../l4-sidecar/src/listener-common.ts";
import { type BackendState, ServicePool } from "../../l4-sidecar/src/pool.ts";
import { proxyHeader } from "../../l4-sidecar/src/proxy-protocol.ts";
import { SniTable } from "../../l4-sidecar/src/sni.ts";
import { ListenerStats } from "../../l4-sidecar/src/stats.ts";
import { clientHello } from "./helpers.ts";

const clock = () => {
  const t = { wall: 1_000_000, mono: 0 };
  const c: Clock & { advance(ms: number): void } = {
    wall: () => t.wall,
    mono: () => t.mono,
    advance(ms) {
      t.wall += ms;
      t.mono += ms;
    },
  };
  return c;
};

function setup(
  listener: Record<string, unknown> = {},
  service: Record<string, unknown> = {},
  backends = ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"],
) {
  const config = parseConfig({
    services: [
      { name: "svc", backends: backends.map((address) => ({ address })), ...service },
      { name: "other", backends: [{ address: "10.9.9.9:1" }] },
    ],
    listeners: [{ name: "l", listen: "127.0.0.1:0", service: "svc", ...listener }],
  });
  const l = config.listeners[0]!;
  const pools = new Map(config.services.map((s) => [s.name, new ServicePool(s, new Map())]));
  const settings: ListenerSettings = {
    listener: l,
    pool: pools.get("svc")!,
    ...(l.allow ? { allow: IpSet.parse(l.allow) } : {}),
    ...(l.deny ? { deny: IpSet.parse(l.deny) } : {}),
    ...(l.proxy_protocol_from ? { proxyFrom: IpSet.parse(l.proxy_protocol_from) } : {}),
    ...(l.sni ? { sni: new SniTable(Object.entries(l.sni).map(([h, s]) => [h, pools.get(s)!])) } : {}),
  };
  const stats = new ListenerStats();
  const ejected: string[] = [];
  const notices: Notices = { ejected: (_p, b) => ejected.push(b.address), connectFailed() {} };
  const c = clock();
  const policy = new ListenerPolicy(settings, stats, notices, c);
  return { policy, stats, pool: settings.pool, clock: c, ejected, pools };
}

const peer = (address = "127.0.0.1", port = 40000) => ({ address, port });
const backendOf = (a: Action) => (a.do === "connect" ? (a.backend as BackendState).address : a.do);

describe("connection decisions", () => {
  it("admits a plain TCP client straight to a backend, then logs bytes and who closed", () => {
    const { policy, stats, pool, clock } = setup({}, { balance: "round-robin" });
    const { conn, action } = policy.accepted(peer());
    expect(action).toMatchObject({ do: "connect", consume: 0, deadline: 5000 });
    expect(pool.backends.reduce((n, b) => n + b.state.active, 0)).toBe(1);
    expect(conn.connected()).toEqual({ do: "splice" });
    clock.advance(42);
    const end = conn.closed(10, 20, "backend");
    expect(end).toEqual({
      do: "log",
      level: "info",
      line: {
        listener: "l",
        client: "127.0.0.1:40000",
        service: "svc",
        attempts: 1,
        backend: backendOf(action),
        bytes_in: 10,
        bytes_out: 20,
        closed_by: "backend",
        duration_ms: 42,
      },
    });
    expect(stats).toMatchObject({ active: 0, total: 1 });
    expect(pool.backends.reduce((n, b) => n + b.state.active, 0)).toBe(0);
    expect(conn.closed(0, 0, "client")).toEqual({ do: "drop" }); // reported once
  });

  it("refuses by deny list and by max_connections, counting each reason", () => {
    const { policy, stats } = setup({ deny: ["10.1.0.0/16"], max_connections: 1 });
    expect(policy.accepted(peer("10.1.2.3")).action).toMatchObject({ do: "refuse", reason: "denied" });
    const first = policy.accepted(peer());
    expect(first.action.do).toBe("connect");
    expect(policy.accepted(peer()).action).toMatchObject({
      do: "refuse",
      reason: "max_connections",
      line: { closed_by: "max_connections", duration_ms: 0 },
    });
    first.conn.closed(0, 0, "client");
    expect(policy.accepted(peer()).action.do).toBe("connect");
    expect(stats.refused).toMatchObject({ denied: 1, max_connections: 1 });
  });

  it("fails over to another backend on a connect failure, then closes with every failure listed", () => {
    const { policy, stats, pool } = setup({ connect_attempts: 3 });
    const { conn, action } = policy.accepted(peer());
    const seen = [backendOf(action)];
    let a = conn.connectFailed("SY_CONNECT_REFUSED");
    seen.push(backendOf(a));
    a = conn.connectFailed("SY_CONNECT_TIMEOUT");
    seen.push(backendOf(a));
    expect(new Set(seen).size).toBe(3); // never the same backend twice
    a = conn.connectFailed("SY_CONNECT_FAILED");
    expect(a).toMatchObject({
      do: "close",
      level: "warn",
      line: {
        closed_by: "no-backend",
        attempts: 3,
        connect_failures: [
          `${seen[0]} SY_CONNECT_REFUSED`,
          `${seen[1]} SY_CONNECT_TIMEOUT`,
          `${seen[2]} SY_CONNECT_FAILED`,
        ],
      },
    });
    expect(stats.refused.no_backend).toBe(1);
    expect(pool.backends.map((b) => b.state.active)).toEqual([0, 0, 0]);
    expect(pool.backends.map((b) => b.state.connectErrors)).toContainEqual({
      refused: 1,
      timeout: 0,
      failed: 0,
    });
  });

  it("feeds connect failures to passive health: consecutive failures eject, and the notice names the backend", () => {
    const { policy, ejected } = setup({ connect_attempts: 1 }, { passive: { failures: 2, eject: "30s" } }, [
      "10.0.0.1:1",
    ]);
    for (let i = 0; i < 2; i++) {
      const { conn } = policy.accepted(peer());
      conn.connectFailed("SY_CONNECT_REFUSED");
    }
    expect(ejected).toEqual(["10.0.0.1:1"]);
  });

  it("passive health is on by default, as in the worker (3 failures eject); passive = false turns it off", () => {
    const ejections = (service: Record<string, unknown>) => {
      const { policy, ejected } = setup({ connect_attempts: 1 }, { ...service, panic_threshold: 0 }, [
        "10.0.0.1:1",
      ]);
      for (let i = 0; i < 3; i++) policy.accepted(peer()).conn.connectFailed("SY_CONNECT_REFUSED");
      return ejected.length;
    };
    expect(ejections({})).toBe(1);
    expect(ejections({ passive: false })).toBe(0);
  });

  it("a client that goes away while its backend connects frees the backend slot and is no connect failure", () => {
    const { policy, pool } = setup();
    const { conn } = policy.accepted(peer());
    const end = conn.closed(0, 0, "client-reset", "ECONNRESET");
    expect(end).toMatchObject({
      do: "log",
      level: "warn",
      line: { closed_by: "client-reset", error: "ECONNRESET" },
    });
    expect(pool.backends.map((b) => b.state.active)).toEqual([0, 0, 0]);
    expect(pool.backends.every((b) => b.state.connectErrors.refused === 0)).toBe(true);
    // The connect finishing afterwards changes nothing: the data path just closes the backend socket.
    expect(conn.connected()).toEqual({ do: "drop" });
    expect(pool.backends.every((b) => b.state.total === 0)).toBe(true);
  });

  it("panic_threshold: with too few backends up, balances across all of them (0 turns it off)", () => {
    const spread = (threshold: number) => {
      const { policy, pool } = setup({}, { health: {}, panic_threshold: threshold });
      pool.backends[0]!.state.healthy = false;
      pool.backends[1]!.state.healthy = false; // 1 of 3 up: 33% < 50%
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) {
        const { conn, action } = policy.accepted(peer());
        seen.add(backendOf(action));
        conn.closed(0, 0, "client");
      }
      return [...seen].sort();
    };
    expect(spread(0)).toEqual(["10.0.0.3:1"]);
    expect(spread(50)).toEqual(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"]);
  });

  it("max_ejection_percent: passive health never ejects more of the pool than that at once", () => {
    const addresses = ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1"];
    const { policy, ejected } = setup(
      { connect_attempts: 4 },
      { passive: { failures: 1, eject: "30s", max_ejection_percent: 50 }, panic_threshold: 0 },
      addresses,
    );
    const { conn } = policy.accepted(peer());
    for (let i = 0; i < 4; i++) conn.connectFailed("SY_CONNECT_REFUSED");
    expect(ejected).toHaveLength(2); // 50% of 4
  });

  describe("PROXY headers", () => {
    const header = proxyHeader("v1", {
      srcAddress: "192.0.2.9",
      srcPort: 5555,
      dstAddress: "10.0.0.1",
      dstPort: 80,
    });

    it("refuses a peer outside proxy_protocol_from before reading anything", () => {
      const { policy, stats } = setup({ accept_proxy_protocol: true, proxy_protocol_from: ["10.0.1.0/24"] });
      const { action } = policy.accepted(peer("127.0.0.1"));
      expect(action).toMatchObject({ do: "refuse", reason: "untrusted_proxy" });
      expect(stats.refused.untrusted_proxy).toBe(1);
      expect(policy.inPrelude).toBe(0);
    });

    it("from a trusted peer, believes the header: the client it names is checked, balanced on and logged", () => {
      const { policy } = setup({
        accept_proxy_protocol: true,
        proxy_protocol_from: ["127.0.0.1"],
        allow: ["192.0.2.0/24"],
      });
      const { conn, action } = policy.accepted(peer());
      expect(action).toMatchObject({ do: "read", deadline: 10_000 });
      expect(conn.prelude(header.subarray(0, 10), false).do).toBe("read");
      const a = conn.prelude(Buffer.concat([header, Buffer.from("hello")]), false);
      expect(a).toMatchObject({ do: "connect", consume: header.length });
      expect(policy.inPrelude).toBe(0);
      conn.connected();
      expect(conn.closed(5, 0, "client")).toMatchObject({
        do: "log",
        line: { client: "192.0.2.9:5555", via: "127.0.0.1:40000", service: "svc" },
      });

      const denied = policy.accepted(peer());
      const bad = proxyHeader("v1", {
        srcAddress: "198.51.100.1",
        srcPort: 1,
        dstAddress: "10.0.0.1",
        dstPort: 80,
      });
      expect(denied.conn.prelude(bad, false)).toMatchObject({
        do: "refuse",
        reason: "denied",
        line: { client: "198.51.100.1:1", closed_by: "denied" },
      });
    });

    it("closes a client whose header is malformed, cut short by its FIN, or late", () => {
      const { policy, clock } = setup({ accept_proxy_protocol: true, proxy_protocol_from: ["127.0.0.1"] });
      expect(policy.accepted(peer()).conn.prelude(Buffer.from("GET / HTTP/1.1\r\n"), false)).toMatchObject({
        do: "close",
        line: { closed_by: "bad-proxy-header" },
      });
      expect(policy.accepted(peer()).conn.prelude(header.subarray(0, 8), true)).toMatchObject({
        do: "close",
        line: { closed_by: "client-closed" },
      });
      const slow = policy.accepted(peer()).conn;
      clock.advance(10_000);
      // No service was chosen yet: the line names none (nor a backend).
      expect(slow.preludeTimedOut()).toEqual({
        do: "close",
        level: "warn",
        line: {
          listener: "l",
          client: "127.0.0.1:40000",
          attempts: 0,
          closed_by: "timeout",
          duration_ms: 10_000,
        },
      });
      expect(policy.inPrelude).toBe(0);
      expect(policy.open).toBe(0);
    });
  });

  describe("prelude caps", () => {
    it("limits connections still in their prelude per source address and in total, apart from max_connections", () => {
      const { policy, stats } = setup({
        protocol: "tls",
        max_prelude_per_source: 2,
        max_prelude_connections: 3,
      });
      const a1 = policy.accepted(peer("127.0.0.2"));
      policy.accepted(peer("127.0.0.2"));
      expect(policy.accepted(peer("127.0.0.2")).action).toMatchObject({
        do: "refuse",
        reason: "prelude_limit",
      });
      policy.accepted(peer("127.0.0.3"));
      expect(policy.accepted(peer("127.0.0.4")).action).toMatchObject({
        do: "refuse",
        reason: "prelude_limit",
      });
      expect(stats.refused.prelude_limit).toBe(2);
      // A finished prelude frees its place at once, while the connection itself goes on.
      expect(a1.conn.prelude(clientHello("db.example.com"), false).do).toBe("connect");
      expect(policy.accepted(peer("127.0.0.2")).action.do).toBe("read");
      expect(policy.open).toBe(4);
    });

    it("behind a load balancer, counts a slow ClientHello against the client the header names", () => {
      const { policy } = setup({
        protocol: "tls",
        accept_proxy_protocol: true,
        proxy_protocol_from: ["127.0.0.1"],
        max_prelude_per_source: 1,
      });
      const named = (ip: string) =>
        proxyHeader("v1", { srcAddress: ip, srcPort: 1, dstAddress: "10.0.0.1", dstPort: 443 });
      const first = policy.accepted(peer());
      expect(first.conn.prelude(named("192.0.2.1"), false).do).toBe("read"); // waits for its hello
      expect(policy.preludeBySource.get("192.0.2.1")).toBe(1);
      expect(policy.preludeBySource.get("127.0.0.1")).toBeUndefined();
      expect(policy.accepted(peer()).action.do).toBe("read"); // the balancer itself is not held up
    });
  });

  it("a tls listener picks the service by server name and leaves the hello for the backend", () => {
    const { policy } = setup({ protocol: "tls", sni: { "db.example.com": "other" } });
    const { conn } = policy.accepted(peer());
    const hello = clientHello("db.example.com");
    expect(conn.prelude(hello.subarray(0, 20), false).do).toBe("read");
    const a = conn.prelude(hello, false);
    expect(a).toMatchObject({ do: "connect", consume: 0 });
    expect(backendOf(a)).toBe("10.9.9.9:1");
    conn.connected();
    expect(conn.closed(0, 0, "client")).toMatchObject({
      do: "log",
      line: { sni: "db.example.com", service: "other", backend: "10.9.9.9:1" },
    });
  });

  it("UDP: one backend per session; an ICMP unreachable ends it, and the client's next session avoids that backend", () => {
    const { policy, pool } = setup({ protocol: "udp" }, { balance: "ring-hash" });
    const first = policy.accepted(peer());
    const b = backendOf(first.action);
    first.conn.connected();
    first.conn.moved(5, 0);
    const end = first.conn.connectFailed("SY_CONNECT_REFUSED", "ECONNREFUSED");
    expect(end).toMatchObject({
      do: "log",
      line: { protocol: "udp", backend: b, closed_by: "backend-reset", error: "ECONNREFUSED", bytes_in: 5 },
    });
    const again = policy.accepted(peer());
    expect(backendOf(again.action)).not.toBe(b); // the same hash key, another backend
    expect(pool.backends.find((x) => x.state.address === b)!.state.connectErrors.refused).toBe(1);
  });
});

// A UDP listener: each client address (ip:port) gets a session, a connected socket to one backend that
// connection.ts picks (the client IP is the key, so hash balancers keep a client on one backend). Datagrams go
// both ways until the session has been idle for idle_timeout. An ICMP "port unreachable" from a backend ends
// the session and counts as a connect failure (passive health); the client's next datagram picks again.
import dgram from "node:dgram";
import net from "node:net";
import { type Action, type Connection, type Level, ListenerPolicy } from "./connection.ts";
import { Drain, type Listener, type ListenerSettings, logNotices } from "./listener-common.ts";
import { type ConnectionLine, type Logger, logConnection } from "./log.ts";
import type { CloseReason } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

/** Datagrams held per session while its backend socket connects. */
const MAX_QUEUED = 64;

interface Session {
  key: string;
  m: Connection;
  address: string;
  port: number;
  socket?: dgram.Socket;
  connected: boolean;
  queue: Buffer[];
  lastActive: number;
}

export class UdpListener implements Listener {
  readonly transport = "udp";
  readonly dataPath = undefined;
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  private readonly policy: ListenerPolicy;
  private socket?: dgram.Socket;
  private readonly log: Logger;
  private readonly sessions = new Map<string, Session>();
  private readonly drain = new Drain();
  private sweeper?: NodeJS.Timeout;

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.stats = stats;
    this.log = log;
    this.policy = new ListenerPolicy(settings, stats, logNotices(log));
  }

  start(host: string, port: number, reusePort = false): Promise<void> {
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? "udp6" : "udp4", reusePort });
    this.socket = socket;
    socket.on("message", (msg, rinfo) => this.onClientDatagram(msg, rinfo));
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: host, port, exclusive: reusePort }, () => {
        socket.off("error", reject);
        socket.on("error", (err) =>
          this.log.error({ listener: this.name, err: err.message }, "listener error"),
        );
        this.sweeper = setInterval(() => this.sweep(), 250);
        this.sweeper.unref();
        resolve();
      });
    });
  }

  port(): number {
    return this.socket!.address().port;
  }

  get activeConnections(): number {
    return this.sessions.size;
  }

  get current(): ListenerSettings {
    return this.policy.settings;
  }

  update(settings: ListenerSettings): void {
    this.policy.settings = settings;
  }

  /** UDP has no connection to drain: stop receiving and end every session now. */
  close(): Promise<void> {
    return this.drain.begin(0, () => {
      clearInterval(this.sweeper);
      this.abortAll("shutdown");
      try {
        this.socket?.close();
      } catch {}
    });
  }

  abortAll(reason: CloseReason = "shutdown"): void {
    for (const s of [...this.sessions.values()]) this.act(s, s.m.closed(s.m.bytesIn, s.m.bytesOut, reason));
  }

  private onClientDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.sessions.get(key);
    if (!s) {
      const { conn, action } = this.policy.accepted({ address: rinfo.address, port: rinfo.port });
      s = {
        key,
        m: conn,
        address: rinfo.address,
        port: rinfo.port,
        connected: false,
        queue: [],
        lastActive: 0,
      };
      if (!conn.done) this.sessions.set(key, s);
      this.act(s, action);
      if (s.m.done) return;
    }
    s.lastActive = Date.now();
    s.m.moved(msg.length, 0);
    if (s.connected) s.socket!.send(msg);
    else if (s.queue.length < MAX_QUEUED) s.queue.push(msg);
  }

  private act(s: Session, a: Action): void {
    switch (a.do) {
      case "connect":
        this.open(s, a.backend.host, a.backend.port);
        return;
      case "splice":
        s.connected = true;
        for (const m of s.queue) s.socket!.send(m);
        s.queue = [];
        return;
      case "read":
      case "drop":
        return;
      case "refuse":
        // A datagram has no connection to reset: it is dropped, and counted.
        return;
      case "close":
      case "log":
        this.end(s, a.level, a.line);
        return;
    }
  }

  private open(s: Session, host: string, port: number): void {
    const socket = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    try {
      s.socket?.close(); // a failover within the session: the last attempt's socket
    } catch {}
    s.socket = socket;
    socket.on("message", (reply) => {
      s.lastActive = Date.now();
      s.m.moved(0, reply.length);
      this.socket?.send(reply, s.port, s.address);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // On a connected UDP socket, ECONNREFUSED is the backend's ICMP port unreachable.
      const code = err.code === "ECONNREFUSED" ? "SY_CONNECT_REFUSED" : "SY_CONNECT_FAILED";
      this.act(s, s.m.connectFailed(code, err.code ?? err.message));
    });
    socket.connect(port, host, () => this.act(s, s.m.connected()));
  }

  private end(s: Session, level: Level, line: ConnectionLine): void {
    if (this.sessions.get(s.key) !== s) return;
    this.sessions.delete(s.key);
    try {
      s.socket?.close();
    } catch {}
    logConnection(this.log, level, line);
  }

  private sweep(): void {
    const idle = this.policy.settings.listener.idle_timeout;
    const now = Date.now();
    if (idle > 0)
      for (const s of [...this.sessions.values()])
        if (now - s.lastActive >= idle) this.act(s, s.m.closed(s.m.bytesIn, s.m.bytesOut, "idle-timeout"));
    this.policy.sweep();
  }
}

// A UDP listener: each client address (ip:port) gets a session, a connected socket to one backend picked by
// the service's balancer (the client IP is the key, so hash balancers keep a client on one backend). Datagrams
// go both ways until the session has been idle for idle_timeout. An ICMP "port unreachable" from a backend
// ends the session and counts as a connect failure (passive health); the client's next datagram picks again.
import dgram from "node:dgram";
import net from "node:net";
import type { ListenerSettings } from "./listener-common.ts";
import type { Logger } from "./log.ts";
import type { ServicePool } from "./pool.ts";
import type { CloseReason } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

/** Datagrams held per session while its backend socket connects. */
const MAX_QUEUED = 64;

interface Session {
  key: string;
  address: string;
  port: number;
  pool: ServicePool;
  index: number;
  socket: dgram.Socket;
  connected: boolean;
  queue: Buffer[];
  lastActive: number;
  started: number;
  bytesIn: number;
  bytesOut: number;
  /** Backends that failed for this client (ICMP unreachable), skipped when it picks again. */
  tried: Set<number>;
}

export class UdpListener {
  readonly transport = "udp";
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  private settings: ListenerSettings;
  private socket?: dgram.Socket;
  private readonly log: Logger;
  private readonly sessions = new Map<string, Session>();
  /** Failed backends per client address, remembered briefly so the next pick avoids them. */
  private readonly failed = new Map<string, { tried: Set<number>; until: number }>();
  private sweeper?: NodeJS.Timeout;

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.settings = settings;
    this.stats = stats;
    this.log = log;
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
    return this.settings;
  }

  update(settings: ListenerSettings): void {
    this.settings = settings;
  }

  /** UDP has no connection to drain: stop receiving and end every session now. */
  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.abortAll("shutdown");
    try {
      this.socket?.close();
    } catch {}
    return Promise.resolve();
  }

  abortAll(reason: CloseReason = "shutdown"): void {
    for (const s of [...this.sessions.values()]) this.end(s, reason);
  }

  private onClientDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.sessions.get(key);
    if (!s) {
      const created = this.open(rinfo);
      if (!created) return;
      s = created;
    }
    s.lastActive = Date.now();
    s.bytesIn += msg.length;
    this.stats.bytesIn += msg.length;
    s.pool.backends[s.index]!.state.bytesIn += msg.length;
    if (s.connected) s.socket.send(msg);
    else if (s.queue.length < MAX_QUEUED) s.queue.push(msg);
  }

  private open(rinfo: dgram.RemoteInfo): Session | undefined {
    const st = this.settings;
    const l = st.listener;
    const ip = rinfo.address;
    if (st.deny?.hasText(ip) || (st.allow && !st.allow.hasText(ip))) {
      this.stats.refused.denied++;
      return undefined;
    }
    if (this.sessions.size >= l.max_connections) {
      this.stats.refused.max_connections++;
      return undefined;
    }
    const now = Date.now();
    const memo = this.failed.get(ip);
    const tried = memo && memo.until > now ? memo.tried : new Set<number>();
    const pool = st.pool;
    const index = pool.pick(ip, tried, now);
    if (index === undefined) {
      this.stats.refused.no_backend++;
      return undefined;
    }
    const b = pool.backends[index]!.state;
    const socket = dgram.createSocket(net.isIPv6(b.host) ? "udp6" : "udp4");
    const s: Session = {
      key: `${rinfo.address}|${rinfo.port}`,
      address: rinfo.address,
      port: rinfo.port,
      pool,
      index,
      socket,
      connected: false,
      queue: [],
      lastActive: now,
      started: now,
      bytesIn: 0,
      bytesOut: 0,
      tried,
    };
    this.sessions.set(s.key, s);
    pool.started(index);
    this.stats.active++;
    this.stats.total++;
    socket.on("message", (reply) => {
      s.lastActive = Date.now();
      s.bytesOut += reply.length;
      this.stats.bytesOut += reply.length;
      b.bytesOut += reply.length;
      this.socket?.send(reply, s.port, s.address);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // On a connected UDP socket, ECONNREFUSED is the backend's ICMP port unreachable.
      const failure = err.code === "ECONNREFUSED" ? "refused" : "failed";
      if (pool.connectResult(index, failure, Date.now())) {
        this.log.warn(
          { service: pool.name, backend: b.address, for_ms: (pool.service.passive || undefined)?.eject },
          "backend ejected",
        );
      }
      tried.add(index);
      this.failed.set(ip, { tried, until: Date.now() + 10_000 });
      this.end(s, "backend-reset", err.code ?? err.message);
    });
    socket.connect(b.port, b.host, () => {
      s.connected = true;
      pool.connectResult(index, undefined, Date.now());
      for (const m of s.queue) socket.send(m);
      s.queue = [];
    });
    return s;
  }

  private end(s: Session, reason: CloseReason, error?: string): void {
    if (this.sessions.get(s.key) !== s) return;
    this.sessions.delete(s.key);
    this.stats.active--;
    if (reason === "idle-timeout") this.stats.idleTimeouts++;
    s.pool.ended(s.index);
    try {
      s.socket.close();
    } catch {}
    this.log.info(
      {
        listener: this.name,
        client: `${s.address}:${s.port}`,
        protocol: "udp",
        service: s.pool.name,
        backend: s.pool.backends[s.index]!.state.address,
        bytes_in: s.bytesIn,
        bytes_out: s.bytesOut,
        closed_by: reason,
        duration_ms: Date.now() - s.started,
        ...(error ? { error } : {}),
      },
      "connection",
    );
  }

  private sweep(): void {
    const idle = this.settings.listener.idle_timeout;
    const now = Date.now();
    if (idle > 0)
      for (const s of [...this.sessions.values()])
        if (now - s.lastActive >= idle) this.end(s, "idle-timeout");
    for (const [ip, m] of this.failed) if (m.until <= now) this.failed.delete(ip);
  }
}

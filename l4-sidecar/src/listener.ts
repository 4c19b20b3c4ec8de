// A TCP listener on JavaScript streams: connection.ts decides; this adapter carries the bytes. It reads the
// client's prelude when asked (keeping every byte: what follows a PROXY header, and a ClientHello, go to the
// backend first), connects with a deadline, watches the client meanwhile (a reset ends the attempt at once), and
// splices. Settings are swapped on reload; a connection keeps the settings it was accepted with.
//
// This is the data path when the native engine (native-listener.ts) is not built, or when
// SWITCHYARD_L4_DATA_PATH=raw|socket asks for it. Connections are raw streams on Node's TCP handles (io/raw.ts)
// when Node's internals allow it, net.Socket streams otherwise; everything past accept and connect works on the
// Stream interface either way.

import net from "node:net";
import { performance } from "node:perf_hooks";
import { ConnectError, connectBackend } from "./connect.ts";
import { type Action, type Connection, type Level, ListenerPolicy } from "./connection.ts";
import { RawStream, rawTcpAvailable, type TcpHandle } from "./io/raw.ts";
import { SocketStream } from "./io/socket.ts";
import { NO_SINK, type Stream, type StreamSink } from "./io/stream.ts";
import {
  Drain,
  KEEPALIVE_AFTER_MS,
  KEEPALIVE_DEFER_MIN,
  keepAliveSecs,
  type Listener,
  type ListenerSettings,
  logNotices,
  sweepInterval,
} from "./listener-common.ts";
import { type ConnectionLine, type Logger, logConnection } from "./log.ts";
import { type CloseReason, Splice } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

interface Conn {
  m: Connection;
  client: Stream;
  /** Client bytes read before the splice (a prelude, or early bytes during the connect): the backend gets them first. */
  early: Buffer[];
  preludeTimer?: NodeJS.Timeout;
  /** Set while a connect is under way: aborting it gives the attempt up. */
  connecting?: AbortController;
  splice?: Splice;
  /** performance.now() at accept. */
  started: number;
  /** Keep-alive still to be set on the backend socket (its idle time in ms; 0: set, or none wanted). */
  keepAlivePending: number;
}

export class TcpListener implements Listener {
  readonly transport = "tcp";
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  private readonly policy: ListenerPolicy;
  private readonly server: net.Server;
  private readonly log: Logger;
  private readonly conns = new Set<Conn>();
  private readonly drain = new Drain();
  private listenHandle?: ListenHandle;
  /** Accepted connections are raw streams (the accept hook is in place). */
  private raw = false;
  private appliedOptions = "";
  private sweeper?: NodeJS.Timeout;
  private sweepEvery = 0;

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.stats = stats;
    this.log = log;
    this.policy = new ListenerPolicy(settings, stats, logNotices(log));
    // Used only when the accept hook below is not in place: Node's own Socket.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      this.accept(new SocketStream(socket), socket.remoteAddress ?? "", socket.remotePort ?? 0);
    });
  }

  start(host: string, port: number, reusePort = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      // exclusive: in a cluster worker, bind our own SO_REUSEPORT socket instead of asking the primary.
      this.server.listen({ host, port, backlog: 4096, reusePort, exclusive: reusePort }, () => {
        this.server.off("error", reject);
        this.hookAccept();
        this.scheduleSweep();
        this.server.on("error", (err) =>
          this.log.error({ listener: this.name, err: err.message }, "listener error"),
        );
        resolve();
      });
    });
  }

  port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get activeConnections(): number {
    return this.conns.size;
  }

  get current(): ListenerSettings {
    return this.policy.settings;
  }

  /** Which stream implementation carries this listener's connections (shown in /status). */
  get dataPath(): "raw" | "socket" {
    return this.raw ? "raw" : "socket";
  }

  update(settings: ListenerSettings): void {
    this.policy.settings = settings;
    this.applySocketOptions();
    this.scheduleSweep();
  }

  close(): Promise<void> {
    return this.drain.begin(this.conns.size, () => this.server.close()).then(() => this.stopSweep());
  }

  abortAll(reason: CloseReason = "shutdown"): void {
    for (const c of [...this.conns]) {
      if (c.splice) c.splice.abort(reason);
      else {
        c.client.reset();
        this.act(c, c.m.closed(0, 0, "shutdown"));
      }
    }
  }

  /**
   * One timer per listener closes idle connections (instead of a timer per connection, re-armed on every
   * read): it runs every quarter of the shortest timeout, so a connection closes between 1 and 1.25 timeouts
   * after its last byte. Connections keep the timeout they were accepted with across reloads.
   */
  private scheduleSweep(): void {
    const { idle_timeout: idle, tcp_keepalive: keepAlive } = this.policy.settings.listener;
    let every = idle > 0 ? sweepInterval(idle) : 0;
    if (keepAlive >= KEEPALIVE_DEFER_MIN) every = Math.min(every || Infinity, KEEPALIVE_AFTER_MS);
    for (const c of this.conns) {
      const ms = c.m.settings.listener.idle_timeout;
      if (ms > 0) every = Math.min(every || Infinity, sweepInterval(ms));
      // Connections accepted before a reload may still wait for their keep-alive.
      if (c.keepAlivePending > 0) every = Math.min(every || Infinity, KEEPALIVE_AFTER_MS);
    }
    if (every === this.sweepEvery) return;
    this.stopSweep();
    this.sweepEvery = every;
    if (every > 0) this.sweeper = setInterval(() => this.sweep(), every).unref();
  }

  private stopSweep(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.sweepEvery = 0;
  }

  private sweep(): void {
    const now = performance.now();
    for (const c of this.conns) {
      if (c.keepAlivePending > 0 && c.splice && now - c.started >= KEEPALIVE_AFTER_MS) {
        c.splice.backend.setKeepAlive(true, c.keepAlivePending);
        c.keepAlivePending = 0;
      }
      const idleMs = c.m.settings.listener.idle_timeout;
      if (c.splice && idleMs > 0 && now - c.splice.lastActive >= idleMs) c.splice.expire();
    }
  }

  /**
   * Takes over accepting from net.Server (its handle's onconnection), so each connection becomes a raw stream
   * (io/raw.ts) and refused clients cost no net.Socket. Skipped when raw streams are unavailable or Node's
   * listening handle differs; then net.Server's connection event is used.
   */
  private hookAccept(): void {
    if (!rawTcpAvailable()) return;
    const handle = (this.server as unknown as { _handle?: ListenHandle })._handle;
    if (!handle || typeof handle.onconnection !== "function") return;
    this.listenHandle = handle;
    this.raw = true;
    this.applySocketOptions();
    handle.onconnection = (err: number, clientHandle?: TcpHandle) => {
      if (err || !clientHandle) {
        this.log.warn({ listener: this.name, errno: err }, "accept failed");
        return;
      }
      const client = new RawStream(clientHandle);
      const peer = client.peer();
      this.accept(client, peer?.address ?? "", peer?.port ?? 0);
    };
  }

  /**
   * TCP_NODELAY and keep-alive go on the listening socket: Linux copies them to every accepted socket, which
   * saves five setsockopt calls per connection. Re-applied when a reload changes them.
   */
  private applySocketOptions(): void {
    const h = this.listenHandle;
    if (!h) return;
    const l = this.policy.settings.listener;
    const key = `${l.no_delay}/${l.tcp_keepalive}`;
    if (key === this.appliedOptions) return;
    this.appliedOptions = key;
    h.setNoDelay?.(l.no_delay);
    h.setKeepAlive?.(l.tcp_keepalive > 0, keepAliveSecs(l.tcp_keepalive));
  }

  private accept(client: Stream, ip: string, port: number): void {
    const { conn, action } = this.policy.accepted({ address: ip, port }, () => client.local());
    const l = conn.settings.listener;
    const c: Conn = {
      m: conn,
      client,
      early: [],
      started: performance.now(),
      keepAlivePending: l.tcp_keepalive >= KEEPALIVE_DEFER_MIN ? l.tcp_keepalive : 0,
    };
    if (!conn.done) this.conns.add(c);
    this.act(c, action);
  }

  // ---- the machine's actions ----------------------------------------------------------------------------------

  private act(c: Conn, a: Action): void {
    switch (a.do) {
      case "read":
        if (!c.preludeTimer) {
          c.preludeTimer = setTimeout(
            () => this.act(c, c.m.preludeTimedOut()),
            Math.max(0, a.deadline - performance.now()),
          );
          c.client.sink = this.preludeSink(c);
          c.client.startReading();
        }
        return;
      case "connect":
        this.endPrelude(c, a.consume);
        void this.connect(c, a);
        return;
      case "splice":
        this.splice(c);
        return;
      case "drop":
        return;
      case "refuse":
        c.client.reset();
        this.end(c, "warn", a.line);
        return;
      case "close":
        c.client.close();
        this.end(c, a.level, a.line);
        return;
      case "log":
        this.end(c, a.level, a.line);
        return;
    }
  }

  /** Collects the client's bytes and shows the machine all of them each time more arrive. */
  private preludeSink(c: Conn): StreamSink {
    const look = (ended: boolean) => {
      if (c.early.length > 1) c.early = [Buffer.concat(c.early)];
      this.act(c, c.m.prelude(c.early[0] ?? Buffer.alloc(0), ended));
    };
    return {
      onRead(_s, n, buf) {
        // The stream reuses its buffer for the next read: keep a copy.
        c.early.push(Buffer.from(buf.subarray(0, n)));
        look(false);
      },
      onEnd: () => look(true), // a FIN before the prelude is complete
      onError: () => look(true),
      onWritten() {},
    };
  }

  /** The prelude is over: what it was (a PROXY header) is dropped, the rest is kept for the backend. */
  private endPrelude(c: Conn, consume: number): void {
    if (!c.preludeTimer) return;
    clearTimeout(c.preludeTimer);
    c.client.stopReading();
    c.client.sink = NO_SINK;
    if (consume > 0 && c.early[0]) c.early = [c.early[0].subarray(consume)];
  }

  /** Connects to the chosen backend, and the next ones the machine names on failure, while watching the client. */
  private async connect(c: Conn, first: Action & { do: "connect" }): Promise<void> {
    const l = c.m.settings.listener;
    this.watchClient(c);
    let a: Action = first;
    let prefix: Buffer | undefined;
    while (a.do === "connect") {
      const b = a.backend;
      prefix = a.prefix;
      const attempt = new AbortController();
      c.connecting = attempt;
      try {
        const backend = await connectBackend({
          host: b.host,
          port: b.port,
          family: b.family,
          timeoutMs: Math.max(1, a.deadline - performance.now()),
          noDelay: l.no_delay,
          keepAliveMs: c.keepAlivePending > 0 ? 0 : l.tcp_keepalive,
          raw: this.raw,
          signal: attempt.signal,
        });
        c.connecting = undefined;
        if (c.m.done) {
          backend.close();
          return;
        }
        if (prefix) backend.write(prefix);
        c.splice = new Splice(c.client, backend, [this.stats, b], (s) =>
          this.act(c, c.m.closed(s.bytesIn, s.bytesOut, s.closedBy ?? "client", s.error)),
        );
        a = c.m.connected();
      } catch (err) {
        c.connecting = undefined;
        if (c.m.done) return;
        a = c.m.connectFailed(err instanceof ConnectError ? err.code : "SY_CONNECT_FAILED");
      }
    }
    this.act(c, a);
  }

  /**
   * While its backend connects, the client is read: a reset ends the attempt at once (and frees its slot); early
   * bytes are kept for the backend (one read, then reading pauses until the splice); a FIN is left for the splice.
   */
  private watchClient(c: Conn): void {
    const client = c.client;
    if (client.readEnded || client.closed) return;
    client.sink = {
      onRead: (_s, n, buf) => {
        c.early.push(Buffer.from(buf.subarray(0, n)));
        client.stopReading();
      },
      onEnd() {},
      onError: (_s, code) => {
        client.close();
        c.connecting?.abort();
        this.act(c, c.m.closed(0, 0, "client-reset", code));
      },
      onWritten() {},
    };
    client.startReading();
  }

  private splice(c: Conn): void {
    const { client, splice } = c;
    if (!splice) return;
    client.stopReading();
    const l = c.m.settings.listener;
    // Accepted through the hook, the client socket inherited these from the listening socket.
    if (!this.raw || this.appliedOptions !== `${l.no_delay}/${l.tcp_keepalive}`) {
      client.setNoDelay(l.no_delay);
      if (l.tcp_keepalive > 0) client.setKeepAlive(true, l.tcp_keepalive);
    }
    for (const chunk of c.early) {
      if (chunk.length === 0) continue;
      splice.backend.write(chunk);
      splice.countPrelude(chunk.length);
    }
    c.early = [];
    splice.start();
  }

  private end(c: Conn, level: Level, line: ConnectionLine): void {
    clearTimeout(c.preludeTimer);
    this.conns.delete(c);
    logConnection(this.log, level, line);
    this.drain.ended(this.conns.size);
  }
}

/** The parts of Node's listening TCP handle that the accept hook uses. */
interface ListenHandle {
  onconnection?: unknown;
  setNoDelay?(enable: boolean): number;
  setKeepAlive?(enable: boolean, delaySeconds: number): number;
}

// One TCP listener: accept → admit (max connections, allow/deny) → select a backend → connect with a timeout,
// failing over → splice → log. Settings are swapped on reload; a connection keeps the settings it was accepted
// with (it drains on them), while new connections use the new ones at once.
//
// This is the JavaScript data path, used when the native engine (native-listener.ts) is not built, or when
// SWITCHYARD_L4_DATA_PATH=raw|socket asks for it. Connections are raw streams on Node's TCP handles (io/raw.ts) when Node's internals allow it,
// net.Socket streams otherwise; everything past accept and connect works on the Stream interface either way.
import net from "node:net";
import { ConnectError, connectBackend } from "./connect.ts";
import { RawStream, rawTcpAvailable, type TcpHandle } from "./io/raw.ts";
import { SocketStream } from "./io/socket.ts";
import type { Stream } from "./io/stream.ts";
import {
  allowed,
  KEEPALIVE_AFTER_MS,
  KEEPALIVE_DEFER_MIN,
  keepAliveSecs,
  type ListenerSettings,
  recordConnectFailure,
  sweepInterval,
} from "./listener-common.ts";
import { type ConnectionLine, type Logger, logConnection } from "./log.ts";
import { preludeCloseReason, readPrelude } from "./prelude.ts";
import { PROXY_HEADER_MAX, parseProxyHeader, proxyHeader } from "./proxy-protocol.ts";
import { MAX_HELLO_BYTES, parseClientHello } from "./sni.ts";
import { type CloseReason, Splice } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

interface Conn {
  client: Stream;
  splice?: Splice;
  /** The idle timeout it was accepted with (0: none). */
  idleMs: number;
  /** performance.now() at accept. */
  started: number;
  /** Keep-alive still to be set on the backend socket (its idle time in ms; 0: set, or none wanted). */
  keepAlivePending: number;
}

export class TcpListener {
  readonly transport = "tcp";
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  private settings: ListenerSettings;
  private readonly server: net.Server;
  private readonly log: Logger;
  private readonly conns = new Set<Conn>();
  private closing = false;
  private listenHandle?: ListenHandle;
  /** Accepted connections are raw streams (the accept hook is in place). */
  private raw = false;
  private appliedOptions = "";
  private drained?: () => void;
  private sweeper?: NodeJS.Timeout;
  private sweepEvery = 0;

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.settings = settings;
    this.stats = stats;
    this.log = log;
    // Used only when the accept hook below is not in place: Node's own Socket.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      this.accept(new SocketStream(socket), socket.remoteAddress ?? "", socket.remotePort ?? 0);
    });
  }

  /** Binds the address; rejects with the OS error (e.g. EADDRINUSE) when it cannot. */
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

  /** The bound port (useful when the config asks for port 0). */
  port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get activeConnections(): number {
    return this.conns.size;
  }

  get current(): ListenerSettings {
    return this.settings;
  }

  /** Which stream implementation carries this listener's connections (shown in /status). */
  get dataPath(): "raw" | "socket" {
    return this.raw ? "raw" : "socket";
  }

  update(settings: ListenerSettings): void {
    this.settings = settings;
    this.applySocketOptions();
    this.scheduleSweep();
  }

  /** Stops accepting; resolves once every connection has ended. */
  close(): Promise<void> {
    this.closing = true;
    this.server.close();
    if (this.conns.size === 0) {
      this.stopSweep();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.drained = () => {
        this.stopSweep();
        resolve();
      };
    });
  }

  /** Resets every open connection (drain deadline passed). */
  abortAll(reason: CloseReason = "shutdown"): void {
    for (const c of this.conns) {
      if (c.splice) c.splice.abort(reason);
      else c.client.reset();
    }
  }

  /**
   * One timer per listener closes idle connections (instead of a timer per connection, re-armed on every
   * read): it runs every quarter of the shortest timeout, so a connection closes between 1 and 1.25 timeouts
   * after its last byte. Connections keep the timeout they were accepted with across reloads.
   */
  private scheduleSweep(): void {
    const { idle_timeout: idle, tcp_keepalive: keepAlive } = this.settings.listener;
    let every = idle > 0 ? sweepInterval(idle) : 0;
    if (keepAlive >= KEEPALIVE_DEFER_MIN) every = Math.min(every || Infinity, KEEPALIVE_AFTER_MS);
    for (const c of this.conns) {
      if (c.idleMs > 0) every = Math.min(every || Infinity, sweepInterval(c.idleMs));
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
      if (c.splice && c.idleMs > 0 && now - c.splice.lastActive >= c.idleMs) {
        this.stats.idleTimeouts++;
        c.splice.expire();
      }
    }
  }

  private refuse(client: Stream, reason: "max_connections" | "denied", entry: ConnectionLine): void {
    this.stats.refused[reason]++;
    // A reset tells the client at once that it was refused; a FIN would look like an empty, successful session.
    client.reset();
    logConnection(this.log, "warn", { ...entry, closed_by: reason, duration_ms: 0 });
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
    const l = this.settings.listener;
    const key = `${l.no_delay}/${l.tcp_keepalive}`;
    if (key === this.appliedOptions) return;
    this.appliedOptions = key;
    h.setNoDelay?.(l.no_delay);
    h.setKeepAlive?.(l.tcp_keepalive > 0, keepAliveSecs(l.tcp_keepalive));
  }

  /** Allow/deny and max_connections; refuses (and logs) the connection when it may not proceed. */
  private accept(client: Stream, ip: string, port: number): void {
    const s = this.settings;
    let reason: "denied" | "max_connections" | undefined;
    // Behind a load balancer that sends PROXY headers, allow/deny apply to the client it names (read later).
    if (!s.listener.accept_proxy_protocol && !allowed(s, ip)) reason = "denied";
    else if (this.conns.size >= s.listener.max_connections) reason = "max_connections";
    if (reason) this.refuse(client, reason, { listener: this.name, client: `${ip}:${port}` });
    else void this.handle(client, ip, port);
  }

  private async handle(client: Stream, peerIp: string, peerPort: number) {
    let ip = peerIp;
    let port = peerPort;
    const s = this.settings;
    const l = s.listener;
    const entry: ConnectionLine = { listener: this.name, client: `${ip}:${port}` };
    const started = performance.now();
    const deferKeepAlive = l.tcp_keepalive >= KEEPALIVE_DEFER_MIN;
    const conn: Conn = {
      client,
      idleMs: l.idle_timeout,
      started,
      keepAlivePending: deferKeepAlive ? l.tcp_keepalive : 0,
    };
    this.conns.add(conn);
    this.stats.active++;
    this.stats.total++;
    const closeEarly = (closedBy: string, detail?: string) => {
      client.close();
      entry.closed_by = closedBy;
      if (detail) entry.error = detail;
      entry.duration_ms = Math.round(performance.now() - started);
      logConnection(this.log, "warn", entry);
    };
    try {
      let { pool } = s;
      // Bytes already read from the client (a PROXY header's tail, a ClientHello): the backend gets them first.
      let prelude: Buffer | undefined;
      if (l.accept_proxy_protocol) {
        const r = await readPrelude(client, undefined, parseProxyHeader, PROXY_HEADER_MAX);
        if (!r.ok) return closeEarly(preludeCloseReason("proxy", r.reason), r.detail);
        if (r.value.source) {
          ip = r.value.source.address;
          port = r.value.source.port;
          entry.client = `${ip}:${port}`;
          entry.via = `${peerIp}:${peerPort}`;
        }
        prelude = r.data.subarray(r.value.length);
        if (!allowed(this.settings, ip)) {
          this.stats.refused.denied++;
          client.reset();
          entry.closed_by = "denied";
          logConnection(this.log, "warn", entry);
          return;
        }
      }
      if (l.protocol === "tls") {
        const hello = await readPrelude(client, prelude, parseClientHello, MAX_HELLO_BYTES);
        if (!hello.ok) return closeEarly(preludeCloseReason("hello", hello.reason), hello.detail);
        if (hello.value.serverName !== undefined) entry.sni = hello.value.serverName;
        pool = s.sni?.match(hello.value.serverName) ?? pool;
        prelude = hello.data;
      }
      entry.service = pool.name;
      const tried = new Set<number>();
      const maxAttempts = Math.min(l.connect_attempts, pool.backends.length);
      let backend: Stream | undefined;
      let chosen = -1;
      const failures: string[] = [];
      while (tried.size < maxAttempts && !client.closed) {
        const i = pool.pick(ip, tried, Date.now());
        if (i === undefined) break;
        tried.add(i);
        const b = pool.backends[i]!.state;
        pool.started(i);
        try {
          backend = await connectBackend({
            host: b.host,
            port: b.port,
            family: b.family,
            timeoutMs: l.connect_timeout,
            noDelay: l.no_delay,
            keepAliveMs: deferKeepAlive ? 0 : l.tcp_keepalive,
            raw: this.raw,
          });
          pool.connectResult(i, undefined, Date.now());
          chosen = i;
          break;
        } catch (err) {
          const code = err instanceof ConnectError ? err.code : "SY_CONNECT_FAILED";
          failures.push(recordConnectFailure(this.log, this.name, pool, i, code));
        }
      }
      entry.attempts = tried.size;
      if (failures.length) entry.connect_failures = failures;
      if (!backend || client.closed) {
        backend?.close();
        if (chosen >= 0) pool.ended(chosen);
        // Nothing can serve this client: close it at once rather than leave it hanging.
        const aborted = client.closed;
        client.close();
        if (!aborted) this.stats.refused.no_backend++;
        entry.closed_by = aborted ? "shutdown" : "no-backend";
        entry.duration_ms = Math.round(performance.now() - started);
        logConnection(this.log, "warn", entry);
        return;
      }
      const state = pool.backends[chosen]!.state;
      entry.backend = state.address;
      if (l.proxy_protocol) {
        const local = client.local();
        if (local)
          backend.write(
            proxyHeader(l.proxy_protocol, {
              srcAddress: ip,
              srcPort: port,
              dstAddress: local.address,
              dstPort: local.port,
            }),
          );
      }
      // Accepted through the hook, the client socket inherited these from the listening socket.
      if (!this.raw || this.appliedOptions !== `${l.no_delay}/${l.tcp_keepalive}`) {
        client.setNoDelay(l.no_delay);
        if (l.tcp_keepalive > 0) client.setKeepAlive(true, l.tcp_keepalive);
      }
      const result = await new Promise<Splice>((resolve) => {
        const splice = new Splice(client, backend, [this.stats, state], resolve);
        conn.splice = splice;
        // A tls listener already read the ClientHello: it goes to the backend first (after any PROXY header).
        if (prelude?.length) {
          backend.write(prelude);
          splice.countPrelude(prelude.length);
        }
        splice.start();
      });
      pool.ended(chosen);
      entry.bytes_in = result.bytesIn;
      entry.bytes_out = result.bytesOut;
      entry.closed_by = result.closedBy ?? "client";
      if (result.error) entry.error = result.error;
      entry.duration_ms = Math.round(performance.now() - started);
      logConnection(this.log, "info", entry);
    } finally {
      this.conns.delete(conn);
      this.stats.active--;
      if (this.closing && this.conns.size === 0) this.drained?.();
    }
  }
}

/** The parts of Node's listening TCP handle that the accept hook uses. */
interface ListenHandle {
  onconnection?: unknown;
  setNoDelay?(enable: boolean): number;
  setKeepAlive?(enable: boolean, delaySeconds: number): number;
}

// One TCP listener: accept → admit (max connections, allow/deny) → select a backend → connect with a timeout,
// failing over → splice → log. Settings are swapped on reload; a connection keeps the settings it was accepted
// with (it drains on them), while new connections use the new ones at once.
import net from "node:net";
import type { Listener } from "../../core/config/index.ts";
import type { IpSet } from "../../core/rules/ip.ts";
import { ConnectError, connectBackend } from "./connect.ts";
import { Forwarder } from "./forward.ts";
import type { Logger } from "./log.ts";
import { type CloseReason, type Pipe, splice } from "./pipe.ts";
import type { ConnectFailure, ServicePool } from "./pool.ts";
import { readPrelude } from "./prelude.ts";
import { parseProxyHeader, proxyHeader } from "./proxy-protocol.ts";
import { MAX_HELLO_BYTES, parseClientHello, type SniTable } from "./sni.ts";
import type { ListenerStats } from "./stats.ts";

export interface ListenerSettings {
  listener: Listener;
  pool: ServicePool;
  /** tls listeners: server name → pool (the `sni` table); `pool` when nothing matches. */
  sni?: SniTable<ServicePool>;
  allow?: IpSet;
  deny?: IpSet;
}

interface Conn {
  pipe?: Pipe;
  client: net.Socket;
}

const FAILURE: Record<string, ConnectFailure> = {
  SY_CONNECT_REFUSED: "refused",
  SY_CONNECT_TIMEOUT: "timeout",
  SY_CONNECT_FAILED: "failed",
};

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
  private appliedOptions = "";
  private drained?: () => void;

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.settings = settings;
    this.stats = stats;
    this.log = log;
    // Used only when the accept hook below is unavailable: Node's own Socket, reading into Node's buffers.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      const ip = socket.remoteAddress ?? "";
      if (this.admit(socket, ip, socket.remotePort))
        void this.handle(socket, new Forwarder(true), false, ip, socket.remotePort);
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

  update(settings: ListenerSettings): void {
    this.settings = settings;
    this.applySocketOptions();
  }

  /** Stops accepting; resolves once every connection has ended. */
  close(): Promise<void> {
    this.closing = true;
    this.server.close();
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  /** Resets every open connection (drain deadline passed). */
  abortAll(reason: CloseReason = "shutdown"): void {
    for (const c of this.conns) {
      if (c.pipe) c.pipe.abort(reason);
      else c.client.destroy();
    }
  }

  private refuse(
    client: net.Socket,
    reason: "max_connections" | "denied",
    entry: Record<string, unknown>,
  ): void {
    this.stats.refused[reason]++;
    // A reset tells the client at once that it was refused; a FIN would look like an empty, successful session.
    client.on("error", () => {});
    client.resetAndDestroy();
    this.log.warn({ ...entry, closed_by: reason, duration_ms: 0 }, "connection");
  }

  /**
   * Takes over accepting from net.Server (its handle's onconnection), so each connection gets exactly one
   * Socket, created with `onread` (sidecar-owned read buffers, see forward.ts), and refused clients get none.
   * net.Server cannot pass `onread` to the sockets it creates. Skipped if Node's internals differ, or when
   * SWITCHYARD_L4_PLAIN_READS=1 asks for Node's own path.
   */
  private hookAccept(): void {
    if (process.env.SWITCHYARD_L4_PLAIN_READS === "1") return;
    const handle = (this.server as unknown as { _handle?: ListenHandle })._handle;
    if (!handle || typeof handle.onconnection !== "function") return;
    this.listenHandle = handle;
    this.applySocketOptions();
    handle.onconnection = (err: number, clientHandle?: TcpHandle) => {
      if (err || !clientHandle) {
        this.log.warn({ listener: this.name, errno: err }, "accept failed");
        return;
      }
      const peer: { address?: string; port?: number } = {};
      clientHandle.getpeername(peer);
      const ip = peer.address ?? "";
      if (!this.admit(clientHandle, ip, peer.port)) return;
      const up = new Forwarder(true);
      const client = new net.Socket({
        handle: clientHandle,
        allowHalfOpen: true,
        pauseOnCreate: true,
        onread: up.onread,
      } as net.SocketConstructorOpts);
      void this.handle(client, up, true, ip, peer.port);
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
    h.setKeepAlive?.(l.tcp_keepalive > 0, Math.max(1, Math.floor(l.tcp_keepalive / 1000)));
  }

  private allowed(ip: string): boolean {
    const s = this.settings;
    return !(s.deny?.hasText(ip) || (s.allow && !s.allow.hasText(ip)));
  }

  /** Allow/deny and max_connections; refuses (and logs) the connection when it may not proceed. */
  private admit(socketOrHandle: net.Socket | TcpHandle, ip: string, port: number | undefined): boolean {
    const s = this.settings;
    let reason: "denied" | "max_connections" | undefined;
    // Behind a load balancer that sends PROXY headers, allow/deny apply to the client it names (read later).
    if (!s.listener.accept_proxy_protocol && !this.allowed(ip)) reason = "denied";
    else if (this.conns.size >= s.listener.max_connections) reason = "max_connections";
    if (!reason) return true;
    const socket =
      socketOrHandle instanceof net.Socket
        ? socketOrHandle
        : new net.Socket({ handle: socketOrHandle, pauseOnCreate: true } as net.SocketConstructorOpts);
    this.refuse(socket, reason, { listener: this.name, client: `${ip}:${port}` });
    return false;
  }

  private async handle(
    client: net.Socket,
    up: Forwarder,
    clientOnread: boolean,
    peerIp: string,
    peerPort?: number,
  ) {
    let ip = peerIp;
    let port = peerPort;
    const s = this.settings;
    const l = s.listener;
    const entry: Record<string, unknown> = { listener: this.name, client: `${ip}:${port}` };
    const down = new Forwarder(false);
    down.dst = client;

    const started = performance.now();
    const conn: Conn = { client };
    this.conns.add(conn);
    this.stats.active++;
    this.stats.total++;
    let clientError: string | undefined;
    const onEarlyError = (err: NodeJS.ErrnoException) => {
      clientError = err.code ?? err.message;
    };
    client.on("error", onEarlyError);
    try {
      let { pool } = s;
      // Bytes already read from the client (a PROXY header's tail, a ClientHello): the backend gets them first.
      let prelude: Buffer | undefined;
      const closeEarly = (closedBy: string, detail?: string) => {
        client.destroy();
        entry.closed_by = closedBy;
        if (detail) entry.error = detail;
        entry.duration_ms = Math.round(performance.now() - started);
        this.log.warn(entry, "connection");
      };
      if (l.accept_proxy_protocol) {
        const r = await readPrelude(client, up, clientOnread, undefined, parseProxyHeader, 4096);
        if (!r.ok) return closeEarly(r.reason === "invalid" ? "bad-proxy-header" : r.reason, r.detail);
        if (r.value.source) {
          ip = r.value.source.address;
          port = r.value.source.port;
          entry.client = `${ip}:${port}`;
          entry.via = `${peerIp}:${peerPort}`;
        }
        prelude = r.data.subarray(r.value.length);
        if (!this.allowed(ip)) {
          this.stats.refused.denied++;
          client.resetAndDestroy();
          entry.closed_by = "denied";
          this.log.warn(entry, "connection");
          return;
        }
      }
      if (l.protocol === "tls") {
        const hello = await readPrelude(client, up, clientOnread, prelude, parseClientHello, MAX_HELLO_BYTES);
        if (!hello.ok)
          return closeEarly(hello.reason === "invalid" ? "not-tls" : `hello-${hello.reason}`, hello.detail);
        if (hello.value.serverName !== undefined) entry.sni = hello.value.serverName;
        pool = s.sni?.match(hello.value.serverName) ?? pool;
        prelude = hello.data;
      }
      entry.service = pool.name;
      const tried = new Set<number>();
      const maxAttempts = Math.min(l.connect_attempts, pool.backends.length);
      let backend: net.Socket | undefined;
      let chosen = -1;
      const failures: string[] = [];
      while (tried.size < maxAttempts && !client.destroyed) {
        const i = pool.pick(ip, tried, Date.now());
        if (i === undefined) break;
        tried.add(i);
        const b = pool.backends[i]!.state;
        pool.started(i);
        try {
          backend = await connectBackend({
            host: b.host,
            port: b.port,
            timeoutMs: l.connect_timeout,
            noDelay: l.no_delay,
            keepAliveMs: l.tcp_keepalive,
            onread: down.onread,
          });
          pool.connectResult(i, undefined, Date.now());
          chosen = i;
          break;
        } catch (err) {
          pool.ended(i);
          const code = err instanceof ConnectError ? err.code : "SY_CONNECT_FAILED";
          failures.push(`${b.address} ${code}`);
          if (pool.connectResult(i, FAILURE[code] ?? "failed", Date.now())) {
            this.log.warn(
              { service: pool.name, backend: b.address, for_ms: pool.service.passive?.eject },
              "backend ejected",
            );
          }
          this.log.debug(
            { listener: this.name, backend: b.address, code },
            "connect failed, trying the next backend",
          );
        }
      }
      entry.attempts = tried.size;
      if (failures.length) entry.connect_failures = failures;
      if (!backend || client.destroyed) {
        backend?.destroy();
        if (chosen >= 0) pool.ended(chosen);
        // Nothing can serve this client: close it at once rather than leave it hanging.
        client.destroy();
        if (!clientError) this.stats.refused.no_backend++;
        entry.closed_by = clientError ? "client-reset" : "no-backend";
        entry.duration_ms = Math.round(performance.now() - started);
        this.log.warn(entry, "connection");
        return;
      }
      const state = pool.backends[chosen]!.state;
      entry.backend = state.address;
      if (l.proxy_protocol && client.localAddress) {
        backend.write(
          proxyHeader(l.proxy_protocol, {
            srcAddress: ip,
            srcPort: port ?? 0,
            dstAddress: client.localAddress,
            dstPort: client.localPort!,
          }),
        );
      }
      client.off("error", onEarlyError);
      // Accepted through the hook, the client socket inherited these from the listening socket.
      if (!clientOnread || this.appliedOptions !== `${l.no_delay}/${l.tcp_keepalive}`) {
        client.setNoDelay(l.no_delay);
        if (l.tcp_keepalive > 0) client.setKeepAlive(true, l.tcp_keepalive);
      }
      // A tls listener already read the ClientHello: it goes to the backend first (after any PROXY header).
      if (prelude?.length) {
        backend.write(prelude);
        up.bytes += prelude.length;
        this.stats.bytesIn += prelude.length;
        state.bytesIn += prelude.length;
      }
      up.src = client;
      up.dst = backend;
      down.src = backend;
      up.counters = down.counters = [this.stats, state];
      conn.pipe = splice(client, backend, up, down, {
        idleTimeoutMs: l.idle_timeout,
        clientOnread,
      });
      const result = await conn.pipe.done;
      pool.ended(chosen);
      if (result.closedBy === "idle-timeout") this.stats.idleTimeouts++;
      entry.bytes_in = result.bytesIn;
      entry.bytes_out = result.bytesOut;
      entry.closed_by = result.closedBy;
      if (result.error) entry.error = result.error;
      entry.duration_ms = Math.round(performance.now() - started);
      this.log.info(entry, "connection");
    } finally {
      this.conns.delete(conn);
      this.stats.active--;
      if (this.closing && this.conns.size === 0) this.drained?.();
    }
  }
}

/** The parts of Node's TCP handles that the accept hook uses. */
interface TcpHandle {
  getpeername(out: { address?: string; port?: number }): number;
}
interface ListenHandle {
  onconnection?: unknown;
  setNoDelay?(enable: boolean): number;
  setKeepAlive?(enable: boolean, delaySeconds: number): number;
}

// A TCP listener on the native engine (io/native.ts, l4-sidecar/native/): the engine accepts, connects and
// moves the bytes; this class makes every decision and keeps the books. Per connection it runs three times:
//   accept      → allow/deny, max_connections, [prelude], pick a backend, engine.connect (or refuse)
//   connected   → passive health learns of the success   | connectFail → record it, pick the next backend
//   close       → bytes, who closed, duration: stats and the connection's log line
// The prelude, for listeners that must read the client's first bytes before choosing: a PROXY header (parsed,
// then consumed) and/or a TLS ClientHello (its server name picks the service; the bytes stay queued for the
// backend). It is read with engine.peek(), again each time more bytes arrive, within PRELUDE_TIMEOUT_MS.
// Settings are swapped on reload; a connection keeps the settings it was accepted with.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { ConnectError, type ConnectErrorCode, withDeadline } from "./connect.ts";
import {
  disownListener,
  errnoName,
  NATIVE_CLOSED_BY,
  type NativeEngine,
  type NativeOwner,
  nativeEngine,
  ownListener,
} from "./io/native.ts";
import {
  allowed,
  connectErrorCode,
  KEEPALIVE_DEFER_MIN,
  keepAliveSecs,
  type ListenerSettings,
  recordConnectFailure,
  sweepInterval,
} from "./listener-common.ts";
import { type ConnectionLine, type Logger, logConnection } from "./log.ts";
import type { ServicePool } from "./pool.ts";
import {
  PRELUDE_TIMEOUT_MS,
  type PreludeKind,
  type PreludeStep,
  preludeCloseReason,
  preludeStep,
} from "./prelude.ts";
import { PROXY_HEADER_MAX, parseProxyHeader, proxyHeader } from "./proxy-protocol.ts";
import { MAX_HELLO_BYTES, parseClientHello } from "./sni.ts";
import type { CloseReason } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

interface Conn {
  entry: ConnectionLine;
  /** performance.now() at accept. */
  started: number;
  ip: string;
  port: number;
  settings: ListenerSettings;
  /** What is still to be read before a backend is chosen. */
  prelude?: PreludeKind;
  preludeTimer?: NodeJS.Timeout;
  pool: ServicePool;
  tried: Set<number>;
  failures?: string[];
  /** The backend being connected to or connected (-1: none), counted in its `active`. */
  chosen: number;
  connected: boolean;
  /** Addresses of the chosen backend still to try (a name that resolved to several), and its deadline. */
  addresses?: string[];
  deadline: number;
  prefix?: Buffer;
  bytesIn: number;
  bytesOut: number;
  idleMs: number;
}

export class NativeTcpListener implements NativeOwner {
  readonly transport = "tcp";
  readonly dataPath = "native";
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  private settings: ListenerSettings;
  private readonly log: Logger;
  private readonly engine: NativeEngine;
  private readonly conns = new Map<number, Conn>();
  private lid = -1;
  private closing = false;
  private drained?: () => void;
  private sweeper?: NodeJS.Timeout;
  private sweepEvery = 0;
  private appliedOptions = "";

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    const engine = nativeEngine();
    if (!engine) throw new Error("the native data path is not available");
    this.engine = engine;
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.settings = settings;
    this.stats = stats;
    this.log = log;
  }

  /** Binds the address; rejects with the OS error (code EADDRINUSE, …) when it cannot. */
  async start(host: string, port: number, reusePort = false): Promise<void> {
    // A name binds its first address, as net.Server.listen does.
    const ip = isIP(host) ? host : (await lookup(host)).address;
    try {
      this.lid = this.engine.listen(ip, port, reusePort, 4096);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "EIO";
      throw Object.assign(new Error(`listen ${code}: ${(e as Error).message} ${host}:${port}`), { code });
    }
    ownListener(this.lid, this);
    this.applySocketOptions();
    this.scheduleSweep();
  }

  port(): number {
    return this.engine.localPort(this.lid);
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
    this.scheduleSweep();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.engine.unlisten(this.lid);
    }
    if (this.conns.size === 0) {
      this.finishClose();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.drained = () => {
        this.finishClose();
        resolve();
      };
    });
  }

  abortAll(_reason: CloseReason = "shutdown"): void {
    // Only while it has connections: once it has none, its listener id may already serve another listener.
    if (this.conns.size > 0) this.engine.abort(this.lid);
  }

  private finishClose(): void {
    this.stopSweep();
    disownListener(this.lid, this);
  }

  /** NODELAY and keep-alive on the listening socket: accepted sockets inherit them (no syscalls per connection). */
  private applySocketOptions(): void {
    const l = this.settings.listener;
    const key = `${l.no_delay}/${l.tcp_keepalive}`;
    if (key === this.appliedOptions || this.closing) return;
    this.appliedOptions = key;
    this.engine.listenOptions(this.lid, l.no_delay, l.tcp_keepalive > 0 ? keepAliveSecs(l.tcp_keepalive) : 0);
  }

  // ---- the engine's calls -----------------------------------------------------------------------------------

  onAccept(cid: number, ip: string, port: number): void {
    const s = this.settings;
    const l = s.listener;
    const entry: ConnectionLine = { listener: this.name, client: `${ip}:${port}` };
    // Behind a load balancer that sends PROXY headers, allow/deny apply to the client it names (read first).
    const reason =
      !l.accept_proxy_protocol && !allowed(s, ip)
        ? "denied"
        : this.conns.size >= l.max_connections
          ? "max_connections"
          : undefined;
    if (reason) {
      this.stats.refused[reason]++;
      // A reset tells the client at once that it was refused; a FIN would look like an empty, successful session.
      this.engine.refuse(cid);
      logConnection(this.log, "warn", { ...entry, closed_by: reason, duration_ms: 0 });
      return;
    }
    const c: Conn = {
      entry,
      started: performance.now(),
      ip,
      port,
      settings: s,
      pool: s.pool,
      tried: new Set(),
      chosen: -1,
      connected: false,
      deadline: 0,
      bytesIn: 0,
      bytesOut: 0,
      idleMs: l.idle_timeout,
    };
    this.conns.set(cid, c);
    this.stats.active++;
    this.stats.total++;
    c.prelude = l.accept_proxy_protocol ? "proxy" : l.protocol === "tls" ? "hello" : undefined;
    if (c.prelude) {
      c.preludeTimer = setTimeout(() => this.preludeTimedOut(cid, c), PRELUDE_TIMEOUT_MS);
      this.onPrelude(cid);
    } else this.choose(cid, c);
  }

  onPrelude(cid: number): void {
    const c = this.conns.get(cid);
    const kind = c?.prelude;
    if (!c || !kind) return;
    const max = kind === "proxy" ? PROXY_HEADER_MAX : MAX_HELLO_BYTES;
    const peeked = this.engine.peek(cid, max + 1);
    if (!peeked) return;
    const [data, ended] = peeked;
    if (kind === "proxy") {
      const header = preludeStep(data, parseProxyHeader, max);
      if (!this.preludeDone(cid, c, kind, header, ended)) return;
      const src = header.value.source;
      if (src) {
        c.entry.via = `${c.ip}:${c.port}`;
        c.ip = src.address;
        c.port = src.port;
        c.entry.client = `${c.ip}:${c.port}`;
      }
      if (!allowed(c.settings, c.ip)) {
        this.stats.refused.denied++;
        this.engine.refuse(cid);
        c.entry.closed_by = "denied";
        this.end(cid, c, "warn");
        return;
      }
      this.engine.skip(cid, header.value.length);
      if (c.settings.listener.protocol === "tls") {
        c.prelude = "hello";
        this.onPrelude(cid); // what followed the header may already be the whole ClientHello
        return;
      }
    } else {
      const hello = preludeStep(data, parseClientHello, max);
      if (!this.preludeDone(cid, c, kind, hello, ended)) return;
      if (hello.value.serverName !== undefined) c.entry.sni = hello.value.serverName;
      c.pool = c.settings.sni?.match(hello.value.serverName) ?? c.pool;
    }
    this.endPrelude(c);
    this.choose(cid, c);
  }

  /** True when `step` is done; otherwise waits for more, or closes the client (as the stream path names it). */
  private preludeDone<T>(
    cid: number,
    c: Conn,
    kind: PreludeKind,
    step: PreludeStep<T>,
    ended: boolean,
  ): step is { status: "done"; value: T } {
    if (step.status === "done") return true;
    if (step.status === "invalid") this.closeEarly(cid, c, preludeCloseReason(kind, "invalid"), step.reason);
    else if (ended) this.closeEarly(cid, c, preludeCloseReason(kind, "client-closed"));
    return false;
  }

  /** The prelude is read (or the connection ends): stop watching for it. */
  private endPrelude(c: Conn): void {
    c.prelude = undefined;
    clearTimeout(c.preludeTimer);
  }

  private preludeTimedOut(cid: number, c: Conn): void {
    if (this.conns.get(cid) === c && c.prelude)
      this.closeEarly(cid, c, preludeCloseReason(c.prelude, "timeout"));
  }

  /** The prelude was not what it must be: close the client (FIN) and log why. */
  private closeEarly(cid: number, c: Conn, closedBy: string, detail?: string): void {
    this.endPrelude(c);
    this.engine.endClient(cid);
    c.entry.closed_by = closedBy;
    if (detail) c.entry.error = detail;
    this.end(cid, c, "warn");
  }

  /** The service is known: the PROXY header to send on, then the first backend. */
  private choose(cid: number, c: Conn): void {
    c.entry.service = c.pool.name;
    const l = c.settings.listener;
    if (l.proxy_protocol) {
      const local = this.engine.localAddress(cid);
      if (local)
        c.prefix = proxyHeader(l.proxy_protocol, {
          srcAddress: c.ip,
          srcPort: c.port,
          dstAddress: local[0],
          dstPort: local[1],
        });
    }
    this.connectNext(cid, c);
  }

  onConnected(cid: number): void {
    const c = this.conns.get(cid);
    if (!c) return;
    c.connected = true;
    c.addresses = undefined;
    c.pool.connectResult(c.chosen, undefined, Date.now());
    c.entry.backend = c.pool.backends[c.chosen]!.state.address;
  }

  onConnectFail(cid: number, errno: string): void {
    const c = this.conns.get(cid);
    if (!c) return;
    // More addresses of the same backend (a name), within its deadline: try the next one.
    if (errno !== "ETIMEDOUT" && c.addresses?.length && this.connectAddress(cid, c)) return;
    this.failed(c, connectErrorCode(errno));
    this.connectNext(cid, c);
  }

  onClose(cid: number, bytesIn: number, bytesOut: number, closedBy: number, error: string | undefined): void {
    const c = this.conns.get(cid);
    if (!c) return;
    this.count(c, bytesIn, bytesOut);
    const reason = NATIVE_CLOSED_BY[closedBy] ?? "client";
    if (reason === "idle-timeout") this.stats.idleTimeouts++;
    const e = c.entry;
    if (c.connected) {
      e.bytes_in = c.bytesIn;
      e.bytes_out = c.bytesOut;
    }
    e.closed_by = reason;
    if (error !== undefined) e.error = error;
    this.end(cid, c, c.connected ? "info" : "warn");
  }

  // ---- connecting -------------------------------------------------------------------------------------------

  /** Picks the next backend and starts connecting; closes the client when none is left. */
  private connectNext(cid: number, c: Conn): void {
    const l = c.settings.listener;
    const max = Math.min(l.connect_attempts, c.pool.backends.length);
    while (c.tried.size < max) {
      const i = c.pool.pick(c.ip, c.tried, Date.now());
      if (i === undefined) break;
      c.tried.add(i);
      c.pool.started(i);
      c.chosen = i;
      c.deadline = performance.now() + l.connect_timeout;
      const b = c.pool.backends[i]!.state;
      if (b.family === 0) {
        this.resolve(cid, c, b.host);
        return;
      }
      c.addresses = [b.host];
      if (this.connectAddress(cid, c)) return;
    }
    this.noBackend(cid, c);
  }

  /** A backend given by name: resolved at each connect (as net.connect does), within its connect deadline. */
  private resolve(cid: number, c: Conn, host: string): void {
    const timedOut = () => new ConnectError("SY_CONNECT_TIMEOUT", `resolving ${host} timed out`);
    void withDeadline(lookup(host, { all: true }), c.deadline, timedOut).then(
      (addresses) => {
        if (this.conns.get(cid) !== c) return; // the client went away meanwhile
        c.addresses = addresses.map((a) => a.address);
        if (!this.connectAddress(cid, c)) this.connectNext(cid, c);
      },
      (e: unknown) => {
        if (this.conns.get(cid) !== c) return;
        this.retry(cid, c, e instanceof ConnectError ? e.code : "SY_CONNECT_FAILED");
      },
    );
  }

  private retry(cid: number, c: Conn, code: ConnectErrorCode): void {
    this.failed(c, code);
    this.connectNext(cid, c);
  }

  /**
   * Starts connecting to the next address of the chosen backend. True when an attempt is under way; false
   * when every address failed at once (the failure is recorded).
   */
  private connectAddress(cid: number, c: Conn): boolean {
    const l = c.settings.listener;
    const b = c.pool.backends[c.chosen]!.state;
    let errno = "ENOENT";
    while (c.addresses?.length) {
      const ip = c.addresses.shift()!;
      const left = Math.ceil(c.deadline - performance.now());
      if (left <= 0) {
        errno = "ETIMEDOUT";
        break;
      }
      const keepAlive = l.tcp_keepalive > 0 ? keepAliveSecs(l.tcp_keepalive) : 0;
      const defer = l.tcp_keepalive >= KEEPALIVE_DEFER_MIN;
      const err = this.engine.connect(
        cid,
        ip,
        b.port,
        left,
        l.no_delay,
        c.idleMs,
        defer ? 0 : keepAlive,
        defer ? keepAlive : 0,
        c.prefix,
      );
      if (err === 0) return true;
      errno = errnoName(err);
    }
    this.failed(c, connectErrorCode(errno));
    return false;
  }

  private failed(c: Conn, code: ConnectErrorCode): void {
    const failure = recordConnectFailure(this.log, this.name, c.pool, c.chosen, code);
    c.chosen = -1;
    c.addresses = undefined;
    c.failures ??= [];
    c.failures.push(failure);
  }

  /** Nothing can serve this client: close it at once rather than leave it hanging. */
  private noBackend(cid: number, c: Conn): void {
    this.engine.endClient(cid);
    this.stats.refused.no_backend++;
    c.entry.closed_by = "no-backend";
    this.end(cid, c, "warn");
  }

  private end(cid: number, c: Conn, level: "info" | "warn"): void {
    this.endPrelude(c);
    this.conns.delete(cid);
    this.stats.active--;
    if (c.chosen >= 0) c.pool.ended(c.chosen);
    const e = c.entry;
    e.attempts = c.tried.size;
    if (c.failures) e.connect_failures = c.failures;
    e.duration_ms = Math.round(performance.now() - c.started);
    logConnection(this.log, level, e);
    if (this.closing && this.conns.size === 0) this.drained?.();
  }

  // ---- the sweep: idle timeouts, deferred keep-alive and byte counts (in native/), every second at most ----

  private count(c: Conn, bytesIn: number, bytesOut: number): void {
    if (bytesIn === 0 && bytesOut === 0) return;
    c.bytesIn += bytesIn;
    c.bytesOut += bytesOut;
    this.stats.bytesIn += bytesIn;
    this.stats.bytesOut += bytesOut;
    if (c.chosen >= 0) {
      const b = c.pool.backends[c.chosen]!.state;
      b.bytesIn += bytesIn;
      b.bytesOut += bytesOut;
    }
  }

  private scheduleSweep(): void {
    let every = 1000;
    const idle = this.settings.listener.idle_timeout;
    if (idle > 0) every = sweepInterval(idle);
    for (const c of this.conns.values()) if (c.idleMs > 0) every = Math.min(every, sweepInterval(c.idleMs));
    if (every === this.sweepEvery) return;
    this.stopSweep();
    this.sweepEvery = every;
    this.sweeper = setInterval(() => this.sweep(), every).unref();
  }

  private stopSweep(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.sweepEvery = 0;
  }

  private sweep(): void {
    if (this.conns.size === 0) return;
    const moved = this.engine.sweep(this.lid);
    for (let k = 0; k < moved.length; k += 3) {
      const c = this.conns.get(moved[k]!);
      if (c) this.count(c, moved[k + 1]!, moved[k + 2]!);
    }
  }
}

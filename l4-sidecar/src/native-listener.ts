// A TCP listener on the native engine (io/native.ts, l4-sidecar/native/): the engine accepts, connects and moves
// the bytes; connection.ts decides. This adapter turns the engine's calls into the machine's events and its
// actions into engine calls: accept → accepted, more bytes → prelude (read with engine.peek(), the client's bytes
// stay queued for the backend), connected / connect failed, close → closed. A backend given by name is resolved
// here, its addresses tried in turn within the connect deadline.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { ConnectError, type ConnectErrorCode, withDeadline } from "./connect.ts";
import { type Action, type Connection, type Level, ListenerPolicy } from "./connection.ts";
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
  connectErrorCode,
  Drain,
  KEEPALIVE_DEFER_MIN,
  keepAliveSecs,
  type Listener,
  type ListenerSettings,
  logNotices,
  sweepInterval,
} from "./listener-common.ts";
import { type ConnectionLine, type Logger, logConnection } from "./log.ts";
import type { CloseReason } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

/**
 * What this adapter keeps for a connection while it reads its prelude or connects, dropped once connected: an
 * idle connection holds only its Connection and a map entry. Every field is set when the record is made (an
 * object given fields later grows a separate properties array).
 */
interface Conn {
  m: Connection;
  /** How many of the client's bytes the machine wants to look at, while it reads a prelude. */
  peek: number;
  preludeTimer?: NodeJS.Timeout;
  /** Addresses of the chosen backend still to try (a name that resolved to several), and their deadline. */
  addresses?: string[];
  deadline: number;
  port: number;
  prefix?: Buffer;
  /** Why the last address failed at once. */
  failedCode: ConnectErrorCode;
}

export class NativeTcpListener implements NativeOwner, Listener {
  readonly transport = "tcp";
  readonly dataPath = "native";
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  private readonly policy: ListenerPolicy;
  private readonly log: Logger;
  private readonly engine: NativeEngine;
  private readonly conns = new Map<number, Connection>();
  /** Connections reading their prelude or connecting. */
  private readonly pending = new Map<number, Conn>();
  private readonly drain = new Drain();
  private lid = -1;
  private sweeper?: NodeJS.Timeout;
  private sweepEvery = 0;
  private appliedOptions = "";

  constructor(settings: ListenerSettings, stats: ListenerStats, log: Logger) {
    const engine = nativeEngine();
    if (!engine) throw new Error("the native data path is not available");
    this.engine = engine;
    this.name = settings.listener.name;
    this.listen = settings.listener.listen;
    this.stats = stats;
    this.log = log;
    this.policy = new ListenerPolicy(settings, stats, logNotices(log));
  }

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
    return this.policy.settings;
  }

  update(settings: ListenerSettings): void {
    this.policy.settings = settings;
    this.applySocketOptions();
    this.scheduleSweep();
  }

  close(): Promise<void> {
    const done = this.drain.begin(this.conns.size, () => this.engine.unlisten(this.lid));
    return done.then(() => this.finishClose());
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
    const l = this.policy.settings.listener;
    const key = `${l.no_delay}/${l.tcp_keepalive}`;
    if (key === this.appliedOptions || this.drain.started) return;
    this.appliedOptions = key;
    this.engine.listenOptions(this.lid, l.no_delay, l.tcp_keepalive > 0 ? keepAliveSecs(l.tcp_keepalive) : 0);
  }

  // ---- the engine's calls -----------------------------------------------------------------------------------

  onAccept(cid: number, ip: string, port: number): void {
    // Made only when it may be asked: a function per accept is garbage that 10,000 idle connections pay for.
    const local = this.policy.wantsLocal
      ? () => {
          const a = this.engine.localAddress(cid);
          return a && { address: a[0], port: a[1] };
        }
      : undefined;
    const { conn, action } = this.policy.accepted({ address: ip, port }, local);
    if (!conn.done) this.conns.set(cid, conn);
    this.act(cid, conn, action);
  }

  onPrelude(cid: number): void {
    const c = this.pending.get(cid);
    if (!c || c.peek === 0) return;
    const peeked = this.engine.peek(cid, c.peek);
    if (peeked) this.act(cid, c.m, c.m.prelude(peeked[0], peeked[1]));
  }

  onConnected(cid: number): void {
    const m = this.conns.get(cid);
    if (!m) return;
    this.pending.delete(cid);
    this.act(cid, m, m.connected());
  }

  onConnectFail(cid: number, errno: string): void {
    const m = this.conns.get(cid);
    if (!m) return;
    // More addresses of the same backend (a name), within its deadline: try the next one.
    const c = this.pending.get(cid);
    if (errno !== "ETIMEDOUT" && c?.addresses?.length && this.connectAddress(cid, c)) return;
    this.act(cid, m, m.connectFailed(connectErrorCode(errno)));
  }

  onClose(cid: number, bytesIn: number, bytesOut: number, closedBy: number, error: string | undefined): void {
    const m = this.conns.get(cid);
    if (!m) return;
    m.moved(bytesIn, bytesOut);
    const by = NATIVE_CLOSED_BY[closedBy] ?? "client";
    this.act(cid, m, m.closed(m.bytesIn, m.bytesOut, by, error));
  }

  // ---- the machine's actions ----------------------------------------------------------------------------------

  private act(cid: number, m: Connection, a: Action): void {
    switch (a.do) {
      case "read": {
        const c = this.pendingOf(cid, m);
        c.peek = a.peek;
        if (!c.preludeTimer) {
          c.preludeTimer = setTimeout(
            () => this.act(cid, m, m.preludeTimedOut()),
            Math.max(0, a.deadline - performance.now()),
          );
          this.onPrelude(cid); // bytes may be there already
        }
        return;
      }
      case "connect": {
        const b = a.backend;
        const prior = this.pending.get(cid);
        if (prior) this.endPrelude(prior);
        if (a.consume > 0) this.engine.skip(cid, a.consume);
        if (b.family !== 0) {
          // An address: one connect and nothing to keep for it (no record made per connection).
          this.pending.delete(cid);
          const errno = this.connectTo(cid, m, b.host, b.port, a.deadline, a.prefix);
          if (errno) this.act(cid, m, m.connectFailed(connectErrorCode(errno)));
          return;
        }
        const c = this.pendingOf(cid, m);
        c.deadline = a.deadline;
        c.port = b.port;
        c.prefix = a.prefix;
        this.resolve(cid, c, b.host);
        return;
      }
      case "splice":
      case "drop":
        return;
      case "refuse":
        this.engine.refuse(cid);
        this.end(cid, "warn", a.line);
        return;
      case "close":
        this.engine.endClient(cid);
        this.end(cid, a.level, a.line);
        return;
      case "log":
        this.end(cid, a.level, a.line);
        return;
    }
  }

  private endPrelude(c: Conn): void {
    c.peek = 0;
    clearTimeout(c.preludeTimer);
    c.preludeTimer = undefined;
  }

  /** The record of a connection reading its prelude or connecting, made at its first read or connect. */
  private pendingOf(cid: number, m: Connection): Conn {
    let c = this.pending.get(cid);
    if (!c) {
      c = {
        m,
        peek: 0,
        preludeTimer: undefined,
        addresses: undefined,
        deadline: 0,
        port: 0,
        prefix: undefined,
        failedCode: "SY_CONNECT_FAILED",
      };
      this.pending.set(cid, c);
    }
    return c;
  }

  private end(cid: number, level: Level, line: ConnectionLine): void {
    const c = this.pending.get(cid);
    if (c) {
      this.endPrelude(c);
      this.pending.delete(cid);
    }
    this.conns.delete(cid);
    logConnection(this.log, level, line);
    this.drain.ended(this.conns.size);
  }

  /** A backend given by name: resolved at each connect (as net.connect does), within its connect deadline. */
  private resolve(cid: number, c: Conn, host: string): void {
    const timedOut = () => new ConnectError("SY_CONNECT_TIMEOUT", `resolving ${host} timed out`);
    const m = c.m;
    void withDeadline(lookup(host, { all: true }), c.deadline, timedOut).then(
      (addresses) => {
        if (m.done) return; // the client went away meanwhile
        c.addresses = addresses.map((a) => a.address);
        if (!this.connectAddress(cid, c)) this.act(cid, m, m.connectFailed(c.failedCode));
      },
      (e: unknown) => {
        if (!m.done)
          this.act(cid, m, m.connectFailed(e instanceof ConnectError ? e.code : "SY_CONNECT_FAILED"));
      },
    );
  }

  /**
   * Starts connecting to the next address of the chosen backend. True when an attempt is under way; false when
   * every address failed at once (the code is left in c.failedCode).
   */
  private connectAddress(cid: number, c: Conn): boolean {
    let errno = "ENOENT";
    while (c.addresses?.length) {
      const failed = this.connectTo(cid, c.m, c.addresses.shift()!, c.port, c.deadline, c.prefix);
      if (failed === undefined) return true;
      errno = failed;
      if (failed === "ETIMEDOUT") break;
    }
    c.addresses = undefined;
    c.failedCode = connectErrorCode(errno);
    return false;
  }

  /** Starts connecting to one address within `deadline` (clock.mono); the errno name when that failed at once. */
  private connectTo(
    cid: number,
    m: Connection,
    ip: string,
    port: number,
    deadline: number,
    prefix: Buffer | undefined,
  ): string | undefined {
    const left = Math.ceil(deadline - performance.now());
    if (left <= 0) return "ETIMEDOUT";
    const l = m.settings.listener;
    const keepAlive = l.tcp_keepalive > 0 ? keepAliveSecs(l.tcp_keepalive) : 0;
    const defer = l.tcp_keepalive >= KEEPALIVE_DEFER_MIN;
    const err = this.engine.connect(
      cid,
      ip,
      port,
      left,
      l.no_delay,
      l.idle_timeout,
      defer ? 0 : keepAlive,
      defer ? keepAlive : 0,
      prefix,
    );
    return err === 0 ? undefined : errnoName(err);
  }

  // ---- the sweep: idle timeouts, deferred keep-alive and byte counts (in native/), every second at most ----

  private scheduleSweep(): void {
    let every = 1000;
    const idle = this.policy.settings.listener.idle_timeout;
    if (idle > 0) every = sweepInterval(idle);
    for (const m of this.conns.values()) {
      const ms = m.settings.listener.idle_timeout;
      if (ms > 0) every = Math.min(every, sweepInterval(ms));
    }
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
    for (let k = 0; k < moved.length; k += 3) this.conns.get(moved[k]!)?.moved(moved[k + 1]!, moved[k + 2]!);
  }
}

// Every decision about a sidecar connection, written once for the three data paths (the native engine, JavaScript
// streams, UDP sessions): admission, the preludes (a PROXY header, a TLS ClientHello), balancing with failover,
// passive health feedback, limits and the log line. Pure: events in, actions out, no sockets and no timers.
//
//   accepted(peer) ──▶ refuse | read | connect          a listener's `accepted`; the rest are a connection's
//   prelude(bytes, ended) ──▶ read | refuse | close | connect
//   preludeTimedOut() ──▶ close
//   connected() ──▶ splice
//   connectFailed(code) ──▶ connect (the next backend) | close (none left) | log (UDP: the session is over)
//   closed(bytes, by) ──▶ log
//
// A data path performs each action and reports what happened next; it decides nothing itself.
import { performance } from "node:perf_hooks";
import type { IpSet } from "../../core/rules/ip.ts";
import type { ConnectErrorCode } from "./connect.ts";
import type { ListenerSettings } from "./listener-common.ts";
import type { ConnectionLine } from "./log.ts";
import type { BackendState, ConnectFailure, ServicePool } from "./pool.ts";
import { PRELUDE_TIMEOUT_MS, type PreludeKind, preludeCloseReason, preludeStep } from "./prelude.ts";
import { PROXY_HEADER_MAX, parseProxyHeader, proxyHeader } from "./proxy-protocol.ts";
import { MAX_HELLO_BYTES, parseClientHello } from "./sni.ts";
import type { ListenerStats, RefuseReason } from "./stats.ts";

export interface Peer {
  address: string;
  port: number;
}

export type Level = "info" | "warn";

export type Action =
  /** Reset the client now (refused at admission: a FIN would look like an empty, successful session); log. */
  | { do: "refuse"; reason: RefuseReason; line: ConnectionLine }
  /** Wait for more of the client's first bytes, looking at up to `peek` of them, until `deadline` (clock.mono). */
  | { do: "read"; peek: number; deadline: number }
  /**
   * Connect to `backend` within `deadline` (clock.mono). The first `consume` bytes read so far are not for the
   * backend (a PROXY header): drop them; the rest go to it first, after `prefix` (an outgoing PROXY header).
   */
  | { do: "connect"; backend: BackendState; deadline: number; consume: number; prefix?: Buffer }
  /** The backend is connected: move bytes both ways. */
  | { do: "splice" }
  /** End the client with a FIN (its prelude was not what it must be, or no backend is left), then log. */
  | { do: "close"; level: Level; line: ConnectionLine }
  /** The connection is over: log its line. */
  | { do: "log"; level: Level; line: ConnectionLine }
  /** The connection was already over (e.g. the client reset during a connect): close what is left, unlogged. */
  | { do: "drop" };

/** Where time comes from: wall time for ejections (shared across reloads), a monotonic clock for durations. */
export interface Clock {
  wall(): number;
  mono(): number;
}
// `performance` comes from node:perf_hooks: the global of that name is a getter that runs on every read.
const SYSTEM_CLOCK: Clock = { wall: Date.now, mono: () => performance.now() };

/** Things worth a line of their own, beside the connection's. */
export interface Notices {
  ejected(pool: ServicePool, backend: BackendState): void;
  connectFailed(listener: string, backend: BackendState, code: ConnectErrorCode): void;
}

export type CloseBy =
  | "client"
  | "backend"
  | "client-reset"
  | "backend-reset"
  | "idle-timeout"
  | "shutdown"
  | "no-backend";

const FAILURE: Record<ConnectErrorCode, ConnectFailure> = {
  SY_CONNECT_REFUSED: "refused",
  SY_CONNECT_TIMEOUT: "timeout",
  SY_CONNECT_FAILED: "failed",
};

const DROP: Action = { do: "drop" };
const SPLICE: Action = { do: "splice" };
/** What a TCP connection has tried before its first connect fails: nothing (its own Set is made only then). */
const NONE_TRIED: ReadonlySet<number> = new Set();

/** How long a UDP client's failed backends are avoided when it opens its next session. */
const UDP_AVOID_MS = 10_000;

/** Allow/deny by client address: a denied range wins over an allowed one. */
export function allowed(s: { allow?: IpSet; deny?: IpSet }, ip: string): boolean {
  return !(s.deny?.hasText(ip) || (s.allow && !s.allow.hasText(ip)));
}

/** One listener's decisions: admission and limits across its connections; each connection decides the rest. */
export class ListenerPolicy {
  settings: ListenerSettings;
  readonly stats: ListenerStats;
  readonly clock: Clock;
  readonly notices: Notices | undefined;
  /** Connections accepted and not yet over (this listener's own: stats are shared with a retiring namesake). */
  open = 0;
  /** Connections still sending their prelude, in total and per source address. */
  inPrelude = 0;
  readonly preludeBySource = new Map<string, number>();
  /** UDP: backends that failed for a client address recently, avoided by its next session. */
  private readonly avoid = new Map<string, { tried: Set<number>; until: number }>();

  constructor(settings: ListenerSettings, stats: ListenerStats, notices?: Notices, clock = SYSTEM_CLOCK) {
    this.settings = settings;
    this.stats = stats;
    this.notices = notices;
    this.clock = clock;
  }

  get name(): string {
    return this.settings.listener.name;
  }

  /** Whether accepted() may ask for the local address (a PROXY header is sent on); otherwise pass none. */
  get wantsLocal(): boolean {
    return Boolean(this.settings.listener.proxy_protocol);
  }

  /**
   * A client connected (TCP) or sent its first datagram (UDP). `local` gives the address it reached, asked for
   * only when the backend must be sent a PROXY header. The connection is returned even when refused.
   */
  accepted(peer: Peer, local?: () => Peer | undefined): { conn: Connection; action: Action } {
    const conn = new Connection(this, peer, local);
    return { conn, action: conn.admit() };
  }

  /** Forgets expired UDP avoidances (call from the listener's sweep). */
  sweep(): void {
    const now = this.clock.wall();
    for (const [ip, m] of this.avoid) if (m.until <= now) this.avoid.delete(ip);
  }

  /** @internal */
  avoided(ip: string): Set<number> {
    const m = this.avoid.get(ip);
    return m && m.until > this.clock.wall() ? m.tried : new Set();
  }

  /** @internal */
  remember(ip: string, tried: Set<number>): void {
    this.avoid.set(ip, { tried, until: this.clock.wall() + UDP_AVOID_MS });
  }

  /** @internal: a connection entered (+1) or left (-1) its prelude, counted under `source`. */
  countPrelude(source: string, delta: 1 | -1): void {
    this.inPrelude += delta;
    const n = (this.preludeBySource.get(source) ?? 0) + delta;
    if (n > 0) this.preludeBySource.set(source, n);
    else this.preludeBySource.delete(source);
  }
}

type Phase = "prelude" | "connecting" | "open" | "done";

/** A prelude still to be read before a backend can be chosen: which, where it starts, by when, counted under. */
interface Prelude {
  kind: PreludeKind;
  offset: number;
  deadline: number;
  source: string;
}

/** What only some connections need (PROXY headers, TLS, failed connects), kept out of every Connection. */
interface Extra {
  /** Asked for the local address when a PROXY header is sent on; dropped once asked. */
  local: (() => Peer | undefined) | undefined;
  /** For the log line: the peer that sent a trusted PROXY header, the TLS server name, failed connects. */
  via: string | undefined;
  sni: string | undefined;
  failures: string[] | undefined;
  /** Bytes read so far that are not for the backend (a PROXY header), and the PROXY header to send on. */
  consume: number;
  prefix: Buffer | undefined;
}

/**
 * One connection's state. An idle connection holds one of these for as long as it is open (10,000 of them on a
 * sidecar serving many idle clients), so it keeps only what later events and the log line need: shared
 * references, numbers and the strings it was given. The log line's object and strings are built when it ends.
 */
export class Connection {
  readonly settings: ListenerSettings;
  /** The client: the peer, or whom a trusted PROXY header names. */
  ip: string;
  port: number;
  pool: ServicePool;
  phase: Phase = "prelude";
  /** The backend being connected to or connected (-1: none); counted in its `active` meanwhile. */
  chosen = -1;
  bytesIn = 0;
  bytesOut = 0;
  private readonly policy: ListenerPolicy;
  private readonly started: number;
  /**
   * Backends to pass over. TCP: the ones whose connect failed (made at the first failure); the one being
   * connected is `chosen` and `attempts` counts them all. UDP: the ones that failed for this client lately.
   */
  private tried?: Set<number>;
  private attempts = 0;
  /** The backend connected, for the log line. */
  private backendAddress?: string;
  private pre?: Prelude;
  private extra?: Extra;
  constructor(policy: ListenerPolicy, peer: Peer, local?: () => Peer | undefined) {
    this.policy = policy;
    this.settings = policy.settings;
    if (policy.wantsLocal && local) this.more().local = local;
    this.ip = peer.address;
    this.port = peer.port;
    this.pool = this.settings.pool;
    this.started = policy.clock.mono();
    if (this.settings.listener.protocol === "udp") this.tried = policy.avoided(peer.address);
  }

  /** The backend chosen, if any. */
  get backend(): BackendState | undefined {
    return this.chosen >= 0 ? this.pool.backends[this.chosen]!.state : undefined;
  }

  get done(): boolean {
    return this.phase === "done";
  }

  /** @internal: the accepted event (see ListenerPolicy.accepted). */
  admit(): Action {
    const p = this.policy;
    const s = this.settings;
    const l = s.listener;
    const ip = this.ip;
    const prelude: PreludeKind | undefined = l.accept_proxy_protocol
      ? "proxy"
      : l.protocol === "tls"
        ? "hello"
        : undefined;
    let reason: RefuseReason | undefined;
    if (l.accept_proxy_protocol) {
      // Only a load balancer named in proxy_protocol_from may speak for a client; allow/deny then apply to the
      // client it names, once the header is read.
      if (!s.proxyFrom?.hasText(ip)) reason = "untrusted_proxy";
    } else if (!allowed(s, ip)) reason = "denied";
    if (!reason && p.open >= l.max_connections) reason = "max_connections";
    if (!reason && prelude) {
      if (p.inPrelude >= l.max_prelude_connections) reason = "prelude_limit";
      else if ((p.preludeBySource.get(ip) ?? 0) >= l.max_prelude_per_source) reason = "prelude_limit";
    }
    if (reason) return this.refuse(reason);
    p.open++;
    p.stats.active++;
    p.stats.total++;
    if (!prelude) return this.choose();
    this.pre = { kind: prelude, offset: 0, deadline: this.started + PRELUDE_TIMEOUT_MS, source: ip };
    p.countPrelude(ip, 1);
    return this.readMore();
  }

  /**
   * The client's bytes so far (all of them, from its first: the data path keeps them or peeks at them), and
   * whether it has ended (FIN or error: no more will come).
   */
  prelude(data: Buffer, ended: boolean): Action {
    const pre = this.pre;
    if (this.phase !== "prelude" || !pre) return DROP;
    if (pre.kind === "proxy") {
      const step = preludeStep(data, parseProxyHeader, PROXY_HEADER_MAX);
      if (step.status === "invalid")
        return this.closeEarly(preludeCloseReason("proxy", "invalid"), step.reason);
      if (step.status === "need-more")
        return ended ? this.closeEarly(preludeCloseReason("proxy", "client-closed")) : this.readMore();
      const src = step.value.source;
      if (src) {
        this.more().via = `${this.ip}:${this.port}`;
        this.ip = src.address;
        this.port = src.port;
      }
      if (!allowed(this.settings, this.ip)) return this.refuseLate("denied");
      pre.offset = this.more().consume = step.value.length;
      if (this.settings.listener.protocol !== "tls") return this.endPrelude();
      // From here on a slow ClientHello counts against the client the header named, not the load balancer.
      this.movePrelude(this.ip);
      pre.kind = "hello";
    }
    const hello = preludeStep(data.subarray(pre.offset), parseClientHello, MAX_HELLO_BYTES);
    if (hello.status === "invalid")
      return this.closeEarly(preludeCloseReason("hello", "invalid"), hello.reason);
    if (hello.status === "need-more")
      return ended ? this.closeEarly(preludeCloseReason("hello", "client-closed")) : this.readMore();
    const name = hello.value.serverName;
    if (name !== undefined) this.more().sni = name;
    this.pool = this.settings.sni?.match(name) ?? this.pool;
    return this.endPrelude();
  }

  /** The prelude's deadline passed. */
  preludeTimedOut(): Action {
    const pre = this.pre;
    if (this.phase !== "prelude" || !pre) return DROP;
    return this.closeEarly(preludeCloseReason(pre.kind, "timeout"));
  }

  connected(): Action {
    if (this.phase !== "connecting") return DROP;
    this.phase = "open";
    this.pool.connectResult(this.chosen, undefined, this.policy.clock.wall());
    this.backendAddress = this.backend!.address;
    // Nothing more is tried or sent first once connected (a UDP session's failure is remembered for its client).
    if (this.settings.listener.protocol !== "udp") this.tried = undefined;
    if (this.extra) this.extra.prefix = undefined;
    return SPLICE;
  }

  /**
   * The connect to the chosen backend failed (nothing was sent, so the next one is safe to try); for UDP, the
   * backend answered a datagram with ICMP unreachable, which ends the session.
   */
  connectFailed(code: ConnectErrorCode, detail?: string): Action {
    if (this.phase === "open" && this.settings.listener.protocol === "udp") {
      const i = this.chosen;
      this.recordFailure(code);
      this.tried!.add(i);
      this.policy.remember(this.ip, this.tried!);
      return this.closed(this.bytesIn, this.bytesOut, "backend-reset", detail ?? code);
    }
    if (this.phase !== "connecting") return DROP;
    this.tried ??= new Set();
    this.tried.add(this.chosen);
    const x = this.more();
    x.failures ??= [];
    x.failures.push(`${this.backend!.address} ${code}`);
    this.recordFailure(code);
    return this.next();
  }

  /**
   * The connection ended: bytes each way (totals, including any reported through `moved`) and who ended it.
   * Valid in every phase but done: a client that resets during its prelude or its connect ends here too.
   */
  closed(bytesIn: number, bytesOut: number, by: CloseBy, error?: string): Action {
    if (this.phase === "done") return DROP;
    const wasOpen = this.phase === "open";
    if (by === "idle-timeout") this.policy.stats.idleTimeouts++;
    const line = this.finish(by, error);
    if (wasOpen) {
      line.bytes_in = bytesIn;
      line.bytes_out = bytesOut;
    }
    return { do: "log", level: wasOpen ? "info" : "warn", line };
  }

  /** Bytes moved since the last report (the native engine's sweep): listener and backend totals follow. */
  moved(bytesIn: number, bytesOut: number): void {
    if (bytesIn === 0 && bytesOut === 0) return;
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    const st = this.policy.stats;
    st.bytesIn += bytesIn;
    st.bytesOut += bytesOut;
    const b = this.backend;
    if (b) {
      b.bytesIn += bytesIn;
      b.bytesOut += bytesOut;
    }
  }

  // ---- inside the machine -------------------------------------------------------------------------------------

  private more(): Extra {
    this.extra ??= {
      local: undefined,
      via: undefined,
      sni: undefined,
      failures: undefined,
      consume: 0,
      prefix: undefined,
    };
    return this.extra;
  }

  private readMore(): Action {
    const pre = this.pre!;
    const peek = pre.offset + (pre.kind === "proxy" ? PROXY_HEADER_MAX : MAX_HELLO_BYTES) + 1;
    return { do: "read", peek, deadline: pre.deadline };
  }

  private movePrelude(source: string): void {
    const pre = this.pre;
    if (!pre || pre.source === source) return;
    this.policy.countPrelude(pre.source, -1);
    this.policy.countPrelude(source, 1);
    pre.source = source;
  }

  private leavePrelude(): void {
    const pre = this.pre;
    if (!pre) return;
    this.pre = undefined;
    this.policy.countPrelude(pre.source, -1);
  }

  private endPrelude(): Action {
    this.leavePrelude();
    return this.choose();
  }

  /** The service is known: the PROXY header to send on, then the first backend. */
  private choose(): Action {
    const version = this.settings.listener.proxy_protocol;
    const x = this.extra;
    const local = version && x?.local?.();
    if (x) x.local = undefined;
    if (version && local)
      this.more().prefix = proxyHeader(version, {
        srcAddress: this.ip,
        srcPort: this.port,
        dstAddress: local.address,
        dstPort: local.port,
      });
    return this.next();
  }

  /** The next backend to connect to, or the client is closed when none is left. */
  private next(): Action {
    const l = this.settings.listener;
    const udp = l.protocol === "udp";
    // A UDP session has one backend; its next session picks again, without the ones that failed.
    const max = udp ? 1 : Math.min(l.connect_attempts, this.pool.backends.length);
    const tried = this.tried ?? NONE_TRIED;
    if (udp ? tried.size < max || this.chosen < 0 : this.attempts < max) {
      const i = this.pool.pick(this.ip, tried, this.policy.clock.wall());
      if (i !== undefined) {
        if (!udp) this.attempts++;
        this.pool.started(i);
        this.chosen = i;
        this.phase = "connecting";
        const x = this.extra;
        const consume = x ? x.consume : 0;
        if (x) x.consume = 0;
        const connect: Action = {
          do: "connect",
          backend: this.pool.backends[i]!.state,
          deadline: this.policy.clock.mono() + l.connect_timeout,
          consume,
        };
        if (x?.prefix) connect.prefix = x.prefix;
        return connect;
      }
    }
    this.policy.stats.refused.no_backend++;
    return { do: "close", level: "warn", line: this.finish("no-backend") };
  }

  private recordFailure(code: ConnectErrorCode): void {
    const i = this.chosen;
    const b = this.backend!;
    this.pool.ended(i);
    this.chosen = -1;
    const n = this.policy.notices;
    n?.connectFailed(this.policy.name, b, code);
    if (this.pool.connectResult(i, FAILURE[code], this.policy.clock.wall())) n?.ejected(this.pool, b);
  }

  private refuse(reason: RefuseReason): Action {
    this.policy.stats.refused[reason]++;
    this.phase = "done";
    const line = this.lineHead();
    line.closed_by = reason;
    line.duration_ms = 0;
    return { do: "refuse", reason, line };
  }

  /** Refused once the prelude named the client (allow/deny behind a load balancer). */
  private refuseLate(reason: RefuseReason): Action {
    this.policy.stats.refused[reason]++;
    return { do: "refuse", reason, line: this.finish(reason) };
  }

  private closeEarly(closedBy: string, detail?: string): Action {
    return { do: "close", level: "warn", line: this.finish(closedBy, detail || undefined) };
  }

  /** The listener and client fields every line starts with. */
  private lineHead(): ConnectionLine {
    const line: ConnectionLine = { listener: this.settings.listener.name, client: `${this.ip}:${this.port}` };
    if (this.settings.listener.protocol === "udp") line.protocol = "udp";
    const x = this.extra;
    if (x?.via !== undefined) line.via = x.via;
    if (x?.sni !== undefined) line.sni = x.sni;
    return line;
  }

  /** The connection is over: counts released, and its log line (bytes are the caller's to add). */
  private finish(closedBy: string, error?: string): ConnectionLine {
    // A backend was being chosen once no prelude is left to read (choose() runs as the prelude ends).
    const chose = this.pre === undefined;
    this.leavePrelude();
    const p = this.policy;
    p.open--;
    p.stats.active--;
    if (this.chosen >= 0) this.pool.ended(this.chosen);
    this.phase = "done";
    const line = this.lineHead();
    if (chose) line.service = this.pool.name;
    if (line.protocol !== "udp") {
      line.attempts = this.attempts;
      if (this.extra?.failures) line.connect_failures = this.extra.failures;
    }
    if (this.backendAddress !== undefined) line.backend = this.backendAddress;
    line.closed_by = closedBy;
    if (error !== undefined) line.error = error;
    line.duration_ms = Math.round(p.clock.mono() - this.started);
    return line;
  }
}

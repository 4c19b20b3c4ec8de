// What every data path shares: the `Listener` interface sidecar.ts holds, the settings a listener runs on, and
// the timing of the TCP paths' sweeps. Decisions live in connection.ts; this file has none.
import type { Listener as ListenerConfig } from "../../core/config/index.ts";
import type { IpSet } from "../../core/rules/ip.ts";
import type { ConnectErrorCode } from "./connect.ts";
import type { Notices } from "./connection.ts";
import type { DataPath } from "./io/native.ts";
import type { Logger } from "./log.ts";
import type { ServicePool } from "./pool.ts";
import type { SniTable } from "./sni.ts";
import type { CloseReason } from "./splice.ts";
import type { ListenerStats } from "./stats.ts";

export interface ListenerSettings {
  listener: ListenerConfig;
  pool: ServicePool;
  /** tls listeners: server name → pool (the `sni` table); `pool` when nothing matches. */
  sni?: SniTable<ServicePool>;
  allow?: IpSet;
  deny?: IpSet;
  /** accept_proxy_protocol: who may send PROXY headers (proxy_protocol_from). */
  proxyFrom?: IpSet;
}

/** One listening socket on one data path (native engine, JavaScript streams, UDP). */
export interface Listener {
  readonly transport: "tcp" | "udp";
  /** What carries a TCP listener's bytes (shown in /status); undefined for UDP. */
  readonly dataPath: DataPath | undefined;
  readonly name: string;
  readonly listen: string;
  readonly stats: ListenerStats;
  /** The settings new connections get. */
  readonly current: ListenerSettings;
  readonly activeConnections: number;
  /** Binds the address; rejects with the OS error (code EADDRINUSE, …) when it cannot. */
  start(host: string, port: number, reusePort?: boolean): Promise<void>;
  /** The bound port (useful when the config asks for port 0). */
  port(): number;
  /** New connections use `settings` at once; open ones keep theirs. */
  update(settings: ListenerSettings): void;
  /** Stops accepting; resolves once every connection has ended. Every call returns the same promise. */
  close(): Promise<void>;
  /** Resets every open connection (drain deadline passed). */
  abortAll(reason?: CloseReason): void;
}

/** The connect error code for an errno name (ETIMEDOUT is what a passed deadline reports). */
export const connectErrorCode = (errno: string): ConnectErrorCode =>
  errno === "ECONNREFUSED"
    ? "SY_CONNECT_REFUSED"
    : errno === "ETIMEDOUT"
      ? "SY_CONNECT_TIMEOUT"
      : "SY_CONNECT_FAILED";

/** The decision machine's notices, as log lines. */
export function logNotices(log: Logger): Notices {
  return {
    ejected(pool, b) {
      log.warn({ service: pool.name, backend: b.address, for_ms: pool.passive?.eject }, "backend ejected");
    },
    connectFailed(listener, b, code) {
      log.debug({ listener, backend: b.address, code }, "connect failed, trying the next backend");
    },
  };
}

/**
 * A close() that every caller can await: the first call starts closing, later ones get the same promise, which
 * settles once `drained` is called (at once when nothing is open).
 */
export class Drain {
  private promise?: Promise<void>;
  private resolve?: () => void;

  get started(): boolean {
    return this.promise !== undefined;
  }

  /** Starts (once) and returns the promise; `open` is how many connections are still open. */
  begin(open: number, onStart: () => void): Promise<void> {
    if (this.promise) return this.promise;
    onStart();
    this.promise = new Promise((r) => {
      this.resolve = r;
    });
    if (open === 0) this.resolve!();
    return this.promise;
  }

  /** A connection ended with `open` still open: settles the promise once it is zero. */
  ended(open: number): void {
    if (open === 0) this.resolve?.();
  }
}

/** A keep-alive delay as the socket option takes it: whole seconds, at least one. */
export const keepAliveSecs = (ms: number) => Math.max(1, Math.floor(ms / 1000));

/** How often idle connections are looked for: a quarter of the timeout, between 10 ms and 1 s. */
export const sweepInterval = (idleMs: number) => Math.min(1000, Math.max(10, Math.floor(idleMs / 4)));

/**
 * TCP keep-alive on the backend socket is set by the sweep once a connection has lived this long, not at
 * connect: it costs four setsockopt calls, a tenth of the syscalls of a short connection, and a connection
 * that ends within a second never needs it. Probes start only after `tcp_keepalive` of silence, so for values
 * of at least KEEPALIVE_DEFER_MIN setting it up to two seconds late changes nothing observable.
 */
export const KEEPALIVE_AFTER_MS = 1000;
export const KEEPALIVE_DEFER_MIN = 10_000;

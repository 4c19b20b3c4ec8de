// What both TCP listener kinds (listener.ts on streams, native-listener.ts on the native engine) share: the
// admission rules, the connect-failure bookkeeping and the timing of their sweeps.
import type { Listener } from "../../core/config/index.ts";
import type { IpSet } from "../../core/rules/ip.ts";
import type { ConnectErrorCode } from "./connect.ts";
import type { Logger } from "./log.ts";
import type { ConnectFailure, ServicePool } from "./pool.ts";
import type { SniTable } from "./sni.ts";

export interface ListenerSettings {
  listener: Listener;
  pool: ServicePool;
  /** tls listeners: server name → pool (the `sni` table); `pool` when nothing matches. */
  sni?: SniTable<ServicePool>;
  allow?: IpSet;
  deny?: IpSet;
}

export const FAILURE: Record<ConnectErrorCode, ConnectFailure> = {
  SY_CONNECT_REFUSED: "refused",
  SY_CONNECT_TIMEOUT: "timeout",
  SY_CONNECT_FAILED: "failed",
};

/** The connect error code for an errno name (ETIMEDOUT is what a passed deadline reports). */
export const connectErrorCode = (errno: string): ConnectErrorCode =>
  errno === "ECONNREFUSED"
    ? "SY_CONNECT_REFUSED"
    : errno === "ETIMEDOUT"
      ? "SY_CONNECT_TIMEOUT"
      : "SY_CONNECT_FAILED";

/** Allow/deny by client address: a denied range wins over an allowed one. */
export function allowed(s: ListenerSettings, ip: string): boolean {
  return !(s.deny?.hasText(ip) || (s.allow && !s.allow.hasText(ip)));
}

/** Feeds a failed connect to passive health and logs what it did; returns the `connect_failures` entry. */
export function recordConnectFailure(
  log: Logger,
  listener: string,
  pool: ServicePool,
  i: number,
  code: ConnectErrorCode,
): string {
  const b = pool.backends[i]!.state;
  pool.ended(i);
  if (pool.connectResult(i, FAILURE[code], Date.now()))
    log.warn(
      { service: pool.name, backend: b.address, for_ms: (pool.service.passive || undefined)?.eject },
      "backend ejected",
    );
  log.debug({ listener, backend: b.address, code }, "connect failed, trying the next backend");
  return `${b.address} ${code}`;
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

// The native data path (l4-sidecar/native/, built by `npm run build:native`): accept, connect and
// splice outside JavaScript, on an epoll set driven from Node's loop. Accepted connections, connects that
// succeeded and connections that ended come in one call per batch of events (an IPv6 client in a call of its
// own); a failed connect, and more bytes while a PROXY header or a ClientHello is read with peek(), in a call
// each. This file loads the addon and routes those calls to the listener that owns the listening socket.
import { createRequire } from "node:module";
import { getSystemErrorName } from "node:util";
import { formatV4 } from "../../../core/rules/ip.ts";
import { rawTcpAvailable } from "./raw.ts";

/** What a native listener receives. Connection ids are unique within the process (64-bit, exact as doubles). */
export interface NativeOwner {
  onAccept(cid: number, ip: string, port: number): void;
  onConnected(cid: number): void;
  onConnectFail(cid: number, code: string): void;
  onClose(cid: number, bytesIn: number, bytesOut: number, closedBy: number, error: string | undefined): void;
  /** More bytes (or the end) arrived from a client whose prelude is being read with peek(). */
  onPrelude(cid: number): void;
}

export interface NativeEngine {
  listen(host: string, port: number, reusePort: boolean, backlog: number): number;
  localPort(lid: number): number;
  listenOptions(lid: number, noDelay: boolean, keepAliveSecs: number): void;
  unlisten(lid: number): void;
  /** 0, or a negative errno when the attempt fails at once (later failures come through onConnectFail). */
  connect(
    cid: number,
    ip: string,
    port: number,
    timeoutMs: number,
    noDelay: boolean,
    idleMs: number,
    keepAliveSecs: number,
    keepAliveDeferSecs: number,
    prefix: Buffer | undefined,
  ): number;
  /** Resets the client: refused before any backend was tried. Not reported through onClose. */
  refuse(cid: number): void;
  /** Closes the client with a FIN: no backend could be reached. Not reported through onClose. */
  endClient(cid: number): void;
  localAddress(cid: number): [string, number] | undefined;
  /** The client's bytes so far, left queued (the splice sends them on), and whether it has ended. */
  peek(cid: number, maxBytes: number): [Buffer, boolean] | undefined;
  /** Consumes n of the client's bytes (a PROXY header); returns how many it consumed. */
  skip(cid: number, n: number): number;
  /** [cid, bytesIn, bytesOut] triples of bytes moved since the last sweep; closes idle connections. */
  sweep(lid: number): Float64Array;
  /** Resets every connection of the listener, each reported as closed by shutdown. */
  abort(lid: number): void;
  /** The next accepted connection gets this id (ids are 64-bit; tests start them past 2^32). */
  nextConnectionId(id: number): void;
}

interface Addon extends NativeEngine {
  init(
    accept: (lid: number, cid: number, ip: string, port: number) => void,
    connectFail: (lid: number, cid: number, code: string) => void,
    prelude: (lid: number, cid: number) => void,
    events: (count: number) => void,
    shared: Float64Array,
  ): void;
}

/**
 * The engine's batched events (native/engine.h): EVENT_WORDS numbers each, [type, lid, cid, in, out, by, errno],
 * or for an accepted IPv4 client [type, lid, cid, address as a 32-bit number, port, 0, 0].
 */
const EVENT_WORDS = 7;
const EV_CONNECTED = 0;
const EV_CLOSED = 1;
/** Events per call at most (the engine keeps the rest for the next call). */
const EVENTS_PER_CALL = 1024;

/** Close reasons in the order native/engine.h numbers them. */
export const NATIVE_CLOSED_BY = [
  "client",
  "backend",
  "client-reset",
  "backend-reset",
  "idle-timeout",
  "shutdown",
] as const;

export type DataPath = "native" | "raw" | "socket";

function load(): Addon | undefined {
  try {
    // SWITCHYARD_L4_NATIVE_ADDON: another build of the engine (scripts/test-asan.sh loads a sanitized one).
    const file = process.env.SWITCHYARD_L4_NATIVE_ADDON ?? "../../native/build/engine.node";
    return createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    shared.loadError = (e as Error).message;
    return undefined;
  }
}

// Shared through globalThis: the addon is loaded once per process, while this module may be evaluated more
// than once (test runners re-import modules per file).
interface Shared {
  addon?: Addon;
  loaded: boolean;
  initialized: boolean;
  loadError?: string;
  owners: (NativeOwner | undefined)[];
}
const KEY = Symbol.for("switchyard.l4.native");
const holder = globalThis as Record<symbol, Shared | undefined>;
holder[KEY] ??= { loaded: false, initialized: false, owners: [] };
const shared = holder[KEY];

function addon(): Addon | undefined {
  if (!shared.loaded) {
    shared.loaded = true;
    shared.addon = load();
  }
  return shared.addon;
}

/** The engine, initialised on first use; undefined when the addon is not built or cannot load. */
export function nativeEngine(): NativeEngine | undefined {
  const a = addon();
  if (!a || shared.initialized) return a;
  shared.initialized = true;
  const o = shared.owners;
  const events = new Float64Array(EVENTS_PER_CALL * EVENT_WORDS);
  a.init(
    (lid, cid, ip, port) => o[lid]?.onAccept(cid, ip, port),
    (lid, cid, code) => o[lid]?.onConnectFail(cid, code),
    (lid, cid) => o[lid]?.onPrelude(cid),
    (count) => dispatchEvents(o, events, count),
    events,
  );
  return a;
}

/**
 * Accepted IPv4 clients, connects that succeeded and connections that ended, in the order they happened, told in
 * one call per batch.
 * Every event is delivered even when a listener throws: the first error is thrown after the batch.
 */
function dispatchEvents(owners: (NativeOwner | undefined)[], e: Float64Array, count: number): void {
  let failed: { error: unknown } | undefined;
  for (let k = 0; k < count * EVENT_WORDS; k += EVENT_WORDS) {
    const owner = owners[e[k + 1]!];
    if (!owner) continue;
    try {
      const type = e[k];
      if (type === EV_CONNECTED) owner.onConnected(e[k + 2]!);
      else if (type === EV_CLOSED) {
        const err = e[k + 6]!;
        owner.onClose(e[k + 2]!, e[k + 3]!, e[k + 4]!, e[k + 5]!, err ? errnoName(-err) : undefined);
      } else {
        owner.onAccept(e[k + 2]!, formatV4(e[k + 3]!), e[k + 4]!);
      }
    } catch (error) {
      failed ??= { error };
    }
  }
  if (failed) throw failed.error;
}

/** Routes a listening socket's calls to `owner` (listener ids are reused once a listener is fully closed). */
export function ownListener(lid: number, owner: NativeOwner): void {
  shared.owners[lid] = owner;
}

export function disownListener(lid: number, owner: NativeOwner): void {
  if (shared.owners[lid] === owner) shared.owners[lid] = undefined;
}

export const errnoName = (negativeErrno: number): string => {
  try {
    return getSystemErrorName(negativeErrno);
  } catch {
    return `E${-negativeErrno}`;
  }
};

/**
 * The data path for a new TCP listener. SWITCHYARD_L4_DATA_PATH=native|raw|socket picks one (tests and
 * comparisons; `native` when the engine is not built is an error rather than a quiet fallback); otherwise
 * the fastest available.
 */
export function chooseDataPath(): DataPath {
  const wanted = process.env.SWITCHYARD_L4_DATA_PATH;
  if (wanted === "socket") return "socket";
  if (wanted !== "raw") {
    if (addon()) return "native";
    if (wanted === "native")
      throw new Error(
        `SWITCHYARD_L4_DATA_PATH=native, but the native engine is not available (npm run build:native): ${shared.loadError}`,
      );
  }
  return rawTcpAvailable() ? "raw" : "socket";
}

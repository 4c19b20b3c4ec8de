// Opens a TCP connection to a backend with a deadline, as a raw stream (io/raw.ts) or, in fallback mode, a
// net.Socket stream. The timer is cleared on connect or error, and every failure becomes one ConnectError with
// a stable code and the original error as `cause` (as undici does).

import { lookup } from "node:dns/promises";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { rawConnect } from "./io/raw.ts";
import { SocketStream } from "./io/socket.ts";
import type { Stream } from "./io/stream.ts";

export type ConnectErrorCode = "SY_CONNECT_TIMEOUT" | "SY_CONNECT_REFUSED" | "SY_CONNECT_FAILED";

export class ConnectError extends Error {
  readonly code: ConnectErrorCode;
  constructor(code: ConnectErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "ConnectError";
    this.code = code;
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  timeoutMs: number;
  noDelay: boolean;
  keepAliveMs: number;
  /** Raw handles (the fast path) or net.Socket. */
  raw: boolean;
  /** net.isIP(host), known in advance for configured backends (0: a name to resolve). */
  family?: number;
  /** Gives up (the client went away): the attempt is abandoned and its socket closed. */
  signal?: AbortSignal;
}

export async function connectBackend(opts: ConnectOptions): Promise<Stream> {
  const where = `${opts.host}:${opts.port}`;
  const deadline = performance.now() + opts.timeoutMs;
  const timedOut = () =>
    new ConnectError("SY_CONNECT_TIMEOUT", `connect to ${where} timed out after ${opts.timeoutMs}ms`);
  const failed = (code: string, cause?: unknown) =>
    new ConnectError(
      code === "ECONNREFUSED" ? "SY_CONNECT_REFUSED" : "SY_CONNECT_FAILED",
      `connect to ${where} failed: ${code}`,
      cause,
    );
  let stream: Stream;
  if (opts.raw) {
    const family = opts.family ?? net.isIP(opts.host);
    let addresses = [{ address: opts.host, family }];
    if (family === 0) {
      // A name: resolve it per connection, as net.connect does (DNS changes are picked up at once), and try
      // each address in turn within the deadline ("localhost" may list ::1 before 127.0.0.1).
      addresses = await withDeadline(lookup(opts.host, { all: true }), deadline, timedOut).catch(
        (e: unknown) => {
          throw e instanceof ConnectError ? e : failed((e as NodeJS.ErrnoException).code ?? String(e), e);
        },
      );
    }
    let last: Error | undefined;
    let connected: Stream | undefined;
    for (const a of addresses) {
      const left = deadline - performance.now();
      if (left <= 0) throw timedOut();
      try {
        connected = await rawConnect(a.address, a.family === 6 ? 6 : 4, opts.port, left, opts.signal);
        break;
      } catch (e) {
        if ((e as Error).message === "ETIMEDOUT") throw timedOut();
        last = e as Error;
      }
    }
    if (!connected) throw failed(last?.message ?? "no address", last);
    stream = connected;
  } else stream = await socketConnect(opts, deadline, timedOut, failed);
  stream.setNoDelay(opts.noDelay);
  if (opts.keepAliveMs > 0) stream.setKeepAlive(true, opts.keepAliveMs);
  return stream;
}

/** Settles like `p`, or rejects with `timeout()` (after calling `cancel`) once `deadline` passes. */
export function withDeadline<T>(
  p: Promise<T>,
  deadline: number,
  timeout: () => Error,
  cancel?: () => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        cancel?.();
        reject(timeout());
      },
      Math.max(0, deadline - performance.now()),
    );
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function socketConnect(
  opts: ConnectOptions,
  deadline: number,
  timedOut: () => Error,
  failed: (code: string, cause?: unknown) => Error,
): Promise<Stream> {
  const socket = net.connect({ host: opts.host, port: opts.port, allowHalfOpen: true });
  socket.pause();
  const connected = new Promise<Stream>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(failed(err.code ?? err.message, err));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(new SocketStream(socket));
    });
  });
  opts.signal?.addEventListener("abort", () => socket.destroy(new Error("ECANCELED")), { once: true });
  return withDeadline(connected, deadline, timedOut, () => socket.destroy());
}

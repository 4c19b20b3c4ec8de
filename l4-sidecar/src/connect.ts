// Opens a TCP connection to a backend with a deadline. The timer is cleared on connect or error, and every
// failure becomes one ConnectError with a stable code and the original error as `cause` (as undici does).
import net from "node:net";

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
  /** Read into caller-owned buffers (see forward.ts). */
  onread?: net.OnReadOpts;
}

export function connectBackend(opts: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: opts.host,
      port: opts.port,
      allowHalfOpen: true,
      noDelay: opts.noDelay,
      keepAlive: opts.keepAliveMs > 0,
      keepAliveInitialDelay: opts.keepAliveMs,
      ...(opts.onread ? { onread: opts.onread } : {}),
    });
    const where = `${opts.host}:${opts.port}`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ConnectError("SY_CONNECT_TIMEOUT", `connect to ${where} timed out after ${opts.timeoutMs}ms`),
      );
    }, opts.timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const code = err.code === "ECONNREFUSED" ? "SY_CONNECT_REFUSED" : "SY_CONNECT_FAILED";
      reject(new ConnectError(code, `connect to ${where} failed: ${err.code ?? err.message}`, err));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

// Streams on Node's own TCP handles (process.binding("tcp_wrap")), without net.Socket: a connection costs one
// handle and one small object instead of a Duplex stream, its state machine and a dozen closures. About a
// quarter more short connections per second on one core. The handle API is Node-internal, so `rawTcp` is
// undefined when its shape differs from what this file expects (or SWITCHYARD_L4_DATA_PATH=socket), and callers
// fall back to socket.ts.
import { getSystemErrorName } from "node:util";
import { giveLarge, LARGE_BUFFER, SMALL_BUFFER, takeLarge, takeSmall } from "./buffers.ts";
import {
  type Address,
  NO_SINK,
  QUEUED,
  type Stream,
  type StreamSink,
  WRITTEN,
  type WriteResult,
} from "./stream.ts";

/** The parts of Node's TCPWrap this file uses. */
export interface TcpHandle {
  onread: (this: TcpHandle) => Buffer | undefined;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Buffer): void;
  writeBuffer(req: WriteReq, buf: Buffer): number;
  shutdown(req: ShutdownReq): number;
  close(cb?: () => void): void;
  reset(cb?: () => void): number;
  getpeername(out: Partial<Address>): number;
  getsockname(out: Partial<Address>): number;
  setNoDelay(on: boolean): number;
  setKeepAlive(on: boolean, delaySeconds: number): number;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  [OWNER]?: RawStream;
}
interface WriteReq {
  handle: TcpHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  buffer?: Buffer;
}
interface ShutdownReq {
  handle: TcpHandle;
  oncomplete: (status: number) => void;
}
interface ConnectReq {
  oncomplete: (status: number, handle: TcpHandle) => void;
  address: string;
  port: number;
}

interface Binding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  UV_EOF: number;
}

const OWNER = Symbol("switchyard.stream");

function loadBinding(): Binding | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding("tcp_wrap");
    const sw = binding("stream_wrap");
    const uv = binding("uv");
    const constants = tcp.constants as { SOCKET?: unknown };
    const b = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: sw.WriteWrap,
      ShutdownWrap: sw.ShutdownWrap,
      SOCKET: constants?.SOCKET,
      state: sw.streamBaseState,
      kReadBytesOrError: sw.kReadBytesOrError,
      kLastWriteWasAsync: sw.kLastWriteWasAsync,
      UV_EOF: uv.UV_EOF,
    };
    const fns = [b.TCP, b.TCPConnectWrap, b.WriteWrap, b.ShutdownWrap];
    const nums = [b.SOCKET, b.kReadBytesOrError, b.kLastWriteWasAsync, b.UV_EOF];
    if (fns.some((f) => typeof f !== "function") || nums.some((n) => typeof n !== "number")) return undefined;
    if (!(b.state instanceof Int32Array)) return undefined;
    const proto = (b.TCP as { prototype: Record<string, unknown> }).prototype;
    for (const m of ["readStart", "readStop", "useUserBuffer", "writeBuffer", "shutdown", "reset", "connect"])
      if (typeof proto[m] !== "function") return undefined;
    return b as Binding;
  } catch {
    return undefined;
  }
}

const B = loadBinding();

/** Whether raw streams can be used: checked at each listener start (tests flip the variable). */
export const rawTcpAvailable = (): boolean =>
  B !== undefined && process.env.SWITCHYARD_L4_DATA_PATH !== "socket";

const errorName = (status: number) => {
  try {
    return getSystemErrorName(status);
  } catch {
    return `UV_${status}`;
  }
};

export class RawStream implements Stream {
  sink: StreamSink = NO_SINK;
  readEnded = false;
  closed = false;
  queuedWrites = 0;
  lastError = "";
  private reading = false;
  /** The sink stopped reading inside onRead: a queued write may still hold the read buffer. */
  private lent = false;
  private readonly handle: TcpHandle;
  /** The buffer the next read lands in (small, or a pooled large one while bulk data flows). */
  private buf: Buffer;
  private readonly small: Buffer;

  constructor(handle: TcpHandle) {
    this.handle = handle;
    handle[OWNER] = this;
    handle.onread = onRead;
    this.small = takeSmall();
    this.buf = this.small;
    // Reads go into our buffer from now on; a different one is named by onread's return value.
    handle.useUserBuffer(this.small);
  }

  startReading(): void {
    if (this.reading || this.readEnded || this.closed) return;
    this.reading = true;
    this.lent = false;
    this.handle.readStart();
  }

  stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    if (!this.closed) this.handle.readStop();
  }

  write(buf: Buffer): WriteResult {
    if (this.closed) return WRITTEN;
    const req = new B!.WriteWrap();
    req.handle = this.handle;
    req.oncomplete = onWritten;
    req.async = false;
    const err = this.handle.writeBuffer(req, buf);
    if (err !== 0) {
      this.lastError = errorName(err);
      return err;
    }
    if (B!.state[B!.kLastWriteWasAsync] === 0) return WRITTEN;
    req.buffer = buf; // held by libuv until oncomplete
    this.queuedWrites++;
    return QUEUED;
  }

  shutdown(): void {
    if (this.closed) return;
    const req = new B!.ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = ignore;
    this.handle.shutdown(req);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    this.handle.close();
    this.release();
  }

  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    // uv_tcp_close_reset refuses a socket whose write side is being shut down: close it plainly then.
    if (this.handle.reset() !== 0) this.handle.close();
    this.release();
  }

  local(): Address | undefined {
    const out: Partial<Address> = {};
    if (this.closed || this.handle.getsockname(out) !== 0 || !out.address) return undefined;
    return { address: out.address, port: out.port ?? 0 };
  }

  peer(): Address | undefined {
    const out: Partial<Address> = {};
    if (this.handle.getpeername(out) !== 0 || !out.address) return undefined;
    return { address: out.address, port: out.port ?? 0 };
  }

  setNoDelay(on: boolean): void {
    if (!this.closed) this.handle.setNoDelay(on);
  }

  setKeepAlive(on: boolean, delayMs: number): void {
    if (!this.closed) this.handle.setKeepAlive(on, Math.max(1, Math.floor(delayMs / 1000)));
  }

  /** A large buffer goes back to the pool unless a queued write may still hold it (then GC takes it). */
  private release(): void {
    if (this.buf !== this.small && !this.lent) giveLarge(this.buf);
    this.buf = this.small;
  }

  /**
   * Called for every read; returns the buffer for the next read when it changes. The sink stops reading while
   * its write of `buf` is queued and resumes only once that write flushed, so no read ever lands in a buffer a
   * write still holds; the one thing to avoid is handing a held large buffer to another stream via the pool.
   */
  read(n: number): Buffer | undefined {
    if (n > 0) {
      const buf = this.buf;
      this.sink.onRead(this, n, buf);
      if (this.closed) return undefined;
      if (!this.reading) this.lent = true;
      if (n === buf.length && buf.length === SMALL_BUFFER) {
        this.buf = takeLarge();
        return this.buf;
      }
      if (n <= SMALL_BUFFER && buf.length === LARGE_BUFFER && !this.lent) {
        giveLarge(buf);
        this.buf = this.small;
        return this.buf;
      }
      return undefined;
    }
    if (n === 0 || this.closed) return undefined;
    this.reading = false;
    if (n === B!.UV_EOF) {
      this.readEnded = true;
      this.sink.onEnd(this);
    } else this.sink.onError(this, errorName(n));
    return undefined;
  }

  /** Called when queued writes complete. */
  written(status: number): void {
    this.queuedWrites--;
    if (this.closed) return;
    if (status < 0) this.sink.onError(this, errorName(status));
    else if (this.queuedWrites === 0) this.sink.onWritten(this);
  }
}

// Shared callbacks (no closure per connection): `this` is the handle or the request.
function onRead(this: TcpHandle): Buffer | undefined {
  return this[OWNER]?.read(B!.state[B!.kReadBytesOrError]!);
}
function onWritten(this: WriteReq, status: number): void {
  this.buffer = undefined;
  this.handle[OWNER]?.written(status);
}
const ignore = () => {};

/**
 * Connects to an IP address (not a name: the caller resolves it) within `timeoutMs`. Rejects with an Error
 * whose message is the errno name (ECONNREFUSED, …) or "ETIMEDOUT" when the deadline passes first.
 */
export function rawConnect(
  ip: string,
  family: 4 | 6,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const handle = new B!.TCP(B!.SOCKET);
    const req = new B!.TCPConnectWrap();
    const giveUp = (code: string) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      req.oncomplete = ignore;
      handle.close();
      reject(new Error(code));
    };
    const onAbort = () => giveUp("ECANCELED");
    const timer = setTimeout(() => giveUp("ETIMEDOUT"), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    req.oncomplete = (status) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (status < 0) {
        handle.close();
        reject(new Error(errorName(status)));
      } else resolve(new RawStream(handle));
    };
    req.address = ip;
    req.port = port;
    const err = family === 6 ? handle.connect6(req, ip, port) : handle.connect(req, ip, port);
    if (err !== 0) giveUp(errorName(err));
  });
}

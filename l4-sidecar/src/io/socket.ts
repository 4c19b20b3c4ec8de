// Streams on net.Socket: the fallback when raw handles are unavailable (raw.ts). Node allocates each read's
// buffer here, so a chunk stays valid after onRead; the splice's backpressure rule is the same either way.
import type net from "node:net";
import {
  type Address,
  NO_SINK,
  QUEUED,
  type Stream,
  type StreamSink,
  WRITTEN,
  type WriteResult,
} from "./stream.ts";

export class SocketStream implements Stream {
  sink: StreamSink = NO_SINK;
  readEnded = false;
  closed = false;
  queuedWrites = 0;
  lastError = "";
  readonly socket: net.Socket;
  /** An error that arrived while nobody listened (before the splice): reported when reading starts. */
  private unreported?: string;

  /** `socket` must be paused, with allowHalfOpen. */
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.sink.onRead(this, chunk.length, chunk));
    socket.on("end", () => {
      this.readEnded = true;
      if (!this.closed) this.sink.onEnd(this);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      if (this.sink === NO_SINK) this.unreported = code;
      else if (!this.closed) this.sink.onError(this, code);
    });
  }

  startReading(): void {
    if (this.unreported !== undefined && !this.closed) {
      const code = this.unreported;
      this.unreported = undefined;
      queueMicrotask(() => this.closed || this.sink.onError(this, code));
      return;
    }
    if (!this.readEnded && !this.closed) this.socket.resume();
  }

  stopReading(): void {
    this.socket.pause();
  }

  write(buf: Buffer): WriteResult {
    if (this.closed) return WRITTEN;
    this.queuedWrites++;
    this.socket.write(buf, this.flushed);
    return this.socket.writableLength === 0 ? WRITTEN : QUEUED;
  }

  // Node calls back every write, even one it finished at once; onWritten only matters once all are out.
  private readonly flushed = (err?: Error | null) => {
    this.queuedWrites--;
    if (this.closed || err) return; // an error also arrives as an 'error' event
    if (this.queuedWrites === 0) this.sink.onWritten(this);
  };

  shutdown(): void {
    if (!this.closed) this.socket.end();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.resetAndDestroy();
  }

  local(): Address | undefined {
    const { localAddress, localPort } = this.socket;
    return localAddress ? { address: localAddress, port: localPort ?? 0 } : undefined;
  }

  setNoDelay(on: boolean): void {
    this.socket.setNoDelay(on);
  }

  setKeepAlive(on: boolean, delayMs: number): void {
    this.socket.setKeepAlive(on, delayMs);
  }
}

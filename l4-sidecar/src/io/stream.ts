// The byte stream the JavaScript TCP data path works on (when the native engine is not built, or
// SWITCHYARD_L4_DATA_PATH=raw|socket): one interface over two
// implementations, Node's raw TCP handles (raw.ts: no net.Socket, no stream machinery per connection) and
// net.Socket (socket.ts, the fallback when Node's internals differ or SWITCHYARD_L4_DATA_PATH=socket). The
// splice, the prelude reader and the connect path are written once, against this.

/** write() results: the kernel took all of it (the buffer is free again) or some is still queued. */
export const WRITTEN = 0;
export const QUEUED = 1;
/** A negative result is a write error: the code is in `Stream.lastError`. */
export type WriteResult = number;

/** Receives a stream's events. One sink at a time (the prelude reader, then the splice). */
export interface StreamSink {
  /** `n` bytes were read into `buf`; the stream reuses `buf` for its next read, so copy or write it now. */
  onRead(stream: Stream, n: number, buf: Buffer): void;
  /** The peer sent its FIN; reading has stopped. */
  onEnd(stream: Stream): void;
  /** A read or write failed (`code` like ECONNRESET). */
  onError(stream: Stream, code: string): void;
  /** Every queued write has been taken by the kernel. */
  onWritten(stream: Stream): void;
}

export interface Address {
  address: string;
  port: number;
}

export interface Stream {
  sink: StreamSink;
  /** The peer's FIN has been read. */
  readonly readEnded: boolean;
  /** close() or reset() has been called. */
  readonly closed: boolean;
  /** Writes the kernel has not taken yet. */
  readonly queuedWrites: number;
  /** The error code of the last failed write. */
  readonly lastError: string;
  startReading(): void;
  stopReading(): void;
  /** WRITTEN, QUEUED, or a negative number on error. A queued buffer must stay untouched until onWritten. */
  write(buf: Buffer): WriteResult;
  /** Sends a FIN once queued writes are out (half-close). */
  shutdown(): void;
  /** Closes the socket (FIN for a direction not yet shut). */
  close(): void;
  /** Closes with a reset (RST), so the peer learns at once that the session failed. */
  reset(): void;
  local(): Address | undefined;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, delayMs: number): void;
}

/** A sink that ignores everything: what a stream reports before anyone listens (it is paused then). */
export const NO_SINK: StreamSink = {
  onRead() {},
  onEnd() {},
  onError() {},
  onWritten() {},
};

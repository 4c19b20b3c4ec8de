// Splices a client and a backend stream: bytes both ways with backpressure (a source stops reading while its
// last chunk is queued on the destination, and resumes once that write flushed), a FIN on one side becomes a
// FIN on the other (half-close), and a reset or error on one side resets the other. Both sides closed or
// reset: `onDone` runs once with the outcome. Idle time is tracked here and enforced by the listener's sweep.
import { performance } from "node:perf_hooks";
import { QUEUED, type Stream, type StreamSink } from "./io/stream.ts";

export type CloseReason =
  | "client" // the client finished first (FIN)
  | "backend" // the backend finished first (FIN)
  | "client-reset"
  | "backend-reset"
  | "idle-timeout"
  | "shutdown"; // the sidecar ended it (drain deadline)

export interface ByteCounter {
  bytesIn: number;
  bytesOut: number;
}

export class Splice implements StreamSink {
  /** Bytes the client sent to the backend. */
  bytesIn = 0;
  /** Bytes the backend sent to the client. */
  bytesOut = 0;
  closedBy?: CloseReason;
  error?: string;
  /** performance.now() of the last read on either side. */
  lastActive = performance.now();
  done = false;
  readonly client: Stream;
  readonly backend: Stream;
  /** Totals to bump per chunk (listener and backend stats). */
  private readonly counters: ByteCounter[];
  private readonly onDone: (s: Splice) => void;

  constructor(client: Stream, backend: Stream, counters: ByteCounter[], onDone: (s: Splice) => void) {
    this.client = client;
    this.backend = backend;
    this.counters = counters;
    this.onDone = onDone;
  }

  /** Bytes already read from the client (a PROXY header's tail, a ClientHello) count as sent by it. */
  countPrelude(n: number): void {
    this.bytesIn += n;
    for (const c of this.counters) c.bytesIn += n;
  }

  start(): void {
    this.client.sink = this;
    this.backend.sink = this;
    // A client that sent its FIN while a prelude was being read: pass it on now.
    if (this.client.readEnded) this.onEnd(this.client);
    this.client.startReading();
    this.backend.startReading();
  }

  onRead(src: Stream, n: number, buf: Buffer): void {
    this.lastActive = performance.now();
    const inbound = src === this.client;
    if (inbound) this.bytesIn += n;
    else this.bytesOut += n;
    for (const c of this.counters) {
      if (inbound) c.bytesIn += n;
      else c.bytesOut += n;
    }
    const dst = inbound ? this.backend : this.client;
    const r = dst.write(n === buf.length ? buf : buf.subarray(0, n));
    if (r === QUEUED) src.stopReading();
    else if (r < 0) this.onError(dst, dst.lastError);
  }

  onWritten(dst: Stream): void {
    if (this.done) return;
    (dst === this.client ? this.backend : this.client).startReading();
    this.finishIfComplete();
  }

  onEnd(src: Stream): void {
    if (this.done) return;
    this.closedBy ??= src === this.client ? "client" : "backend";
    const dst = src === this.client ? this.backend : this.client;
    // Both FINs seen: close outright (close() sends the FIN a shutdown() would, one syscall fewer).
    if (dst.readEnded) this.finishIfComplete();
    else dst.shutdown();
  }

  onError(s: Stream, code: string): void {
    if (this.done) return;
    if (this.closedBy === undefined) {
      this.closedBy = s === this.client ? "client-reset" : "backend-reset";
      this.error = code;
    }
    // An error on one side resets the other so the peer learns at once, as a TCP proxy should.
    s.close();
    (s === this.client ? this.backend : this.client).reset();
    this.finish();
  }

  /** Ends both sides now with a reset (drain deadline passed, or the listener is force-closed). */
  abort(reason: CloseReason): void {
    if (this.done) return;
    this.closedBy ??= reason;
    this.client.reset();
    this.backend.reset();
    this.finish();
  }

  /** No bytes either way for the idle timeout: close both sides. */
  expire(): void {
    if (this.done) return;
    this.closedBy ??= "idle-timeout";
    this.client.close();
    this.backend.close();
    this.finish();
  }

  private finishIfComplete(): void {
    const { client, backend } = this;
    if (client.readEnded && backend.readEnded && client.queuedWrites === 0 && backend.queuedWrites === 0) {
      client.close();
      backend.close();
      this.finish();
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone(this);
  }
}

// A request body that streams to the backend yet can be offered to another attempt when the first one failed
// early. workerd pulls the first chunks of a body before the connection is even up (checked in
// test/worker), so "nothing read yet" is not enough: the first REPLAY_WINDOW bytes are kept (Envoy keeps a
// retry buffer the same way) and replayed; past that window the body is streamed only and cannot be resent.

export const REPLAY_WINDOW = 64 * 1024;

export class ReplayableBody {
  private readonly source: ReadableStream<Uint8Array> | null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  private overflow = false;
  private done = false;
  /** Serializes reads from the source so two attempts' streams never interleave chunks. */
  private reading: Promise<void> = Promise.resolve();
  private readonly window: number;

  constructor(source: ReadableStream<Uint8Array> | null, window = REPLAY_WINDOW) {
    this.source = source;
    this.window = window;
  }

  /** Whether another attempt can still be given the whole body. */
  get replayable(): boolean {
    return !this.overflow;
  }

  /** A stream for one attempt (null for a request without a body). Call again only while `replayable`. */
  stream(): ReadableStream<Uint8Array> | null {
    if (this.source === null) return null;
    this.reader ??= this.source.getReader();
    let position = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            if (!this.overflow && position < this.kept.length) {
              controller.enqueue(this.kept[position++]!);
              return;
            }
            if (this.done) return controller.close();
            const chunk = await this.readNext();
            if (chunk) {
              // Past the window nothing is kept, so the chunk goes straight to this (the only live) attempt.
              if (this.overflow) return controller.enqueue(chunk);
            }
          }
        },
        cancel: (reason) => {
          // A failed attempt may be followed by another, which still needs the source; only give up past the window.
          if (this.overflow) return this.reader?.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Reads one chunk from the source into `kept` (or, past the window, returns it); undefined at the end. */
  private readNext(): Promise<Uint8Array | undefined> {
    const next = this.reading.then(async () => {
      if (this.done) return undefined;
      const { done, value } = await this.reader!.read();
      if (done) {
        this.done = true;
        return undefined;
      }
      if (!this.overflow) {
        this.keptBytes += value.byteLength;
        if (this.keptBytes > this.window) {
          this.overflow = true;
          this.kept.length = 0;
          return value;
        }
        this.kept.push(value);
        return undefined; // the caller picks it up from `kept`
      }
      return value;
    });
    this.reading = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}

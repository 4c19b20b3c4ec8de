// Gathers log lines as UTF-8 in one buffer and hands it to a destination a batch at a time. Each line is encoded
// once, into the batch; a batch of strings cost more than building its lines: joining them, then sonic-boom
// (pino's destination) measuring the chunk's UTF-8 length, encoding it to write it and encoding it again after.
export interface ByteSink {
  write(chunk: Buffer): unknown;
}

export class LineBatch {
  private buf: Buffer;
  private used = 0;
  private readonly sink: ByteSink;
  private readonly size: number;

  /** Lines go to `sink` in chunks of at most `size` bytes (a longer line alone), or on flush(). */
  constructor(sink: ByteSink, size: number) {
    this.sink = sink;
    this.size = size;
    this.buf = Buffer.allocUnsafe(size);
  }

  get pending(): boolean {
    return this.used > 0;
  }

  write(line: string): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (4 for a surrogate pair, which is 2 units).
    if (this.used + line.length * 3 > this.size) {
      this.flush();
      if (line.length * 3 > this.size) {
        this.sink.write(Buffer.from(line));
        return true;
      }
    }
    this.used += this.buf.write(line, this.used);
    return true;
  }

  /** Hands every waiting line to the sink, in order, as one chunk. */
  flush(): void {
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    // The sink may hold the chunk until its write completes: the next lines go to a new buffer.
    this.buf = Buffer.allocUnsafe(this.size);
    this.used = 0;
    this.sink.write(chunk);
  }
}

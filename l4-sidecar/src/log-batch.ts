// Gathers log lines and hands them to a destination a batch at a time. sonic-boom (pino's destination) measures
// the UTF-8 length of its whole pending buffer on every write, so at thousands of connections a second, writing
// one line at a time into an 8 KiB buffer cost more than building the line.
export interface LineSink {
  write(chunk: string): unknown;
}

export class LineBatch {
  private lines: string[] = [];
  private chars = 0;
  private readonly sink: LineSink;
  private readonly minChars: number;

  /** Lines go to `sink` once at least `minChars` characters are waiting, or on flush(). */
  constructor(sink: LineSink, minChars: number) {
    this.sink = sink;
    this.minChars = minChars;
  }

  get pending(): boolean {
    return this.lines.length > 0;
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.minChars) this.flush();
    return true;
  }

  /** Hands every waiting line to the sink, in order, as one chunk. */
  flush(): void {
    if (this.lines.length === 0) return;
    const chunk = this.lines.length === 1 ? this.lines[0]! : this.lines.join("");
    this.lines = [];
    this.chars = 0;
    this.sink.write(chunk);
  }
}

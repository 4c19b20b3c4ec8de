// Reads what a connection starts with before a backend can be chosen (a PROXY protocol header from a load
// balancer in front, a TLS ClientHello), through the client stream's own reads. Every byte read is kept: what
// follows the parsed part goes to the backend first.
import { NO_SINK, type Stream, type StreamSink } from "./io/stream.ts";

/** How long a client may take to send what the listener must read first. */
export const PRELUDE_TIMEOUT_MS = 10_000;

export type PreludeStep<T> =
  | { status: "need-more" }
  | { status: "done"; value: T }
  | { status: "invalid"; reason: string };

export type PreludeOutcome<T> =
  | { ok: true; value: T; data: Buffer }
  | { ok: false; reason: "invalid" | "timeout" | "client-closed"; detail?: string };

/** What a listener reads first, and the `closed_by` of a client whose prelude failed (on every data path). */
export type PreludeKind = "proxy" | "hello";
export function preludeCloseReason(kind: PreludeKind, why: "invalid" | "timeout" | "client-closed"): string {
  if (kind === "proxy") return why === "invalid" ? "bad-proxy-header" : why;
  return why === "invalid" ? "not-tls" : `hello-${why}`;
}

/** One look at what has arrived so far: too long, or what `parse` makes of it. */
export function preludeStep<T>(
  data: Buffer,
  parse: (data: Buffer) => PreludeStep<T>,
  maxBytes: number,
): PreludeStep<T> {
  return data.length > maxBytes ? { status: "invalid", reason: "too long" } : parse(data);
}

export function readPrelude<T>(
  client: Stream,
  initial: Buffer | undefined,
  parse: (data: Buffer) => PreludeStep<T>,
  maxBytes: number,
): Promise<PreludeOutcome<T>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = initial?.length ? [initial] : [];
    let size = initial?.length ?? 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: PreludeOutcome<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.stopReading();
      client.sink = NO_SINK;
      resolve(outcome);
    };
    /** Looks at everything so far; settles once decided. */
    const check = (): void => {
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const r = preludeStep(data, parse, maxBytes);
      if (r.status === "invalid") finish({ ok: false, reason: "invalid", detail: r.reason });
      else if (r.status === "done") finish({ ok: true, value: r.value, data });
    };
    const closed = () => finish({ ok: false, reason: "client-closed" });
    const sink: StreamSink = {
      onRead(_s, n, buf) {
        // The stream reuses its buffer for the next read: keep a copy.
        chunks.push(Buffer.from(buf.subarray(0, n)));
        size += n;
        check();
      },
      onEnd: closed, // a FIN before the prelude is complete
      onError: closed,
      onWritten() {},
    };
    if (size > 0) {
      check();
      if (settled) return;
    }
    timer = setTimeout(() => finish({ ok: false, reason: "timeout" }), PRELUDE_TIMEOUT_MS);
    client.sink = sink;
    client.startReading();
  });
}

// Structured JSON logs (pino): one line per connection, plus lifecycle events. Level from SWITCHYARD_LOG_LEVEL.
// stdout is buffered: lines go out in writes of up to 64 KiB, or every 100 ms, so a burst of short
// connections costs a few syscalls rather than one per line. flushLogs() before exiting.
import { pino } from "pino";
import { isoTime } from "../../core/iso-time.ts";
import { LineBatch } from "./log-batch.ts";

export type Logger = pino.Logger;

let stdout: ReturnType<typeof pino.destination> | undefined;

/**
 * Bytes gathered before they are written (about 250 connection lines). Each write costs a thread-pool round trip
 * whatever its size, so fewer, larger writes; lines still leave within 100 ms.
 */
const BATCH_BYTES = 64 * 1024;

// pino's isoTime, without a Date and its formatting per line.
const isoTimeField = () => `,"time":"${isoTime(Date.now())}"`;

export function createLogger(destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: process.env.SWITCHYARD_LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: isoTimeField,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destination) return pino(options, destination);
  if (!stdout) {
    // Each batch is written as soon as it is handed over (minLength 0); the batching happens before it.
    // It takes Buffers (contentMode "buffer"): the batch encodes the lines.
    const dest = pino.destination({ dest: 1, sync: false, minLength: 0, contentMode: "buffer" });
    // (sonic-boom's types name only the string form of write.)
    const writeBytes = dest.write.bind(dest) as unknown as (b: Buffer) => boolean;
    const batch = new LineBatch({ write: writeBytes }, BATCH_BYTES);
    const flush = dest.flush.bind(dest);
    const flushSync = dest.flushSync.bind(dest);
    dest.write = (line: string) => batch.write(line);
    dest.flush = (cb?: (err?: Error) => void) => {
      batch.flush();
      flush(cb);
    };
    dest.flushSync = () => {
      batch.flush();
      flushSync();
    };
    // What is gathered goes out every 100 ms, and only then: an idle sidecar makes no log syscalls.
    setInterval(() => {
      try {
        batch.flush();
      } catch {
        // stdout is closed: there is nowhere left to write.
      }
    }, 100).unref();
    stdout = dest;
  }
  return pino(options, stdout);
}

/** Writes out buffered log lines (call before the process exits). */
export function flushLogs(): void {
  try {
    stdout?.flushSync();
  } catch {
    // stdout closed or still busy (EAGAIN): nothing more we can do on the way out.
  }
}

/** The fields of the per-connection line, in the order they are written. */
export interface ConnectionLine {
  listener: string;
  client: string;
  protocol?: "udp";
  via?: string;
  sni?: string;
  service?: string;
  attempts?: number;
  connect_failures?: string[];
  backend?: string;
  bytes_in?: number;
  bytes_out?: number;
  closed_by?: string;
  error?: string;
  duration_ms?: number;
}

const S = pino.symbols;
const str = JSON.stringify;

/**
 * A string as JSON. Names, addresses and close reasons are plain ASCII, which needs only quotes; JSON.stringify
 * costs a call into the runtime per string (about a tenth of the sidecar's instructions per short connection).
 */
export function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return str(s);
  }
  return `"${s}"`;
}

/** What a line needs from its logger, read once per logger rather than through pino's symbols per line. */
interface LineParts {
  log: Logger;
  head: Record<"info" | "warn", string>;
  time: () => string;
  stream: { write(s: string): void };
  end: string;
}
let parts: LineParts | undefined;

function partsOf(log: Logger): LineParts {
  if (parts?.log === log) return parts;
  const p = log as unknown as Record<symbol, unknown>;
  const cache = p[S.lsCacheSym] as Record<number, string>;
  parts = {
    log,
    head: { info: cache[log.levels.values.info!]!, warn: cache[log.levels.values.warn!]! },
    time: p[S.timeSym] as () => string,
    stream: p[S.streamSym] as { write(s: string): void },
    end: `,"msg":"connection"${p[S.endSym] as string}`,
  };
  return parts;
}

/**
 * A string field's text (`,"key":"value"`), kept for the last value written: a listener's lines repeat its name,
 * service, backend and close reason, so most lines reuse the text instead of quoting and joining it again.
 */
class Field {
  private readonly key: string;
  private value = "";
  private text = "";
  constructor(key: string) {
    this.key = key;
  }
  of(value: string): string {
    if (value !== this.value || this.text === "") {
      this.value = value;
      this.text = `,"${this.key}":${quote(value)}`;
    }
    return this.text;
  }
}
const LISTENER = new Field("listener");
const SERVICE = new Field("service");
const BACKEND = new Field("backend");
const CLOSED_BY = new Field("closed_by");

/**
 * Writes the per-connection line exactly as `log[level](line, "connection")` would (same level, time and base
 * fields, same destination), serialized straight from the known fields. pino's generic path walks the object,
 * escapes every key and looks up serializers; at 10,000 connections/s that was about a tenth of the sidecar's
 * CPU, this is a fraction of it.
 */
export function logConnection(log: Logger, level: "info" | "warn", e: ConnectionLine): void {
  if (!log.isLevelEnabled(level)) return;
  const p = partsOf(log);
  const chindings = (log as unknown as Record<symbol, string>)[S.chindingsSym];
  let line = `${p.head[level]}${p.time()}${chindings}${LISTENER.of(e.listener)},"client":${quote(e.client)}`;
  if (e.protocol !== undefined) line += `,"protocol":${quote(e.protocol)}`;
  if (e.via !== undefined) line += `,"via":${quote(e.via)}`;
  if (e.sni !== undefined) line += `,"sni":${quote(e.sni)}`;
  if (e.service !== undefined) line += SERVICE.of(e.service);
  if (e.attempts !== undefined) line += `,"attempts":${e.attempts}`;
  if (e.connect_failures !== undefined) line += `,"connect_failures":${str(e.connect_failures)}`;
  if (e.backend !== undefined) line += BACKEND.of(e.backend);
  if (e.bytes_in !== undefined) line += `,"bytes_in":${e.bytes_in}`;
  if (e.bytes_out !== undefined) line += `,"bytes_out":${e.bytes_out}`;
  if (e.closed_by !== undefined) line += CLOSED_BY.of(e.closed_by);
  if (e.error !== undefined) line += `,"error":${quote(e.error)}`;
  if (e.duration_ms !== undefined) line += `,"duration_ms":${e.duration_ms}`;
  p.stream.write(line + p.end);
}

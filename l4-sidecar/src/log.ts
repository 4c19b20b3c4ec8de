// Structured JSON logs (pino): one line per connection, plus lifecycle events. Level from SWITCHYARD_LOG_LEVEL.
// stdout is written asynchronously: lines written while a write is in flight go out together, so a burst of
// short connections costs a few syscalls rather than one per line. flushLogs() before exiting.
import { pino } from "pino";

export type Logger = pino.Logger;

let stdout: ReturnType<typeof pino.destination> | undefined;

export function createLogger(destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: process.env.SWITCHYARD_LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destination) return pino(options, destination);
  stdout ??= pino.destination({ dest: 1, sync: false });
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

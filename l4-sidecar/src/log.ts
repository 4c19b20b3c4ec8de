// Structured JSON logs (pino): one line per connection, plus lifecycle events. Level from SWITCHYARD_LOG_LEVEL.
// stdout is buffered: lines go out in writes of at least 8 KiB, or every 100 ms, so a burst of short
// connections costs a few syscalls rather than one per line. flushLogs() before exiting.
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
  if (!stdout) {
    const dest = pino.destination({ dest: 1, sync: false, minLength: 8192 });
    // Flush what is buffered every 100 ms, and only then: an idle sidecar makes no log syscalls.
    let pending = false;
    const write = dest.write.bind(dest);
    dest.write = (line: string) => {
      pending = true;
      return write(line);
    };
    setInterval(() => {
      if (!pending) return;
      pending = false;
      // flush() throws while the destination is still opening or already closed; the next tick retries.
      try {
        dest.flush();
      } catch {
        pending = true;
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

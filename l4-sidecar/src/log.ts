// Structured JSON logs (pino): one line per connection, plus lifecycle events. Level from SWITCHYARD_LOG_LEVEL.
import { pino } from "pino";

export type Logger = pino.Logger;

export function createLogger(destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: process.env.SWITCHYARD_LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

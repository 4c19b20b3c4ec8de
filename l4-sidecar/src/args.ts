// Command-line flags of switchyard-l4.
import { parseArgs } from "node:util";
import { parseDuration } from "../../core/config/index.ts";

export const USAGE = `usage: switchyard-l4 --config <wrangler.toml|file.json> [options]

  --config <path>          config file: a wrangler.toml ([vars.SWITCHYARD]) or a JSON document
  --check                  validate the config, print a summary or every problem, and exit (1 on problems)
  --drain-timeout <dur>    on SIGTERM/SIGINT, how long open connections may finish (default 30s)
  -h, --help               this text`;

export interface CliOptions {
  config?: string;
  check: boolean;
  drainMs: number;
  help: boolean;
}

export function parseCliArgs(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      check: { type: "boolean", default: false },
      "drain-timeout": { type: "string", default: "30s" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const drainMs = parseDuration(values["drain-timeout"]);
  if (drainMs === undefined)
    throw new Error(`--drain-timeout: "${values["drain-timeout"]}" is not a duration such as "30s"`);
  return { config: values.config, check: values.check, drainMs, help: values.help };
}

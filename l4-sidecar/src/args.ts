// Command-line flags of switchyard-l4.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { parseDuration, parseHostPort } from "../../core/config/index.ts";

export const USAGE = `usage: switchyard-l4 (--config <wrangler.toml|file.json> | --config-url <url>) [options]

  --config <path>          config file: a wrangler.toml ([vars.SWITCHYARD]) or a JSON document; reloaded on
                           change and on SIGHUP
  --config-url <url>       fetch the config from a URL (e.g. the worker's admin API) and poll it with ETag
  --poll-interval <dur>    how often --config-url is polled (default 10s)
  --config-token-file <p>  file holding the bearer token for --config-url (else $SWITCHYARD_CONFIG_TOKEN);
                           the worker's admin API (GET /__switchyard/config) needs its ADMIN_TOKEN
  --check                  validate the config, print a summary or every problem, and exit (1 on problems)
  --admin <host:port>      serve the status page, /metrics, /status, /healthz and /readyz there (e.g.
                           127.0.0.1:9901)
  --admin-token-file <p>   file holding the token for the admin endpoint's POST /actions (drain, maint,
                           ready); else $SWITCHYARD_ADMIN_TOKEN; without either, actions are off
  --workers <n|auto>       processes sharing the listeners with SO_REUSEPORT (default auto: one per core
                           but one, which is left to the services beside the sidecar: a single process on
                           one or two cores; 1 runs everything in this process)
  --drain-timeout <dur>    on SIGTERM/SIGINT, how long open connections may finish (default 30s)
  --version                print the version, the Node version and the TCP data path, and exit
  -h, --help               this text

Logs are JSON lines on stdout; set SWITCHYARD_LOG_LEVEL=debug|info|warn|error (default info).`;

export interface CliOptions {
  config?: string;
  configUrl?: string;
  configTokenFile?: string;
  pollMs: number;
  check: boolean;
  admin?: { host: string; port: number };
  adminTokenFile?: string;
  workers: number;
  drainMs: number;
  help: boolean;
  version: boolean;
}

/**
 * What `--workers auto` means: a process per core the sidecar may use, but one. A sidecar shares its machine with
 * the services it fronts, and most of a proxied connection's cost is the kernel's TCP work, done on whichever
 * core sends: a process per core leaves the services none and, on a small machine, makes every process wake
 * for a share of the connections instead of one busy process taking them in batches (docs/sidecar.md).
 */
export function autoWorkers(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${flag}: "${text}" is not a duration such as "30s" or "500ms"`);
  return ms;
}

export function parseCliArgs(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      "config-url": { type: "string" },
      "poll-interval": { type: "string", default: "10s" },
      "config-token-file": { type: "string" },
      check: { type: "boolean", default: false },
      admin: { type: "string" },
      "admin-token-file": { type: "string" },
      workers: { type: "string", default: "auto" },
      "drain-timeout": { type: "string", default: "30s" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.config && values["config-url"]) throw new Error("use either --config or --config-url, not both");
  if (values["config-url"]) {
    try {
      new URL(values["config-url"]);
    } catch {
      throw new Error(`--config-url: "${values["config-url"]}" is not a URL`);
    }
  }
  let admin: CliOptions["admin"];
  if (values.admin !== undefined) {
    admin = parseHostPort(values.admin);
    if (!admin)
      throw new Error(`--admin: "${values.admin}" is not a host:port address such as 127.0.0.1:9901`);
  }
  const workers = values.workers === "auto" ? autoWorkers() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new Error(`--workers: "${values.workers}" is not a number of processes (1-256) or "auto"`);
  }
  return {
    config: values.config,
    configUrl: values["config-url"],
    configTokenFile: values["config-token-file"],
    pollMs: duration("--poll-interval", values["poll-interval"]),
    check: values.check,
    admin,
    adminTokenFile: values["admin-token-file"],
    workers,
    drainMs: duration("--drain-timeout", values["drain-timeout"]),
    help: values.help,
    version: values.version,
  };
}

// The switchyard-l4 program: parse flags, load and validate the config, then run the sidecar in this process
// (or as a primary with --workers), reload on SIGHUP / file change / URL change, drain on SIGTERM/SIGINT.
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { summarizeConfig } from "../../core/config/index.ts";
import { VERSION } from "../../core/version.ts";
import { readAdminToken, startAdmin } from "./admin.ts";
import { type CliOptions, parseCliArgs, USAGE } from "./args.ts";
import { runPrimary, runWorker } from "./cluster.ts";
import { chooseDataPath } from "./io/native.ts";
import { type Initial, loadInitial, reloadTriggers, waitForStopSignal } from "./lifecycle.ts";
import { createLogger, flushLogs, type Logger } from "./log.ts";
import { createMetrics, ReloadStats } from "./metrics.ts";
import { Reloader } from "./reload.ts";
import { Sidecar } from "./sidecar.ts";
import { type ConfigSourceReader, fileSource, urlSource } from "./source.ts";

/** `--version`: what runs, on which Node, and which TCP data path this machine gets (native when the engine loads). */
function versionLine(): string {
  let path: string;
  try {
    path = chooseDataPath();
  } catch (e) {
    path = `unavailable: ${(e as Error).message}`;
  }
  return `switchyard-l4 ${VERSION} (node ${process.version}, ${process.platform}-${process.arch}, data path: ${path})`;
}

/** Resolves with the exit code once the program is done (after shutdown for a running sidecar). */
export async function run(argv: readonly string[]): Promise<number> {
  if (cluster.isWorker) return runWorker();
  let opts: CliOptions;
  try {
    opts = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`switchyard-l4: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  if (!opts.config && !opts.configUrl) {
    process.stderr.write(`switchyard-l4: --config or --config-url is required\n${USAGE}\n`);
    return 2;
  }
  let token = process.env.SWITCHYARD_CONFIG_TOKEN;
  if (opts.configTokenFile) {
    try {
      token = readFileSync(opts.configTokenFile, "utf8").trim();
    } catch (err) {
      process.stderr.write(`switchyard-l4: --config-token-file: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const source = opts.config ? fileSource(opts.config) : urlSource(opts.configUrl!, token);
  let adminToken: string | undefined;
  try {
    adminToken = readAdminToken(opts.adminTokenFile);
  } catch (err) {
    process.stderr.write(`switchyard-l4: --admin-token-file: ${(err as Error).message}\n`);
    return 2;
  }

  const initial = await loadInitial(source);
  if (typeof initial === "string") {
    process.stderr.write(`${initial}\n`);
    return 1;
  }
  for (const w of initial.warnings) process.stderr.write(`warning: ${w}\n`);
  if (opts.check) {
    process.stdout.write(
      `${source.where}: OK (version ${initial.version})\n${summarizeConfig(initial.config)}\n`,
    );
    return 0;
  }
  const log = createLogger();
  const code = await (opts.workers > 1
    ? runPrimary(opts, source, initial, log, adminToken)
    : runSingle(opts, source, initial, log, adminToken));
  flushLogs();
  return code;
}

async function runSingle(
  opts: CliOptions,
  source: ConfigSourceReader,
  initial: Initial,
  log: Logger,
  adminToken: string | undefined,
): Promise<number> {
  const sidecar = new Sidecar(log);
  try {
    await sidecar.start(initial.config, initial.version);
  } catch (err) {
    log.error({ err: (err as Error).message }, "could not start");
    return 1;
  }
  const reloads = new ReloadStats();
  const reloader = new Reloader(source, (config, version) => sidecar.apply(config, version), reloads, log);
  reloader.version = initial.version;
  const registry = createMetrics(sidecar, reloads);
  let admin: Server | undefined;
  if (opts.admin) {
    admin = await startAdmin(opts.admin.host, opts.admin.port, {
      registry: () => registry,
      status: () => ({ ...sidecar.status(), reloads }),
      view: () => sidecar.status(),
      ready: () => !sidecar.draining && sidecar.listeners.size > 0,
      act: async (a) => sidecar.setOperator(a),
      token: adminToken,
    });
    log.info({ admin: `${opts.admin.host}:${opts.admin.port}` }, "admin endpoint listening");
  }
  const stopTriggers = reloadTriggers(opts, reloader);
  log.info(
    { listeners: initial.config.listeners.length, source: source.where, version: initial.version },
    "started",
  );

  const signal = await waitForStopSignal();
  stopTriggers();
  log.info({ signal, drain_ms: opts.drainMs }, "shutting down: no longer accepting, draining connections");
  const { forced } = await sidecar.shutdown(opts.drainMs);
  admin?.close();
  admin?.closeAllConnections();
  log.info(
    { forced },
    forced ? "drain deadline passed; reset the remaining connections" : "drained; exiting",
  );
  return 0;
}

// The switchyard-l4 program: parse flags, load the config, start listeners, and shut down on SIGTERM/SIGINT.
import { ConfigError, summarizeConfig } from "../../core/config/index.ts";
import { parseCliArgs, USAGE } from "./args.ts";
import { loadConfigFile } from "./load.ts";
import { createLogger } from "./log.ts";
import { Sidecar } from "./sidecar.ts";

/** Resolves with the exit code once the program is done (after shutdown for a running sidecar). */
export async function run(argv: readonly string[]): Promise<number> {
  let opts: ReturnType<typeof parseCliArgs>;
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
  if (!opts.config) {
    process.stderr.write(`switchyard-l4: --config is required\n${USAGE}\n`);
    return 2;
  }

  let config: Awaited<ReturnType<typeof loadConfigFile>>;
  try {
    config = await loadConfigFile(opts.config);
  } catch (err) {
    process.stderr.write(
      `${err instanceof ConfigError ? err.message : `switchyard-l4: ${(err as Error).message}`}\n`,
    );
    return 1;
  }
  if (opts.check) {
    process.stdout.write(`${opts.config}: OK\n${summarizeConfig(config)}\n`);
    return 0;
  }

  const log = createLogger();
  const sidecar = new Sidecar(log);
  try {
    await sidecar.start(config);
  } catch (err) {
    log.error({ err: (err as Error).message }, "could not start");
    return 1;
  }
  log.info({ listeners: config.listeners.length, config: opts.config }, "started");

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  log.info({ signal, drain_ms: opts.drainMs }, "shutting down: no longer accepting, draining connections");
  const { forced } = await sidecar.shutdown(opts.drainMs);
  log.info(
    { forced },
    forced ? "drain deadline passed; reset the remaining connections" : "drained; exiting",
  );
  return 0;
}

// What the single-process and the --workers runs share: the first config, the reload triggers (SIGHUP, file
// watch, URL poll) and the stop signal. Both run.ts and cluster.ts import it; neither imports the other.
import { type Config, type ConfigCheck, checkConfig, renderProblem } from "../../core/config/index.ts";
import type { CliOptions } from "./args.ts";
import { configVersion, type Reloader, watchFile } from "./reload.ts";
import type { ConfigSourceReader } from "./source.ts";

export interface Initial {
  config: Config;
  version: string;
  raw: unknown;
  /** Fields the config sets that cannot apply where it runs, rendered with their paths. */
  warnings: string[];
}

/** The first config, validated; a string with every problem when it cannot be used. */
export async function loadInitial(source: ConfigSourceReader): Promise<Initial | string> {
  let raw: unknown;
  try {
    const read = await source.read();
    raw = (read as { raw: unknown }).raw;
  } catch (err) {
    return (err as Error).name === "ConfigError"
      ? (err as Error).message
      : `${source.where}: ${(err as Error).message}`;
  }
  let checked: ConfigCheck;
  let version: string;
  try {
    checked = checkConfig(raw);
    version = configVersion(raw);
  } catch (err) {
    // The checker must report problems, not throw; if it does, the config still cannot be used.
    return `${source.where}: the config could not be checked: ${(err as Error).name}: ${(err as Error).message}`;
  }
  const { config, problems, warnings } = checked;
  if (!config) {
    return `${source.where}: the Switchyard config has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  ${renderProblem(p)}`).join("\n")}`;
  }
  return { config, version, raw, warnings: warnings.map(renderProblem) };
}

/** Installs the reload triggers (SIGHUP, file watch, URL poll); returns a function that removes them. */
export function reloadTriggers(opts: CliOptions, reloader: Reloader): () => void {
  const onHup = () => void reloader.reload("SIGHUP");
  process.on("SIGHUP", onHup);
  const stops: (() => void)[] = [() => process.off("SIGHUP", onHup)];
  if (opts.config) stops.push(watchFile(opts.config, () => void reloader.reload("file change")));
  if (opts.configUrl) {
    const timer = setInterval(() => void reloader.reload("poll"), opts.pollMs);
    timer.unref();
    stops.push(() => clearInterval(timer));
  }
  return () => {
    for (const s of stops) s();
  };
}

export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
}

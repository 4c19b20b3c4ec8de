// Reloads: read the source, validate, and only then apply. An invalid config is rejected, logged with every
// problem, counted, and the running one keeps serving; so is one that makes anything on the way throw (the
// checker, the apply), since a running sidecar must never exit because of a config. Reloads run one at a time;
// a request that arrives during one runs once more afterwards, so the last change always wins.
import { createHash } from "node:crypto";
import { watch } from "node:fs";
import path from "node:path";
import { type Config, type ConfigCheck, checkConfig, renderProblem } from "../../core/config/index.ts";
import type { Logger } from "./log.ts";
import type { ReloadStats } from "./metrics.ts";
import type { ConfigSourceReader } from "./source.ts";

export type ApplyConfig = (config: Config, version: string, raw: unknown) => Promise<Error[]>;

export type ReloadOutcome = "ok" | "unchanged" | "invalid" | "failed";

/** A short, stable version for a raw document: the first 12 hex digits of its JSON's sha256. */
export function configVersion(raw: unknown): string {
  return createHash("sha256").update(JSON.stringify(raw)).digest("hex").slice(0, 12);
}

export class Reloader {
  version = "";
  private running?: Promise<ReloadOutcome>;
  private again = false;
  private readonly source: ConfigSourceReader;
  private readonly apply: ApplyConfig;
  private readonly stats: ReloadStats;
  private readonly log: Logger;
  private readonly check: (raw: unknown) => ConfigCheck;

  constructor(
    source: ConfigSourceReader,
    apply: ApplyConfig,
    stats: ReloadStats,
    log: Logger,
    check: (raw: unknown) => ConfigCheck = checkConfig,
  ) {
    this.source = source;
    this.apply = apply;
    this.stats = stats;
    this.log = log;
    this.check = check;
  }

  /** Reloads now (or right after the reload in progress); resolves with what happened. */
  reload(reason: string): Promise<ReloadOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let outcome: ReloadOutcome;
      try {
        do {
          this.again = false;
          outcome = await this.guarded(reason);
        } while (this.again);
      } finally {
        this.running = undefined;
      }
      return outcome;
    })();
    return this.running;
  }

  /** One reload; anything thrown on the way is a failed reload, logged and counted, never a crash. */
  private async guarded(reason: string): Promise<ReloadOutcome> {
    try {
      return await this.once(reason);
    } catch (err) {
      this.stats.failed++;
      this.log.error(
        {
          reason,
          source: this.source.where,
          err: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        },
        "config reload failed; keeping the running config",
      );
      return "failed";
    }
  }

  private async once(reason: string): Promise<ReloadOutcome> {
    let raw: unknown;
    try {
      const read = await this.source.read();
      if (read.unchanged) return "unchanged";
      raw = read.raw;
    } catch (err) {
      this.stats.failed++;
      this.log.error(
        { reason, source: this.source.where, err: (err as Error).message },
        "config reload failed; keeping the running config",
      );
      return "failed";
    }
    const version = configVersion(raw);
    if (version === this.version) return "unchanged";
    const { config, problems, warnings } = this.check(raw);
    if (!config) {
      this.stats.invalid++;
      this.log.error(
        { reason, source: this.source.where, problems: problems.map(renderProblem) },
        "config rejected; keeping the running config",
      );
      return "invalid";
    }
    if (warnings.length)
      this.log.warn(
        { reason, source: this.source.where, warnings: warnings.map(renderProblem) },
        "config warnings",
      );
    const errors = await this.apply(config, version, raw);
    this.version = version;
    if (errors.length) {
      this.stats.failed++;
      this.log.error({ reason, version, errors: errors.map((e) => e.message) }, "config applied with errors");
      return "failed";
    }
    this.stats.ok++;
    this.log.info({ reason, version, source: this.source.where }, "config loaded");
    return "ok";
  }
}

/**
 * Calls `onChange` (debounced) when the config file changes. The directory is watched, not the file, to follow
 * editors that replace the file by renaming and Kubernetes ConfigMaps that swap a `..data` symlink; events for
 * other files in the directory are ignored (a config in a busy directory would otherwise be re-read constantly).
 * A reload of an unchanged document is skipped by its version.
 */
export function watchFile(file: string, onChange: () => void, debounceMs = 150): () => void {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, (_event, name) => {
    if (name !== null && name !== base && !name.startsWith("..")) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.unref();
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

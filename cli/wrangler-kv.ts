// Workers KV through wrangler (`wrangler kv key list|get`, `kv bulk put|delete`), so `switchyard push` and
// `diff` use the user's own wrangler login, environments and local state: with --local they read and write the
// same local KV that `wrangler dev` serves from (.wrangler/state, or --persist-to).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import type { KvEntry } from "../core/config/store.ts";

export interface KvTarget {
  /** The KV binding name in wrangler.toml. */
  binding: string;
  /** wrangler environment (--env). */
  env?: string;
  /** true: wrangler dev's local KV; false: the deployed namespace. */
  local: boolean;
  /** Local persistence directory, as given to `wrangler dev --persist-to`. */
  persistTo?: string;
  /** Path of the wrangler config file (default: wrangler's own lookup from the working directory). */
  wranglerConfig?: string;
}

/** The wrangler CLI script of this install (run with the running Node, as npm would). */
export function wranglerBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
}

export class WranglerKv {
  readonly target: KvTarget;
  constructor(target: KvTarget) {
    this.target = target;
  }

  get where(): string {
    const t = this.target;
    return `${t.local ? "local" : "remote"} KV ${t.binding}${t.env ? ` (env ${t.env})` : ""}`;
  }

  /**
   * A read runs a second time when wrangler failed in a way that is not the user's (no output at all, or an
   * unexpected error rather than a config or auth error): reads change nothing, and a local wrangler under load
   * has been seen to fail that way once in a while.
   */
  async #read(args: string[]): Promise<string> {
    try {
      return await this.#run(args);
    } catch (e) {
      if (!(e instanceof UnexpectedFailure)) throw e;
      return this.#run(args);
    }
  }

  /** The tail of the queue of local commands (see #run). */
  #localTail: Promise<unknown> = Promise.resolve();

  /**
   * Local commands run one at a time: each starts its own workerd on the same persisted SQLite files, and two of
   * them at once on one directory is not something wrangler promises to handle. Remote commands may overlap.
   */
  #run(args: string[]): Promise<string> {
    if (!this.target.local) return this.#spawn(args);
    const run = this.#localTail.then(() => this.#spawn(args));
    this.#localTail = run.catch(() => undefined);
    return run;
  }

  #spawn(args: string[]): Promise<string> {
    const t = this.target;
    const full = [
      wranglerBin(),
      "kv",
      ...args,
      "--binding",
      t.binding,
      t.local ? "--local" : "--remote",
      ...(t.persistTo ? ["--persist-to", t.persistTo] : []),
      ...(t.env ? ["--env", t.env] : []),
      ...(t.wranglerConfig ? ["--config", t.wranglerConfig] : []),
    ];
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        full,
        {
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false" },
        },
        (err, stdout, stderr) => {
          if (err) {
            const how = err.signal ? `killed by ${err.signal}` : `exit code ${err.code}`;
            const output = `${stderr}\n${stdout}`;
            const message = `wrangler kv ${args[0]} ${args[1]} failed (${how}):\n${wranglerError(output)}`;
            const unexpected = output.trim() === "" || output.includes(BUG_PROMPT);
            reject(unexpected ? new UnexpectedFailure(message) : new Error(message));
          } else resolve(stdout);
        },
      );
    });
  }

  /** Keys under `prefix` with their metadata. */
  async list(prefix: string): Promise<{ name: string; metadata?: unknown }[]> {
    const out = await this.#read(["key", "list", "--prefix", prefix]);
    const start = out.indexOf("[");
    return start === -1 ? [] : (JSON.parse(out.slice(start)) as { name: string; metadata?: unknown }[]);
  }

  /** The value of a key known to exist (wrangler prints "Value not found" for a missing key, so list first). */
  async get(key: string): Promise<string> {
    // wrangler prints the value followed by a newline of its own.
    const out = await this.#read(["key", "get", key, "--text"]);
    return out.endsWith("\n") ? out.slice(0, -1) : out;
  }

  async bulkPut(entries: readonly KvEntry[]): Promise<void> {
    await this.#withFile(entries, (file) => this.#run(["bulk", "put", file]));
  }

  async bulkDelete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#withFile(keys, (file) => this.#run(["bulk", "delete", file, "--force"]));
  }

  async #withFile(data: unknown, fn: (file: string) => Promise<unknown>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-kv-"));
    try {
      const file = join(dir, "entries.json");
      writeFileSync(file, JSON.stringify(data));
      await fn(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** wrangler exited without a word, or with an error it calls a possible bug of its own. */
class UnexpectedFailure extends Error {}

/** wrangler's line under an error that is not a UserError. */
const BUG_PROMPT = "If you think this is a bug";

/**
 * What wrangler said went wrong: its output from the first error line on, without colours, blank lines, the
 * bug-report prompt and the log-file pointer, so the error itself is never pushed out by the boilerplate.
 */
export function wranglerError(output: string): string {
  const lines = stripVTControlCharacters(output).split("\n");
  const start = lines.findIndex((l) => l.includes("[ERROR]"));
  const kept = lines
    .slice(start === -1 ? 0 : start)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !l.includes(BUG_PROMPT) && !l.includes("Logs were written to"));
  return kept.length === 0 ? "(no output)" : kept.slice(0, 12).join("\n");
}

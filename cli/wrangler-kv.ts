// Workers KV through wrangler (`wrangler kv key list|get`, `kv bulk put|delete`), so `switchyard push` and
// `diff` use the user's own wrangler login, environments and local state: with --local they read and write the
// same local KV that `wrangler dev` serves from (.wrangler/state, or --persist-to).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
   * A read runs a second time when wrangler died without a word (no output, killed or crashed): reads change
   * nothing, and a local wrangler under load has been seen to exit that way once in a while.
   */
  async #read(args: string[]): Promise<string> {
    try {
      return await this.#run(args);
    } catch (e) {
      if (!(e instanceof SilentExit)) throw e;
      return this.#run(args);
    }
  }

  #run(args: string[]): Promise<string> {
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
            const detail = `${stderr}\n${stdout}`.trim().split("\n").slice(-6).join("\n");
            const how = err.signal ? `killed by ${err.signal}` : `exit code ${err.code}`;
            const message = `wrangler kv ${args[0]} ${args[1]} failed (${how}):\n${detail}`;
            reject(detail === "" ? new SilentExit(message) : new Error(message));
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

/** wrangler exited without printing anything. */
class SilentExit extends Error {}

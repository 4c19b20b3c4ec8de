// The live config of this isolate: [vars.SWITCHYARD] from wrangler.toml, overridden by the document under the key
// "config" in the SWITCHYARD_KV namespace when one is there (layout in core/config/store.ts).
//
// Why this shape: KV is global and eventually consistent (a write can take up to a minute to reach every
// location), and reading it on every request would add latency. So each isolate keeps the compiled config and
// re-checks KV every `admin.refresh`: the first request of an isolate waits for the read, later re-checks run
// in the background (waitUntil) while requests keep being served from what is compiled. Only a changed
// version is parsed. A document that fails validation never takes effect: the last good config keeps serving,
// and the failure is logged once per version, counted, and shown by the admin API (GET /config/status).
//
// A deploy whose config is over the variable size limit (`switchyard deploy`) writes the document to KV as
// config:v:<n> first and deploys with SWITCHYARD_KV_VERSION = n: such a worker serves version n (or a newer
// `config`) from its first request, reading config:v:<n> while `config` still holds an older version, and
// answers 503 rather than serve the reduced var while KV cannot be read.
import { renderProblem } from "../../../core/config/errors.ts";
import { checkConfig } from "../../../core/config/parse.ts";
import { CONFIG_KEY, type VersionRecord, versionKey } from "../../../core/config/store.ts";
import type { Env } from "../env.ts";
import { ProxyError } from "../errors.ts";
import { compileRuntime, type Runtime, runtimeFor } from "../runtime.ts";

export interface LoadedConfig {
  runtime: Runtime;
  /** The document exactly as stored (JSON text), for GET /config and diffs. */
  text: string;
  /** 0 for [vars.SWITCHYARD]. */
  version: number;
  record?: VersionRecord;
  loadedAt: number;
}

export interface ConfigError {
  code: "SY_CONFIG_REJECTED" | "SY_CONFIG_KV_UNAVAILABLE";
  version?: number;
  at: string;
  problems: string[];
}

export interface ConfigStatus {
  source: "vars" | "kv";
  version: number;
  updated_at?: string;
  written_by?: string;
  loaded_at?: string;
  checked_at?: string;
  refresh_ms: number;
  kv_binding: boolean;
  reload_errors: number;
  last_error?: ConfigError;
}

const DEFAULT_REFRESH_MS = 10_000;

/** SWITCHYARD_KV_VERSION as a version number; undefined when unset or not a positive integer. */
export function pinnedVersion(env: Env | undefined): number | undefined {
  const n = Number(env?.SWITCHYARD_KV_VERSION);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export class LiveConfig {
  readonly kv: KVNamespace | undefined;
  /** The KV version this deploy must serve at least (SWITCHYARD_KV_VERSION). */
  readonly pinned: number | undefined;
  #kvConfig: LoadedConfig | undefined;
  /** Version (or, without metadata, text) of the last KV document looked at, good or bad. */
  #seen: number | string | undefined;
  #checkedAt = 0;
  #pending: Promise<void> | undefined;
  /** Rejected documents and failed KV reads so far (metrics count them from here). */
  errors = 0;
  lastError: ConfigError | undefined;
  #varsLoadedAt = Date.now();

  constructor(kv: KVNamespace | undefined, pinned?: number) {
    this.kv = kv;
    this.pinned = pinned;
  }

  /** The KV version being served; 0 when it is wrangler.toml's config. */
  get version(): number {
    return this.#kvConfig?.version ?? 0;
  }

  /**
   * The runtime to serve this request with; re-checks KV when due (in the background after the first time).
   * Synchronous unless this request has to wait for KV, so a request served from what is compiled pays for no
   * promise here; throws (or rejects with) the ProxyError of a missing or unreadable config.
   */
  runtime(env: Env, waitUntil?: (p: Promise<unknown>) => void): Runtime | Promise<Runtime> {
    if (this.kv) {
      if (this.#checkedAt === 0) return this.check().then(() => this.#serving(env));
      if (Date.now() - this.#checkedAt >= this.refreshMs(env) && !this.#pending) {
        const p = this.check();
        if (!waitUntil) return p.then(() => this.#serving(env));
        waitUntil(p);
      }
    }
    return this.#serving(env);
  }

  #serving(env: Env): Runtime {
    if (this.#kvConfig) return this.#kvConfig.runtime;
    if (this.pinned !== undefined) {
      throw new ProxyError(
        "SY_CONFIG_KV_UNAVAILABLE",
        `this deploy serves config version ${this.pinned} from SWITCHYARD_KV, which could not be read yet`,
        { retryable: true, details: this.lastError ? { problems: this.lastError.problems } : undefined },
      );
    }
    return runtimeFor(env.SWITCHYARD);
  }

  /** What is being served: the KV document, or the vars one. Throws the vars config's ProxyError if neither. */
  loaded(env: Env): LoadedConfig {
    if (this.#kvConfig) return this.#kvConfig;
    const raw = env.SWITCHYARD;
    const runtime = runtimeFor(raw);
    const text = typeof raw === "string" ? raw : `${JSON.stringify(raw, null, 2)}\n`;
    return { runtime, text, version: 0, loadedAt: this.#varsLoadedAt };
  }

  refreshMs(env: Env): number {
    if (this.#kvConfig) return this.#kvConfig.runtime.config.admin.refresh;
    try {
      return runtimeFor(env.SWITCHYARD).config.admin.refresh;
    } catch {
      return DEFAULT_REFRESH_MS;
    }
  }

  status(env: Env): ConfigStatus {
    const kv = this.#kvConfig;
    return {
      source: kv ? "kv" : "vars",
      version: kv?.version ?? 0,
      updated_at: kv?.record?.updated_at,
      written_by: kv?.record?.source,
      loaded_at: new Date(kv?.loadedAt ?? this.#varsLoadedAt).toISOString(),
      checked_at: this.#checkedAt ? new Date(this.#checkedAt).toISOString() : undefined,
      refresh_ms: this.refreshMs(env),
      kv_binding: this.kv !== undefined,
      reload_errors: this.errors,
      last_error: this.lastError,
    };
  }

  /** Reads the KV document (one read), and compiles it when its version is new. Never throws. */
  check(): Promise<void> {
    this.#pending ??= this.#check().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #check(): Promise<void> {
    let value: string | null;
    let metadata: VersionRecord | null;
    try {
      // cacheTtl: the shortest edge cache KV allows (default 60 s), so a write reaches every location sooner.
      ({ value, metadata } = await this.kv!.getWithMetadata<VersionRecord>(CONFIG_KEY, {
        type: "text",
        cacheTtl: 30,
      }));
    } catch (e) {
      this.#checkedAt = Date.now();
      this.#fail({
        code: "SY_CONFIG_KV_UNAVAILABLE",
        at: new Date().toISOString(),
        problems: [`reading "${CONFIG_KEY}" from SWITCHYARD_KV failed: ${(e as Error).message}`],
      });
      return;
    }
    this.#checkedAt = Date.now();
    const version = Number.isInteger(metadata?.version) ? metadata!.version : undefined;
    if (this.pinned !== undefined && (value === null || (version ?? 0) < this.pinned)) {
      return this.#checkPinned(this.pinned);
    }
    if (value === null) {
      // Nobody wrote a document (or it was deleted): wrangler.toml's config is the live one again.
      this.#kvConfig = undefined;
      this.#seen = undefined;
      return;
    }
    const identity = version ?? value;
    if (identity === this.#seen) return;
    this.#seen = identity;
    this.apply(value, version === undefined ? undefined : metadata!);
  }

  /** `config` is older than the deployed version: serve the deploy's own copy, config:v:<pinned>. */
  async #checkPinned(pinned: number): Promise<void> {
    if (this.#seen === pinned) return;
    const key = versionKey(pinned);
    let value: string | null;
    let metadata: VersionRecord | null;
    try {
      ({ value, metadata } = await this.kv!.getWithMetadata<VersionRecord>(key, {
        type: "text",
        cacheTtl: 30,
      }));
    } catch (e) {
      value = null;
      metadata = null;
      this.#fail({
        code: "SY_CONFIG_KV_UNAVAILABLE",
        version: pinned,
        at: new Date().toISOString(),
        problems: [`reading "${key}" from SWITCHYARD_KV failed: ${(e as Error).message}`],
      });
      return;
    }
    if (value === null) {
      this.#fail({
        code: "SY_CONFIG_KV_UNAVAILABLE",
        version: pinned,
        at: new Date().toISOString(),
        problems: [`SWITCHYARD_KV has no "${key}", the version this deploy serves (SWITCHYARD_KV_VERSION)`],
      });
      return;
    }
    this.#seen = pinned;
    this.apply(value, {
      version: pinned,
      updated_at: metadata?.updated_at ?? "",
      source: metadata?.source ?? "deploy",
    });
  }

  /**
   * Validates and, when valid, serves `text` at once. Used by the KV re-check and by PUT /config (which has just
   * written the document and should not wait for the next re-check). Returns the problems when invalid.
   */
  apply(text: string, record?: VersionRecord): { ok: true } | { ok: false; problems: string[] } {
    const { config, problems, warnings } = checkConfig(text);
    const version = record?.version ?? (this.#kvConfig?.version ?? 0) + 1;
    const reject = (lines: string[]) => {
      this.#fail({ code: "SY_CONFIG_REJECTED", version, at: new Date().toISOString(), problems: lines });
      return { ok: false as const, problems: lines };
    };
    if (!config) return reject(problems.map(renderProblem));
    let runtime: Runtime;
    try {
      runtime = compileRuntime(config);
    } catch (e) {
      // A checked config that still fails to compile is a bug, but it must not take the isolate's config down.
      return reject([`the config passed its checks but could not be compiled: ${(e as Error).message}`]);
    }
    if (warnings.length > 0) {
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "switchyard config warnings",
          version,
          warnings: warnings.map(renderProblem),
        }),
      );
    }
    this.#kvConfig = { runtime, text, version, record, loadedAt: Date.now() };
    this.#seen = record?.version ?? text;
    console.log(JSON.stringify({ level: "info", msg: "switchyard config loaded from KV", version }));
    return { ok: true };
  }

  /** Serves wrangler.toml's config again at once (a rollback to version 0 has removed the KV document). */
  useVars(): void {
    this.#kvConfig = undefined;
    this.#seen = undefined;
    console.log(
      JSON.stringify({ level: "info", msg: "switchyard config: serving wrangler.toml's config (version 0)" }),
    );
  }

  #fail(error: ConfigError): void {
    this.errors++;
    this.lastError = error;
    const keeping = this.#kvConfig ? `KV version ${this.#kvConfig.version}` : "the wrangler.toml config";
    console.error(
      JSON.stringify({
        level: "error",
        msg: `switchyard config not applied; still serving ${keeping}`,
        ...error,
      }),
    );
  }
}

const states = new WeakMap<object, LiveConfig>();
const NO_KV = {};

/** This isolate's LiveConfig for the env's KV namespace (one per namespace object). */
export function liveConfig(env: Env | undefined): LiveConfig {
  const kv = env?.SWITCHYARD_KV;
  const key = kv ?? NO_KV;
  let state = states.get(key);
  if (!state) {
    state = new LiveConfig(kv, pinnedVersion(env));
    states.set(key, state);
  }
  return state;
}

/** The runtime for a request (see LiveConfig.runtime); throws the ProxyError of a missing or invalid config. */
export function liveRuntime(
  env: Env | undefined,
  waitUntil?: (p: Promise<unknown>) => void,
): Runtime | Promise<Runtime> {
  if (!env?.SWITCHYARD_KV) return runtimeFor(env?.SWITCHYARD);
  return liveConfig(env).runtime(env, waitUntil);
}

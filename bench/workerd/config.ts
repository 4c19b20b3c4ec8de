// Writes a workerd capnp config for one bench variant: the production bundle with the bindings that
// wrangler.toml declares (vars, Durable Objects in memory, KV always empty, Analytics Engine left unbound), or
// the pass-through worker. The global outbound may reach 127.0.0.1, where the nginx backend listens.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";

const here = dirname(fileURLToPath(import.meta.url));

export interface WranglerInfo {
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, unknown>;
  durableObjects: { binding: string; className: string; sql: boolean }[];
  kvBindings: string[];
  /** Left unbound: workerd turns every data point into an HTTP request to a service, which costs far more than
   * the production runtime's buffered write and would halve the measured throughput. */
  analyticsBindings: string[];
  /** Binding kinds in wrangler.toml that the bench cannot provide under plain workerd. */
  unsupported: string[];
}

const SUPPORTED = new Set([
  "name",
  "main",
  "compatibility_date",
  "compatibility_flags",
  "vars",
  "durable_objects",
  "migrations",
  "kv_namespaces",
  "analytics_engine_datasets",
  "account_id",
  "workers_dev",
  "routes",
  "route",
  "observability",
  "minify",
  "keep_names",
  "upload_source_maps",
  "build",
  "env",
  "dev",
  "no_bundle",
  "rules",
  "find_additional_modules",
  "base_dir",
  "placement",
  "limits",
  "triggers",
  "preview_urls",
]);

export function readWrangler(path: string): WranglerInfo {
  const doc = parseToml(readFileSync(path, "utf8")) as Record<string, unknown>;
  const dos = ((doc.durable_objects as { bindings?: unknown[] } | undefined)?.bindings ?? []) as {
    name: string;
    class_name: string;
    script_name?: string;
  }[];
  const sqlClasses = new Set(
    ((doc.migrations ?? []) as { new_sqlite_classes?: string[] }[]).flatMap(
      (m) => m.new_sqlite_classes ?? [],
    ),
  );
  return {
    main: String(doc.main ?? "src/index.ts"),
    compatibilityDate: String(doc.compatibility_date ?? "2025-01-01"),
    compatibilityFlags: (doc.compatibility_flags ?? []) as string[],
    vars: (doc.vars ?? {}) as Record<string, unknown>,
    durableObjects: dos
      .filter((d) => d.script_name === undefined)
      .map((d) => ({ binding: d.name, className: d.class_name, sql: sqlClasses.has(d.class_name) })),
    kvBindings: ((doc.kv_namespaces ?? []) as { binding: string }[]).map((k) => k.binding),
    analyticsBindings: ((doc.analytics_engine_datasets ?? []) as { binding: string }[]).map((a) => a.binding),
    unsupported: Object.keys(doc).filter((k) => !SUPPORTED.has(k)),
  };
}

/** The bundle's modules, entry first: every .js/.mjs (ES module), .wasm, .txt, .bin file in the dist dir. */
export function bundleModules(dist: string, main: string): { name: string; path: string; kind: string }[] {
  const entryBase = basename(main, extname(main));
  const files = readdirSync(dist, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dist, join(e.parentPath, e.name)));
  const kindOf = (f: string) =>
    ({ ".js": "esModule", ".mjs": "esModule", ".wasm": "wasm", ".txt": "text", ".bin": "data" })[extname(f)];
  const mods = files
    .filter((f) => kindOf(f) !== undefined)
    .map((f) => ({ name: f, path: join(dist, f), kind: kindOf(f)! }));
  const entry =
    mods.find((m) => m.kind === "esModule" && basename(m.name, extname(m.name)) === entryBase) ??
    mods.find((m) => m.kind === "esModule");
  if (!entry) throw new Error(`no JavaScript module in ${dist}`);
  return [entry, ...mods.filter((m) => m !== entry)];
}

const text = (s: string) => JSON.stringify(s);

function binding(name: string, value: unknown): string {
  if (typeof value === "string") return `(name = ${text(name)}, text = ${text(value)})`;
  return `(name = ${text(name)}, json = ${text(JSON.stringify(value))})`;
}

export interface SwitchyardVariant {
  file: string;
  port: number;
  wrangler: WranglerInfo;
  modules: { name: string; path: string; kind: string }[];
  /** Replaces vars.SWITCHYARD. */
  switchyard: unknown;
  /** Where SQLite-backed Durable Objects keep their files; default: a fresh directory on tmpfs. */
  doDir?: string;
  /** V8 flags for workerd (scripts/count-worker-instructions.ts runs V8 single-threaded). */
  v8Flags?: string[];
}

/** The config's v8Flags line, or nothing. */
const v8FlagsLine = (flags: string[] | undefined) =>
  flags?.length ? `\n  v8Flags = [${flags.map(text).join(", ")}],` : "";

let shmRoot: string | undefined;
/** workerd's inMemory storage has no SQLite, so SQLite-backed classes get a directory on tmpfs (memory all
 * the same), removed when the bench exits. */
function tmpfsDir(name: string): string {
  if (shmRoot === undefined) {
    const root = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "switchyard-bench-"));
    process.on("exit", () => rmSync(root, { recursive: true, force: true }));
    shmRoot = root;
  }
  const dir = join(shmRoot, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Secrets the worker reads (set with `wrangler secret put` in production); the bench uses throwaway values. */
export const BENCH_SECRETS: Record<string, string> = {
  STICKY_SECRET: "bench-only-sticky-secret-0123456789abcdef",
};

export function writeSwitchyardConfig(v: SwitchyardVariant): void {
  const dir = dirname(v.file);
  const vars = { ...BENCH_SECRETS, ...v.wrangler.vars, SWITCHYARD: v.switchyard };
  const bindings = [
    ...Object.entries(vars).map(([k, val]) => binding(k, val)),
    ...v.wrangler.durableObjects.map(
      (d) => `(name = ${text(d.binding)}, durableObjectNamespace = ${text(d.className)})`,
    ),
    ...v.wrangler.kvBindings.map((k) => `(name = ${text(k)}, kvNamespace = "stub")`),
  ];
  const classes = [...new Map(v.wrangler.durableObjects.map((d) => [d.className, d])).values()];
  const namespaces = classes.map(
    (d) =>
      `(className = ${text(d.className)}, uniqueKey = ${text(`bench-${d.className}`)}${d.sql ? ", enableSql = true" : ""})`,
  );
  const sql = classes.some((d) => d.sql);
  const storage = sql ? `(localDisk = "do-storage")` : "(inMemory = void)";
  const doDir = sql ? (v.doDir ?? tmpfsDir(basename(v.file, ".capnp"))) : "";
  const storageService = sql
    ? `\n    (name = "do-storage", disk = (path = ${text(doDir)}, writable = true)),`
    : "";
  const modules = v.modules.map(
    (m) => `(name = ${text(m.name)}, ${m.kind} = embed ${text(relative(dir, m.path))})`,
  );
  writeFileSync(
    v.file,
    `# Generated by bench/workerd/config.ts from wrangler.toml: Switchyard under plain workerd.
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (${v8FlagsLine(v.v8Flags)}
  services = [
    (name = "main", worker = .main),
    (name = "stub", worker = .stub),${storageService}
    ${INTERNET},
  ],
  sockets = [(name = "http", address = "127.0.0.1:${v.port}", http = (), service = "main")],
);
const main :Workerd.Worker = (
  modules = [
    ${modules.join(",\n    ")}
  ],
  compatibilityDate = ${text(v.wrangler.compatibilityDate)},
  compatibilityFlags = [${v.wrangler.compatibilityFlags.map(text).join(", ")}],
  bindings = [
    ${bindings.join(",\n    ")}
  ],
  durableObjectNamespaces = [${namespaces.join(", ")}],
  durableObjectStorage = ${storage},
  globalOutbound = "internet",
);
const stub :Workerd.Worker = (
  modules = [(name = "stub.js", esModule = embed ${text(relative(dir, join(here, "stub.js")))})],
  compatibilityDate = "2024-01-01",
);
`,
  );
}

const INTERNET = `(name = "internet", network = (allow = ["public", "private", "local"]))`;

export function writePassthroughConfig(
  file: string,
  port: number,
  backend: string,
  compatibilityDate: string,
  v8Flags?: string[],
  script: "passthrough.js" | "floor.js" = "passthrough.js",
): void {
  writeFileSync(
    file,
    `# Generated by bench/workerd/config.ts: ${script === "floor.js" ? "the floor under the realistic config" : "the pass-through baseline"} under plain workerd.
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (${v8FlagsLine(v8Flags)}
  services = [(name = "main", worker = .main), ${INTERNET}],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const main :Workerd.Worker = (
  modules = [(name = ${text(script)}, esModule = embed ${text(relative(dirname(file), join(here, script)))})],
  compatibilityDate = ${text(compatibilityDate)},
  bindings = [(name = "BACKEND", text = ${text(backend)})],
  globalOutbound = "internet",
);
`,
  );
}

// `switchyard deploy`: from a checked config to a running worker, through the user's own wrangler. It checks the
// config, enforces Cloudflare's documented limits before anything is uploaded, and picks how the config travels:
//
//   var  the SWITCHYARD var as written (it fits in 5 KB, and KV holds no live document that would override it):
//        one `wrangler deploy`, which replaces code and config together or not at all.
//   kv   over the variable limit, or a worker whose KV already serves a document: the document is written as
//        config:v:<n> and read back; then the worker is deployed with SWITCHYARD_KV_VERSION = n (it serves that
//        version from its first request, see worker/src/config-source/live.ts) and SWITCHYARD reduced to what
//        fits; then `config` and the history are moved to n, as `switchyard push` writes them.
//
// A failure before the worker upload leaves everything as it was (the copy is removed); a failure after it
// leaves the new worker serving its own version from config:v:<n>. docs/deploy.md describes each case.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { renderProblem } from "../core/config/errors.ts";
import { checkConfig } from "../core/config/parse.ts";
import { envBlock, isWranglerConfig, parseDocument, switchyardVar } from "../core/config/source.ts";
import { documentText, planWrite, versionKey } from "../core/config/store.ts";
import { kib, LIMITS, type Plan, varBytes } from "./cloudflare-limits.ts";
import { defaultConfigFile } from "./config-file.ts";
import { type Live, readLive } from "./push.ts";
import { WranglerKv, wranglerBin } from "./wrangler-kv.ts";

export const DEPLOY_USAGE = `  deploy         check the config, enforce Cloudflare's limits, and deploy the worker with wrangler; a config
                 over the 5 KB variable limit goes through Workers KV first (docs/deploy.md)
                 options: --env <name>   wrangler environment
                          --dry-run      check and bundle; upload nothing and contact no API
                          --config <file>  wrangler config (default: the one in this directory)
                          --plan free|paid  limits to enforce (default free)
                          --binding <name>  KV binding of the live config (default SWITCHYARD_KV)
`;

/** The var the worker gets in kv mode: the pinned version. */
export const PIN_VAR = "SWITCHYARD_KV_VERSION";

type Doc = Record<string, unknown>;

interface Target {
  file: string;
  env?: string;
  /** The vars wrangler uploads for this environment (vars are not inherited into environments). */
  vars: Doc;
  raw: unknown;
  keep: number;
  /** The KV binding of the live config, when this environment declares it. */
  kvBinding?: string;
}

class DeployError extends Error {}

const isObject = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);

function loadTarget(file: string, env: string | undefined, binding: string): Target {
  const doc = parseDocument(readFileSync(file, "utf8"), file);
  if (!isWranglerConfig(doc, file)) {
    throw new DeployError(
      `${file} is not a wrangler config (wrangler.toml, wrangler.json or wrangler.jsonc)`,
    );
  }
  const block = env ? envBlock(doc, env) : doc;
  if (!block) throw new DeployError(`${file} has no environment "${env}" (env.${env})`);
  const value = switchyardVar(block);
  if (value === undefined) {
    throw new DeployError(
      env
        ? `${file}: env.${env} has no vars.SWITCHYARD. wrangler does not inherit vars into an environment, so ` +
            `the worker would have no config: give [env.${env}.vars.SWITCHYARD] its own`
        : `${file} has no vars.SWITCHYARD to deploy`,
    );
  }
  const raw = typeof value === "string" ? JSON.parse(value) : value;
  const result = checkConfig(raw);
  for (const w of result.warnings) console.error(`warning: ${renderProblem(w)}`);
  if (!result.config) {
    const lines = result.problems.map((p) => `  ✖ ${renderProblem(p)}`);
    throw new DeployError(
      `${file}: ${result.problems.length} problem(s); nothing was deployed:\n${lines.join("\n")}`,
    );
  }
  checkAssets(file, block.assets ?? doc.assets);
  const kv = (Array.isArray(block.kv_namespaces) ? block.kv_namespaces : []) as Doc[];
  return {
    file,
    env,
    vars: block.vars as Doc,
    raw,
    keep: result.config.admin.history,
    kvBinding: kv.some((n) => isObject(n) && n.binding === binding) ? binding : undefined,
  };
}

/**
 * The dashboard page is a static asset. Without run_worker_first a path that names an asset (/dashboard.html) would
 * be answered by Cloudflare on every host the worker serves, past routes, WAF and rate limits: refused. Without
 * the ASSETS binding only the page is missing: a warning.
 */
function checkAssets(file: string, assets: unknown): void {
  if (assets === undefined) {
    console.error(
      `warning: ${file} has no [assets] binding "ASSETS": the admin dashboard (GET <admin prefix>/) will answer ` +
        `404 SY_ADMIN_NO_DASHBOARD; the admin API works (docs/admin.md)`,
    );
    return;
  }
  if (!isObject(assets) || assets.run_worker_first !== true) {
    throw new DeployError(
      `${file}: [assets] without run_worker_first = true would let Cloudflare answer requests for its files ` +
        `before the balancer sees them; set run_worker_first = true (docs/admin.md)`,
    );
  }
  if (assets.binding !== "ASSETS") {
    console.error(
      `warning: ${file}: [assets] binding is ${JSON.stringify(assets.binding)}, not "ASSETS": the admin ` +
        `dashboard will answer 404 SY_ADMIN_NO_DASHBOARD (docs/admin.md)`,
    );
  }
}

interface LimitCheck {
  /** The config is over the variable limit: it can only travel through KV. */
  tooBig: boolean;
  configBytes: number;
  problems: string[];
  notes: string[];
}

/** Every documented limit that can be known before an upload, for the vars, the bundle and the config. */
function checkLimits(t: Target, plan: Plan, bundleGzip: number, compileMs: number): LimitCheck {
  const limits = LIMITS[plan];
  const problems: string[] = [];
  const notes: string[] = [];
  const configBytes = varBytes(t.vars.SWITCHYARD);
  const tooBig = configBytes > limits.varBytes;
  for (const [name, value] of Object.entries(t.vars)) {
    if (name !== "SWITCHYARD" && varBytes(value) > limits.varBytes) {
      problems.push(
        `vars.${name} is ${kib(varBytes(value))}; Cloudflare refuses a variable over ${kib(limits.varBytes)}`,
      );
    }
  }
  const count = Object.keys(t.vars).length + (tooBig || t.kvBinding ? 1 : 0);
  if (count > limits.vars) {
    problems.push(`${count} variables; the ${plan} plan allows ${limits.vars} (secrets count too)`);
  }
  if (tooBig && !t.kvBinding) {
    problems.push(
      `vars.SWITCHYARD is ${kib(configBytes)}, over Cloudflare's ${kib(limits.varBytes)} variable limit, and there is ` +
        `no KV binding to carry it: add [[kv_namespaces]] binding = "SWITCHYARD_KV" (docs/deploy.md)`,
    );
  }
  if (bundleGzip > limits.bundleGzipBytes) {
    problems.push(
      `the worker is ${kib(bundleGzip)} gzipped; the ${plan} plan allows ${kib(limits.bundleGzipBytes)}`,
    );
  }
  notes.push(`config: ${kib(configBytes)} (variable limit ${kib(limits.varBytes)})`);
  notes.push(`worker: ${kib(bundleGzip)} gzipped (${plan} plan limit ${kib(limits.bundleGzipBytes)})`);
  // Startup does no config work (the config is compiled on an isolate's first request), so what can be
  // estimated here is the first request's extra CPU: validating the config, timed on this machine.
  notes.push(
    `first request of an isolate: ~${compileMs.toFixed(1)} ms CPU here to validate the config ` +
      `(${plan} plan: ${limits.requestCpuMs} ms CPU per request; startup limit ${limits.startupMs} ms)`,
  );
  if (compileMs > limits.requestCpuMs) {
    notes.push(
      `warning: validating this config took longer here than the ${plan} plan's CPU time per request; ` +
        "a fresh isolate's first request may be cut off",
    );
  }
  return { tooBig, configBytes, problems, notes };
}

/**
 * Runs wrangler with the running Node and resolves with its exit code. Its output goes to the terminal, or with
 * `quiet` is kept and shown only when it fails.
 */
function wrangler(args: string[], quiet = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin(), ...args], {
      stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false" },
    });
    const output: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => output.push(b));
    child.stderr?.on("data", (b: Buffer) => output.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0 && quiet) process.stderr.write(Buffer.concat(output));
      resolve(code ?? 1);
    });
  });
}

const envArgs = (t: Target) => [...(t.env ? ["--env", t.env] : []), "--config", t.file];

/** Bundles the worker as `wrangler deploy` would (--dry-run --outdir) and returns its gzipped size. */
async function bundleSize(t: Target): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-deploy-"));
  try {
    const code = await wrangler(["deploy", "--dry-run", "--outdir", dir, ...envArgs(t)], true);
    if (code !== 0)
      throw new DeployError("bundling the worker failed (wrangler deploy --dry-run); nothing was deployed");
    let gzip = 0;
    for (const f of readdirSync(dir)) {
      const path = join(dir, f);
      if (statSync(path).isFile() && !f.endsWith(".map"))
        gzip += gzipSync(readFileSync(path), { level: 9 }).length;
    }
    return gzip;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeValidation(raw: unknown): number {
  const runs = [0, 1, 2].map(() => {
    const start = performance.now();
    checkConfig(raw);
    return performance.now() - start;
  });
  return runs.sort((a, b) => a - b)[1]!;
}

export async function deploy(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: "string", short: "e" },
      "dry-run": { type: "boolean", default: false },
      config: { type: "string", short: "c" },
      plan: { type: "string", default: "free" },
      binding: { type: "string", default: "SWITCHYARD_KV" },
    },
  });
  if (values.plan !== "free" && values.plan !== "paid") {
    throw new DeployError(`--plan: "${values.plan}" is not free or paid`);
  }
  const plan: Plan = values.plan;
  const t = loadTarget(values.config ?? defaultConfigFile(), values.env, values.binding);
  const where = `${t.file}${t.env ? ` (env ${t.env})` : ""}`;
  console.log(`1. ${where}: config OK`);

  const limits = checkLimits(t, plan, await bundleSize(t), timeValidation(t.raw));
  for (const n of limits.notes) console.log(`   ${n}`);
  if (limits.problems.length > 0) {
    throw new DeployError(
      `over Cloudflare's limits; nothing was deployed:\n${limits.problems.map((p) => `  ✖ ${p}`).join("\n")}`,
    );
  }
  console.log("2. within Cloudflare's limits");

  if (values["dry-run"]) {
    console.log(
      limits.tooBig
        ? `dry run: the config would be written to KV (${t.kvBinding}) first, and the worker deployed pinned to it`
        : "dry run: the worker would be deployed with the config as its SWITCHYARD variable" +
            (t.kvBinding ? ` (or through KV, if ${t.kvBinding} already holds a live config document)` : ""),
    );
    return 0;
  }

  const kv = t.kvBinding
    ? new WranglerKv({ binding: t.kvBinding, env: t.env, local: false, wranglerConfig: t.file })
    : undefined;
  const live = kv ? await readLive(kv) : undefined;
  if (!limits.tooBig && live?.doc === undefined) {
    console.log("3. deploying the worker with the config as its SWITCHYARD variable");
    if ((await wrangler(["deploy", ...envArgs(t)])) !== 0) {
      throw new DeployError("wrangler deploy failed; the previous worker and its config are still live");
    }
    console.log(`deployed ${where}: the worker serves vars.SWITCHYARD`);
    return 0;
  }
  return deployThroughKv(t, kv!, live!, limits);
}

async function deployThroughKv(t: Target, kv: WranglerKv, live: Live, limits: LimitCheck): Promise<number> {
  const text = documentText(t.raw);
  const write = planWrite(text, live.history, t.keep, "switchyard deploy", live.version);
  const n = write.record.version;
  const copy = versionKey(n);
  const why = limits.tooBig
    ? `it is ${kib(limits.configBytes)}, over the variable limit`
    : `${kv.where} already serves version ${live.version}, which would override the variable`;
  console.log(`3. writing the config to ${kv.where} as ${copy} (${why})`);
  await kv.bulkPut([{ key: copy, value: text, metadata: write.record }]);
  const back = await kv.get(copy).catch(() => undefined);
  if (back !== text) {
    await kv.bulkDelete([copy]).catch(() => {});
    throw new DeployError(`${copy} did not read back as written; nothing was deployed`);
  }

  // SWITCHYARD keeps the config when it fits; otherwise only the admin section (prefix, refresh), which the
  // admin API needs even before KV answers. The worker serves KV version n either way.
  const reduced = limits.tooBig ? (isObject(t.raw) && t.raw.admin ? { admin: t.raw.admin } : {}) : t.raw;
  console.log(`4. deploying the worker pinned to version ${n} (${PIN_VAR}=${n})`);
  const code = await wrangler([
    "deploy",
    ...envArgs(t),
    "--var",
    `SWITCHYARD:${JSON.stringify(reduced)}`,
    "--var",
    `${PIN_VAR}:${n}`,
  ]);
  if (code !== 0) {
    await kv.bulkDelete([copy]).catch(() => {});
    throw new DeployError(
      `wrangler deploy failed; the previous worker is still live with its config` +
        (live.doc === undefined ? "" : ` (KV version ${live.version})`) +
        `, and ${copy} was removed`,
    );
  }

  console.log(`5. making version ${n} the live config in ${kv.where}`);
  try {
    await kv.bulkPut(write.put.filter((e) => e.key !== copy));
    await kv.bulkDelete(write.remove);
  } catch (e) {
    throw new DeployError(
      `the worker is deployed and serves version ${n} from ${copy}, but moving "config" to it failed ` +
        `(${(e as Error).message.split("\n")[0]}). Run \`switchyard push ${t.file}${t.env ? ` --env ${t.env}` : ""}\` to finish.`,
    );
  }
  console.log(
    `deployed ${t.file}${t.env ? ` (env ${t.env})` : ""}: the worker serves version ${n} from ${kv.where}`,
  );
  return 0;
}

/** DeployError messages are for the user as they are; anything else is prefixed by the caller. */
export function deployFailure(e: unknown): string {
  return e instanceof DeployError ? e.message : `deploy failed: ${(e as Error).message}`;
}

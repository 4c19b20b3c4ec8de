// `switchyard push` and `switchyard diff`: the local config (a wrangler config's SWITCHYARD var, or a JSON file)
// against the live document in Workers KV. push validates, then writes a new version with the same entries as
// the admin API's PUT /config (core/config/store.ts); diff only shows what push would change.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { diffConfig, renderChanges } from "../core/config/diff.ts";
import { ConfigError, renderProblem } from "../core/config/errors.ts";
import { checkConfig } from "../core/config/parse.ts";
import { configFromText, isWranglerFile } from "../core/config/source.ts";
import {
  CONFIG_KEY,
  documentText,
  HISTORY_KEY,
  parseHistory,
  planWrite,
  type VersionRecord,
} from "../core/config/store.ts";
import { defaultConfigFile } from "./config-file.ts";
import { WranglerKv } from "./wrangler-kv.ts";

export const PUSH_USAGE = `  push [file]    validate the config and write it to Workers KV as the next live version
  diff [file]    show what push would change in the live config
                 options: --env <name>   wrangler environment (its [env.<name>.vars.SWITCHYARD] if it has one)
                          --local        wrangler dev's local KV (default: the deployed namespace)
                          --persist-to <dir>  local state directory, as for wrangler dev --persist-to
                          --binding <name>    KV binding (default SWITCHYARD_KV)
                          --wrangler-config <file>  wrangler config to find the binding in
                          --force (push)  write even when nothing changed
`;

interface Options {
  file: string;
  env?: string;
  kv: WranglerKv;
  force: boolean;
}

function options(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      env: { type: "string", short: "e" },
      local: { type: "boolean", default: false },
      remote: { type: "boolean", default: false },
      "persist-to": { type: "string" },
      binding: { type: "string", default: "SWITCHYARD_KV" },
      "wrangler-config": { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  if (values.local && values.remote) throw new Error("use either --local or --remote");
  const file = positionals[0] ?? defaultConfigFile();
  return {
    file,
    env: values.env,
    force: values.force,
    kv: new WranglerKv({
      binding: values.binding,
      env: values.env,
      local: values.local || values["persist-to"] !== undefined,
      persistTo: values["persist-to"],
      wranglerConfig: values["wrangler-config"] ?? (isWranglerFile(file) ? file : undefined),
    }),
  };
}

/** The raw document in `file`; for a wrangler config with --env, that environment's SWITCHYARD var if it has one. */
export function readLocalConfig(file: string, env?: string): unknown {
  return configFromText(readFileSync(file, "utf8"), file, env);
}

export interface Live {
  doc?: unknown;
  version: number;
  history: VersionRecord[];
}

/** The live document in KV, its version and the kept history (no document: version 0). */
export async function readLive(kv: WranglerKv): Promise<Live> {
  const keys = await kv.list("config");
  const live = keys.find((k) => k.name === CONFIG_KEY);
  const hasHistory = keys.some((k) => k.name === HISTORY_KEY);
  const [text, history] = await Promise.all([
    live ? kv.get(CONFIG_KEY) : undefined,
    hasHistory ? kv.get(HISTORY_KEY) : undefined,
  ]);
  let doc: unknown;
  if (text !== undefined) {
    try {
      doc = JSON.parse(text);
    } catch {
      doc = text; // not JSON: every field shows as changed
    }
  }
  const meta = live?.metadata as Partial<VersionRecord> | undefined;
  return {
    doc,
    version: Number.isInteger(meta?.version) ? meta!.version! : 0,
    history: parseHistory(history),
  };
}

function loadValid(o: Options): { raw: unknown; keep: number } | undefined {
  let raw: unknown;
  try {
    raw = readLocalConfig(o.file, o.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return undefined;
    }
    console.error(
      `switchyard: cannot read ${o.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
    return undefined;
  }
  const result = checkConfig(raw);
  for (const w of result.warnings) console.error(`warning: ${renderProblem(w)}`);
  if (!result.config) {
    console.error(`${o.file}: ${result.problems.length} problem(s); nothing was written:`);
    for (const p of result.problems) console.error(`  ✖ ${renderProblem(p)}`);
    return undefined;
  }
  return { raw, keep: result.config.admin.history };
}

export async function push(argv: string[]): Promise<number> {
  const o = options(argv);
  const local = loadValid(o);
  if (!local) return 1;
  const live = await readLive(o.kv);
  const changes = live.doc === undefined ? [] : diffConfig(live.doc, local.raw);
  if (live.doc !== undefined && changes.length === 0 && !o.force) {
    console.log(`${o.kv.where} already serves this config (version ${live.version}); nothing written`);
    return 0;
  }
  const plan = planWrite(documentText(local.raw), live.history, local.keep, "cli push", live.version);
  await o.kv.bulkPut(plan.put);
  await o.kv.bulkDelete(plan.remove);
  console.log(`pushed ${o.file} to ${o.kv.where} as version ${plan.record.version}`);
  if (live.doc === undefined) console.log("(the first document in KV: it now overrides [vars.SWITCHYARD])");
  else console.log(renderChanges(changes));
  return 0;
}

export async function diff(argv: string[]): Promise<number> {
  const o = options(argv);
  const local = loadValid(o);
  if (!local) return 1;
  const live = await readLive(o.kv);
  if (live.doc === undefined) {
    console.log(
      `${o.kv.where} has no config document: the worker serves [vars.SWITCHYARD]; push would write version 1`,
    );
    return 0;
  }
  const changes = diffConfig(live.doc, local.raw);
  if (changes.length === 0) {
    console.log(`no changes against version ${live.version} in ${o.kv.where}`);
    return 0;
  }
  console.log(`${changes.length} change(s) against version ${live.version} in ${o.kv.where}:`);
  console.log(renderChanges(changes));
  return 0;
}

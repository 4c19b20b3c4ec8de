// The `switchyard` command: check a config (wrangler.toml/.json/.jsonc or JSON) and print its problems or a
// summary; push it to Workers KV or diff it against what is live there; explain where a request would go; deploy.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, renderProblem } from "../core/config/errors.ts";
import { checkConfig } from "../core/config/parse.ts";
import { configFromText } from "../core/config/source.ts";
import { summarizeConfig } from "../core/config/summary.ts";
import { VERSION } from "../core/version.ts";
import { defaultConfigFile } from "./config-file.ts";
import { DEPLOY_USAGE, deploy, deployFailure } from "./deploy.ts";
import { EXPLAIN_USAGE, explain } from "./explain.ts";
import { diff, PUSH_USAGE, push } from "./push.ts";

const USAGE = `usage: switchyard <command> [options]

commands:
  check [file]   validate a config and print every problem with its path, or a summary (exit code 1 on
                 problems). file: a wrangler config (wrangler.toml, wrangler.json, wrangler.jsonc) with a
                 SWITCHYARD var, or a JSON document; default: the wrangler config in this directory.
                 options: --env <name>   that environment's SWITCHYARD var, when it has one
${PUSH_USAGE}${EXPLAIN_USAGE}${DEPLOY_USAGE}  version        print the version (also --version)
`;

function check(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { env: { type: "string", short: "e" } },
  });
  const file = positionals[0] ?? defaultConfigFile();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    console.error(
      `switchyard: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
    return 1;
  }
  let raw: unknown;
  try {
    raw = configFromText(text, file, values.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const result = checkConfig(raw);
  for (const w of result.warnings) console.error(`warning: ${renderProblem(w)}`);
  if (!result.config) {
    const n = result.problems.length;
    console.error(`${file}: ${n} problem${n === 1 ? "" : "s"}:`);
    for (const p of result.problems) console.error(`  ✖ ${renderProblem(p)}`);
    return 1;
  }
  console.log(`${file}: config OK\n`);
  console.log(summarizeConfig(result.config));
  return 0;
}

export function main(argv: string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "check":
      try {
        return check(rest);
      } catch (e) {
        return fail(e);
      }
    case "push":
      return push(rest).catch(fail);
    case "diff":
      return diff(rest).catch(fail);
    case "explain":
      return explain(rest);
    case "deploy":
      return deploy(rest).catch((e) => {
        console.error(`switchyard: ${deployFailure(e)}`);
        return 1;
      });
    case "version":
    case "--version":
    case "-v":
      console.log(`switchyard ${VERSION}`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`switchyard: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

function fail(e: unknown): number {
  console.error(`switchyard: ${(e as Error).message}`);
  return 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));

// The `switchyard` command: check a config (wrangler.toml or JSON) and print its problems or a summary; push it
// to Workers KV or diff it against what is live there; explain where a request would go.
import { readFileSync } from "node:fs";
import { ConfigError, renderProblem } from "../core/config/errors.ts";
import { checkConfig } from "../core/config/parse.ts";
import { configFromText } from "../core/config/source.ts";
import { summarizeConfig } from "../core/config/summary.ts";
import { EXPLAIN_USAGE, explain } from "./explain.ts";
import { diff, PUSH_USAGE, push } from "./push.ts";

const USAGE = `usage: switchyard <command> [options]

commands:
  check [file]   validate a config (wrangler.toml with [vars.SWITCHYARD], or a .json file; default wrangler.toml)
                 and print every problem with its path, or a summary. Exit code 1 on problems.
${PUSH_USAGE}${EXPLAIN_USAGE}`;

function check(file = "wrangler.toml"): number {
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
    raw = configFromText(text, file);
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
      return check(rest[0]);
    case "push":
      return push(rest).catch(fail);
    case "diff":
      return diff(rest).catch(fail);
    case "explain":
      return explain(rest);
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

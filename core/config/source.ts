// Config text → raw document: the SWITCHYARD var of a wrangler config (wrangler.toml, wrangler.json or
// wrangler.jsonc), or a plain JSON document. Pure (no file I/O), so the CLI, the sidecar and tests share it;
// parseConfig validates what it returns.
import { type ParseError, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { ConfigError } from "./errors.ts";

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);

/** wrangler.json / wrangler.jsonc by name (any directory); other JSON files are wrangler configs when they have `vars`. */
const WRANGLER_JSON_NAME = /(^|[\\/])wrangler\.jsonc?$/i;

/** Whether `filename` is read as TOML (a wrangler.toml); everything else is JSON with comments allowed. */
const isToml = (filename: string) => filename.toLowerCase().endsWith(".toml");

/**
 * The whole document in `text`: TOML for a `.toml` name, else JSON with comments and trailing commas (JSONC, the
 * dialect wrangler reads for wrangler.json and wrangler.jsonc). Syntax errors throw a ConfigError (code
 * SY_CONFIG_INVALID) naming the file, line and column.
 */
export function parseDocument(text: string, filename: string): unknown {
  if (isToml(filename)) {
    try {
      return parseToml(text);
    } catch (e) {
      const { line, column } = e as { line?: number; column?: number };
      const where = line !== undefined ? ` (line ${line}, column ${column})` : "";
      throw syntaxError(filename, `not valid TOML${where}: ${firstLine((e as Error).message)}`);
    }
  }
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { allowTrailingComma: true, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineAndColumn(text, first.offset);
    throw syntaxError(
      filename,
      `not valid JSON (line ${line}, column ${column}): ${printParseErrorCode(first.error)}`,
    );
  }
  return doc;
}

/** Whether `filename` names a wrangler config by itself: any `.toml`, or wrangler.json / wrangler.jsonc. */
export const isWranglerFile = (filename: string): boolean =>
  isToml(filename) || WRANGLER_JSON_NAME.test(filename);

/** Whether a parsed document is a wrangler config (rather than a plain Switchyard document). */
export function isWranglerConfig(doc: unknown, filename: string): doc is Doc {
  return isWranglerFile(filename) || (isObject(doc) && "vars" in doc);
}

/**
 * The raw config document in `text`. For a wrangler config (wrangler.toml, wrangler.json, wrangler.jsonc) that is
 * its SWITCHYARD var (a table/object, or a JSON string); with `env`, the environment's own one when it has it.
 * Anything else is the document itself. Syntax errors and a missing var throw a ConfigError naming the file.
 */
export function configFromText(text: string, filename: string, env?: string): unknown {
  const doc = parseDocument(text, filename);
  if (!isWranglerConfig(doc, filename)) return doc;
  const fromEnv = env ? switchyardVar(envBlock(doc, env)) : undefined;
  const value = fromEnv ?? switchyardVar(doc);
  if (value === undefined) {
    const toml = isToml(filename);
    throw new ConfigError(
      [
        {
          path: "",
          message: toml
            ? "has no [vars.SWITCHYARD] table; put the Switchyard config under [vars.SWITCHYARD] " +
              "(e.g. [[vars.SWITCHYARD.services]] and [[vars.SWITCHYARD.listeners]])"
            : 'has no "vars": { "SWITCHYARD": { … } }; put the Switchyard config there ' +
              '(e.g. "vars": { "SWITCHYARD": { "services": [ … ], "listeners": [ … ] } })',
        },
      ],
      filename,
    );
  }
  // A var holding JSON text (wrangler's `--var SWITCHYARD:…` form, or a string in [vars]) is the document too.
  if (typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch (e) {
      throw syntaxError(
        filename,
        `SWITCHYARD is a string but not valid JSON: ${firstLine((e as Error).message)}`,
      );
    }
  }
  return value;
}

/** The `env.<name>` block of a wrangler config, if it has one. */
export function envBlock(doc: Doc, env: string): Doc | undefined {
  const envs = doc.env;
  const block = isObject(envs) ? envs[env] : undefined;
  return isObject(block) ? block : undefined;
}

/** The SWITCHYARD entry of a wrangler config (or environment block)'s `vars`. */
export function switchyardVar(block: Doc | undefined): unknown {
  const vars = block?.vars;
  return isObject(vars) ? vars.SWITCHYARD : undefined;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

function syntaxError(filename: string, message: string): ConfigError {
  return new ConfigError([{ path: "", message }], filename);
}

function firstLine(message: string): string {
  return message.split("\n")[0]!;
}

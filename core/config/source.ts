// Config text → raw document: a wrangler.toml's [vars.SWITCHYARD] table, or a JSON file. Pure (no file I/O), so
// the CLI, the sidecar and tests share it; parseConfig validates what it returns.
import { parse as parseToml } from "smol-toml";
import { ConfigError } from "./errors.ts";

/**
 * The raw config document in `text`. A name ending in `.toml` is read as a wrangler.toml and its
 * `[vars.SWITCHYARD]` table is returned; anything else is parsed as JSON. Syntax errors and a missing table
 * throw a ConfigError (code SY_CONFIG_INVALID) that names the file.
 */
export function configFromText(text: string, filename: string): unknown {
  if (filename.toLowerCase().endsWith(".toml")) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (e) {
      const { line, column } = e as { line?: number; column?: number };
      const where = line !== undefined ? ` (line ${line}, column ${column})` : "";
      throw new ConfigError(
        [{ path: "", message: `not valid TOML${where}: ${firstLine((e as Error).message)}` }],
        filename,
      );
    }
    const vars = doc.vars;
    const table =
      vars !== null && typeof vars === "object" && !Array.isArray(vars)
        ? (vars as Record<string, unknown>).SWITCHYARD
        : undefined;
    if (table === undefined) {
      throw new ConfigError(
        [
          {
            path: "",
            message:
              "has no [vars.SWITCHYARD] table; put the Switchyard config under [vars.SWITCHYARD] " +
              "(e.g. [[vars.SWITCHYARD.services]] and [[vars.SWITCHYARD.listeners]])",
          },
        ],
        filename,
      );
    }
    return table;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(
      [{ path: "", message: `not valid JSON: ${firstLine((e as Error).message)}` }],
      filename,
    );
  }
}

function firstLine(message: string): string {
  return message.split("\n")[0]!;
}

// Reads a config file (wrangler.toml or JSON) from disk into a validated, frozen Config.
import { readFile } from "node:fs/promises";
import { type Config, parseConfig } from "../../core/config/index.ts";
import { configFromText } from "../../core/config/source.ts";

export async function loadConfigFile(path: string): Promise<Config> {
  const text = await readFile(path, "utf8");
  return parseConfig(configFromText(text, path), path);
}

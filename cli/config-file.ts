// Which config file a command reads when none is named: wrangler's own lookup order in the working directory
// (wrangler.json, wrangler.jsonc, wrangler.toml), so `switchyard` and `wrangler` agree on the file.
import { existsSync } from "node:fs";

export const WRANGLER_FILES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"] as const;

/** The first wrangler config present in the working directory; wrangler.toml when there is none (its error names it). */
export function defaultConfigFile(): string {
  return WRANGLER_FILES.find((f) => existsSync(f)) ?? "wrangler.toml";
}

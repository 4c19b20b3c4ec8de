// Writes switchyard.schema.json from the zod schema; with --check, fails when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateJsonSchema } from "../core/config/json-schema.ts";

const target = fileURLToPath(new URL("../switchyard.schema.json", import.meta.url));
const fresh = `${JSON.stringify(generateJsonSchema(), null, 2)}\n`;

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {}
  if (current !== fresh) {
    console.error("switchyard.schema.json is stale: run `npm run schema` and commit the result.");
    process.exit(1);
  }
  console.log("switchyard.schema.json is current.");
} else {
  writeFileSync(target, fresh);
  console.log(`wrote ${target}`);
}

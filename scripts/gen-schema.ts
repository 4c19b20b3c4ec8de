// Writes switchyard.schema.json from the zod schema, and switchyard.wrangler.schema.json: the same schema under
// vars.SWITCHYARD of a wrangler config (top level and every env), self-contained for editors that follow no
// $ref to another file (Taplo). With --check, fails when either committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateJsonSchema } from "../core/config/json-schema.ts";

const schema = generateJsonSchema() as Record<string, unknown>;
const { $schema, ...config } = schema;
const withVar = {
  type: "object",
  properties: { vars: { type: "object", properties: { SWITCHYARD: config } } },
};
const wrangler = {
  $schema,
  title: "wrangler config with a Switchyard config in vars.SWITCHYARD",
  description:
    "wrangler.toml / wrangler.json(c) fields other than vars.SWITCHYARD are not described here; see wrangler's own schema.",
  type: "object",
  properties: {
    ...withVar.properties,
    env: { type: "object", additionalProperties: withVar },
  },
};

const files: [string, unknown][] = [
  ["../switchyard.schema.json", schema],
  ["../switchyard.wrangler.schema.json", wrangler],
];
let stale = false;
for (const [name, doc] of files) {
  const target = fileURLToPath(new URL(name, import.meta.url));
  const fresh = `${JSON.stringify(doc, null, 2)}\n`;
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch {}
    if (current !== fresh) {
      console.error(`${name.slice(3)} is stale: run \`npm run schema\` and commit the result.`);
      stale = true;
    }
  } else {
    writeFileSync(target, fresh);
    console.log(`wrote ${target}`);
  }
}
if (stale) process.exit(1);
if (process.argv.includes("--check")) console.log("the JSON schemas are current.");

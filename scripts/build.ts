// npm run build: the deployable worker bundle (wrangler deploy --dry-run --outdir dist), then its raw and
// gzipped size, which is what Cloudflare's script size limit counts.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const outdir = "dist";
const result = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
  stdio: "inherit",
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
});
if (result.status !== 0) process.exit(result.status ?? 1);

const files = readdirSync(outdir).filter((f) => f.endsWith(".js") && statSync(join(outdir, f)).isFile());
let raw = 0;
let gzip = 0;
for (const f of files) {
  const bytes = readFileSync(join(outdir, f));
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`\nworker bundle (${files.join(", ")}): ${kb(raw)} raw, ${kb(gzip)} gzipped`);

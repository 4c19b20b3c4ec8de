// npm run build: the deployable worker bundle (wrangler deploy --dry-run --outdir dist), then its raw and
// gzipped size, which is what Cloudflare's script size limit counts. `-- --analyze` adds where the bytes come
// from, per package or directory and per file (scripts/bundle-analysis.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { analyzeBundle, printAnalysis } from "./bundle-analysis.ts";

const outdir = "dist";
const analyze = process.argv.includes("--analyze");
const result = spawnSync(
  "npx",
  ["wrangler", "deploy", "--dry-run", "--outdir", outdir, ...(analyze ? ["--upload-source-maps"] : [])],
  {
    stdio: "inherit",
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  },
);
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

if (analyze) {
  for (const f of files) {
    const mapFile = join(outdir, `${f}.map`);
    if (!existsSync(mapFile)) {
      console.error(`${f}: no source map (${mapFile}); wrangler wrote none, so nothing to attribute`);
      process.exit(1);
    }
    console.log(`\n${f}`);
    printAnalysis(
      analyzeBundle(readFileSync(join(outdir, f), "utf8"), JSON.parse(readFileSync(mapFile, "utf8"))),
    );
  }
}

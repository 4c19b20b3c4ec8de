// The production bundle the worker benchmarks serve and the bundle-size rows measure: `npm run build` when
// scripts/build.ts exists, else wrangler's own bundler (deploy --dry-run). Copied aside so that a rebuild by
// someone else during the run cannot change what is being measured.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Bundle } from "../lib/context.ts";
import { oneLineTail, type Procs } from "../lib/procs.ts";

const OFFLINE = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

export async function buildBundle(
  root: string,
  tmp: string,
  procs: Procs,
): Promise<Bundle | { error: string }> {
  const wranglerToml = join(root, "wrangler.toml");
  if (!existsSync(wranglerToml)) return { error: "no wrangler.toml yet (the worker is not built)" };
  const out = join(tmp, "dist");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  if (existsSync(join(root, "scripts/build.ts"))) {
    const r = await procs.run(process.execPath, ["scripts/build.ts"], 180_000, { cwd: root, env: OFFLINE });
    if (r.code !== 0) return { error: `npm run build failed: ${oneLineTail(r.stderr || r.stdout)}` };
    // dist/sidecar holds the sidecar's release (tens of MB), which the worker bench has no use for.
    const sidecarRelease = join(root, "dist", "sidecar");
    cpSync(join(root, "dist"), out, { recursive: true, filter: (src) => src !== sidecarRelease });
  } else {
    const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
    const r = await procs.run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", out], 180_000, {
      cwd: root,
      env: OFFLINE,
    });
    if (r.code !== 0)
      return { error: `wrangler deploy --dry-run failed: ${oneLineTail(r.stderr || r.stdout)}` };
  }
  if (!readdirSync(out).some((f) => f.endsWith(".js") || f.endsWith(".mjs")))
    return { error: "the build wrote no JavaScript module" };
  return { dir: out, wranglerToml };
}

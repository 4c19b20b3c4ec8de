// Size of the production bundle's modules (source maps excluded), raw and gzipped (zlib level 9, as an upload
// is compressed at least that well).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { BenchContext } from "../lib/context.ts";
import { bundleModules, readWrangler } from "../workerd/config.ts";

export async function bundleSection(ctx: BenchContext): Promise<void> {
  const sec = ctx.results.section("Worker bundle");
  if ("error" in ctx.bundle) {
    sec.skip("bundle size", ctx.bundle.error);
    return;
  }
  const modules = bundleModules(ctx.bundle.dir, readWrangler(ctx.bundle.wranglerToml).main);
  const bytes = Buffer.concat(modules.map((m) => readFileSync(m.path)));
  const note = modules.length > 1 ? `${modules.length} modules` : undefined;
  sec.add("bundle.raw_bytes", "bundle, raw", bytes.length, "bytes", { note });
  sec.add("bundle.gzip_bytes", "bundle, gzipped", gzipSync(bytes, { level: 9 }).length, "bytes", {
    target: "≤ 100 KiB",
  });
}

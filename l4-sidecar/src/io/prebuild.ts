// Where a release finds its prebuilt native engine, laid out as node-gyp-build and prebuildify lay theirs:
// <dir>/prebuilds/<platform>-<arch>/node.napi.<tags>.node, where the tags say what the build needs (uv1: libuv's
// stable ABI, which the engine uses beside Node-API; glibc or musl). A build whose tags do not fit this machine is
// skipped, so the sidecar falls back to its JavaScript data path rather than failing to load.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The file name `npm run release:sidecar` gives the engine it builds. */
export const PREBUILD_FILE = "node.napi.uv1.glibc.node";

const libc = (): "glibc" | "musl" => {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime ? "glibc" : "musl";
};

/** Whether a prebuild's tags fit the running process. */
function fits(file: string): boolean {
  const tags = file.split(".").slice(1, -1);
  if (!file.startsWith("node.") || !file.endsWith(".node") || !tags.includes("napi")) return false;
  const wantsLibc = tags.find((t) => t === "glibc" || t === "musl");
  return wantsLibc === undefined || wantsLibc === libc();
}

/** The first prebuilt engine under `dirs` that fits this platform, architecture and libc. */
export function findPrebuild(dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const folder = join(dir, "prebuilds", `${process.platform}-${process.arch}`);
    if (!existsSync(folder)) continue;
    const file = readdirSync(folder).sort().find(fits);
    if (file) return join(folder, file);
  }
  return undefined;
}

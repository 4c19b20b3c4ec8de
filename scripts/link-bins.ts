// npm links the bins of dependencies into node_modules/.bin but not the project's own, so `npx switchyard-l4`
// would look for a package of that name. Run as `prepare` (after every npm install / npm ci): links each bin
// of package.json into node_modules/.bin, so `npx switchyard` and `npx switchyard-l4` run this checkout's code.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  bin?: Record<string, string>;
};
const binDir = path.join(root, "node_modules/.bin");
mkdirSync(binDir, { recursive: true });
for (const [name, target] of Object.entries(pkg.bin ?? {})) {
  const link = path.join(binDir, name);
  const file = path.join(root, target);
  if (!existsSync(file)) continue;
  try {
    if (lstatSync(link)) unlinkSync(link);
  } catch {}
  symlinkSync(path.relative(binDir, file), link);
  chmodSync(file, 0o755);
}

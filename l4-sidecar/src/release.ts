// Entry point of the sidecar's release (npm run release:sidecar bundles from here): the same program as
// bin/switchyard-l4.mjs, run from one JavaScript bundle or a single executable, with the prebuilt native engine
// found next to it (prebuilds/, or ../lib/switchyard-l4/prebuilds/ for /usr/bin) unless
// SWITCHYARD_L4_NATIVE_ADDON names one. Without a fitting engine the TCP listeners run on JavaScript streams.
import { dirname, join } from "node:path";
import { isSea } from "node:sea";
import { findPrebuild } from "./io/prebuild.ts";
import { run } from "./run.ts";

const [major] = process.versions.node.split(".").map(Number);
if (major! < 22) {
  process.stderr.write(
    `switchyard-l4: needs Node.js >= 22 (this is ${process.version}, ${process.execPath})\n`,
  );
  process.exit(1);
}

// The program: the executable itself, or the bundle that `node` was given.
const program = isSea() ? process.execPath : (process.argv[1] ?? process.execPath);
const here = dirname(program);
const prebuild = findPrebuild([here, join(here, "../lib/switchyard-l4")]);
if (prebuild && !process.env.SWITCHYARD_L4_NATIVE_ADDON) process.env.SWITCHYARD_L4_NATIVE_ADDON = prebuild;

// A single executable sees itself twice in argv (as node and as the script), like `node bundle.cjs`.
run(process.argv.slice(2)).then((code) => process.exit(code));

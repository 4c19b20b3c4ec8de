// Child process: imports a *.bench.ts module, calls the function it exports with { quick }, and prints the
// figures it returns as one JSON line after a marker (mitata prints its own report before that).
// Usage: node bench/helpers/run-module.ts <module> [--quick]
import { pathToFileURL } from "node:url";

export const MARKER = "BENCH-FIGURES ";

const [file, flag] = process.argv.slice(2);
const mod = (await import(pathToFileURL(file!).href)) as Record<string, unknown>;
const fns = Object.entries(mod).filter(([, v]) => typeof v === "function") as [
  string,
  (o: unknown) => unknown,
][];
const pick =
  fns.find(([k]) => k === "default") ??
  fns.find(([k]) => k === "run") ??
  fns.find(([k]) => /bench|run|figures/i.test(k));
if (!pick) throw new Error(`${file} exports no function (exports: ${Object.keys(mod).join(", ") || "none"})`);
const out = await pick[1]({ quick: flag === "--quick" });
console.log(MARKER + JSON.stringify({ exported: pick[0], figures: out }));
process.exit(0);

// npm run profile:waf:instructions [-- --cases get,form,unseen]
// Instructions per managed inspection (bench/waf.bench.ts's "managed inspection only" rows) counted by valgrind's
// callgrind: a figure a shared machine does not move, for A/B work on the WAF engine. Each case runs twice in a
// fresh Node (V8 --single-threaded, so optimised code is compiled at the same point), with `warm` and
// `warm + count` inspections; the difference over `count` leaves out start-up and compilation.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { totalInstructions } from "./lib/callgrind.ts";

const CASES = { get: [3000, 6000], form: [300, 600], unseen: [300, 600] } as const;
type Case = keyof typeof CASES;

const { values } = parseArgs({
  options: { cases: { type: "string", default: "get,form,unseen" }, child: { type: "string" } },
  allowPositionals: true,
});

if (values.child) {
  const { INSPECT_ONLY } = await import("../bench/waf.bench.ts");
  const run = INSPECT_ONLY[values.child as Case];
  const n = Number(process.argv.at(-1));
  let score = 0;
  for (let i = 0; i < n; i++) score += run();
  if (score !== 0) throw new Error("the benchmark inputs must pass the WAF");
} else {
  const self = fileURLToPath(import.meta.url);
  const tmp = mkdtempSync(join(tmpdir(), "sy-waf-instructions-"));
  const count = (name: Case, n: number): number => {
    const out = join(tmp, `${name}-${n}.callgrind`);
    const node = [process.execPath, "--single-threaded", self, "--child", name, String(n)];
    execFileSync("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, ...node], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    return totalInstructions(out);
  };
  for (const name of values.cases.split(",") as Case[]) {
    const [warm, more] = CASES[name];
    const per = (count(name, warm + more) - count(name, warm)) / more;
    console.log(`${name}: ${Math.round(per).toLocaleString("en")} instructions per inspection`);
  }
}

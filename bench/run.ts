// `npm run bench [-- --quick] [-- --only worker,micro,sidecar,bundle]`: every benchmark of issue 9 in one run,
// side by side on this machine. Writes bench/RESULTS.md and bench/results.json and prints the table.
// Each section runs on its own: one that cannot run yet reports "skipped: <reason>" and the others go on.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BenchContext, errorText } from "./lib/context.ts";
import { machineInfo, versions } from "./lib/machine.ts";
import { killAllNow, oneLineTail, Procs, stopAll } from "./lib/procs.ts";
import { Results } from "./lib/results.ts";
import { runDir, takeLock } from "./lib/run-dir.ts";
import { buildBundle } from "./sections/build.ts";
import { bundleSection } from "./sections/bundle.ts";
import { microSection } from "./sections/micro.ts";
import { rateLimitSection } from "./sections/rate-limit.ts";
import { sidecarSection } from "./sections/sidecar.ts";
import { workerSection } from "./sections/worker.ts";

const SECTIONS = {
  worker: workerSection,
  micro: microSection,
  sidecar: sidecarSection,
  bundle: bundleSection,
  ratelimit: rateLimitSection,
};
type SectionName = keyof typeof SECTIONS;

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
  strict: true,
});
const quick = values.quick!;
const only = (values.only?.split(",") ?? Object.keys(SECTIONS)) as SectionName[];
for (const name of only)
  if (!(name in SECTIONS))
    throw new Error(`--only: no section "${name}" (${Object.keys(SECTIONS).join(", ")})`);

const root = fileURLToPath(new URL("..", import.meta.url));
const tmpBase = join(root, "bench/.tmp");
const tmp = runDir(tmpBase);
const started = Date.now();
const loadAtStart = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
// --quick must finish within two minutes; a full run is bounded too, whatever the machine does.
const budgetMs = quick ? 105_000 : 15 * 60_000;
const procs = new Procs(join(tmp, "logs"));
const results = new Results();
const ctx: BenchContext = {
  root,
  tmp,
  quick,
  procs,
  results,
  bundle: { error: "not built" },
  deadline: started + budgetMs,
};

let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  console.error(`\n${signal}: stopping everything the bench started`);
  void stopAll().finally(() => process.exit(130));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.on("SIGHUP", onSignal);
process.on("exit", killAllNow);

const log = (msg: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`);

log(`mode: ${quick ? "quick" : "full"}; sections: ${only.join(", ")}; logs in ${relative(root, tmp)}/logs`);
const overlap = await takeLock(tmpBase, quick ? 120_000 : 600_000, log);
if (overlap) log(overlap);
const tools = await procs.run("bash", [join(root, "scripts/ensure-debian-tools.sh"), "--bench"], 600_000);
if (tools.code !== 0) log(`installing Debian tools failed: ${oneLineTail(tools.stderr || tools.stdout)}`);
ctx.deadline = Date.now() + budgetMs; // the budget is for measuring, not for apt-get

if (only.includes("worker") || only.includes("bundle") || only.includes("ratelimit")) {
  log("building the worker bundle");
  ctx.bundle = await buildBundle(root, tmp, procs).catch((e) => ({ error: `build failed: ${errorText(e)}` }));
  if ("error" in ctx.bundle) log(`no bundle: ${ctx.bundle.error}`);
}

for (const name of only) {
  if (interrupted) break;
  if (Date.now() > ctx.deadline) {
    results.section(name).skip(name, `time budget of ${budgetMs / 1000} s used up`);
    continue;
  }
  log(`section ${name}`);
  try {
    await SECTIONS[name](ctx);
  } catch (e) {
    results.section(name).skip(name, `failed: ${errorText(e)}`);
    log(`section ${name} failed: ${e instanceof Error ? e.stack : e}`);
  } finally {
    await stopAll();
  }
}
if (interrupted) await new Promise(() => {}); // the signal handler exits

const date = new Date().toISOString();
const machine = machineInfo(root);
const vers = versions(root);
const seconds = Math.round((Date.now() - started) / 1000);
const table = results.markdown();
const partial = only.length < Object.keys(SECTIONS).length ? ` (sections: ${only.join(", ")})` : "";
const md = `# Switchyard benchmark results

Written by \`npm run bench${quick ? " -- --quick" : ""}\`${partial} on ${date} in ${seconds} s. Ratios compare runs made side by
side in this one run; absolute numbers drift on a shared machine, ratios much less. Names and methods are
described in docs/benchmarks.md.

- Machine: ${machine.cpu}, ${machine.memory}, ${machine.os}, kernel ${machine.kernel}; load average (1, 5, 15 min) at start ${loadAtStart}, at the end ${machine.load}
- Commit: ${machine.commit}${overlap ? `\n- **Warning**: ${overlap}` : ""}
- Versions: ${Object.entries(vers)
  .map(([k, v]) => `${k} ${v}`)
  .join(", ")}

${table}
`;
writeFileSync(join(root, "bench/RESULTS.md"), md);
writeFileSync(
  join(root, "bench/results.json"),
  `${JSON.stringify(
    {
      format: 1,
      date,
      mode: quick ? "quick" : "full",
      sections: only,
      seconds,
      machine: { ...machine, load_at_start: loadAtStart },
      ...(overlap ? { warning: overlap } : {}),
      versions: vers,
      figures: results.figures(),
      units: results.units(),
      skipped: results.skipped(),
      notes: results.notes(),
    },
    null,
    2,
  )}\n`,
);
console.log(`\n${table}\n\nwrote bench/RESULTS.md and bench/results.json (${seconds} s)`);
process.exit(0);

// Counting user-space instructions with valgrind's callgrind, for the counting scripts (profile:worker:instructions,
// profile:sidecar, profile:waf:instructions): a server started under `callgrind(out)` and warmed up counts only
// what `windowed` runs; totalInstructions() adds up the files it wrote.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * The command line to put before a server's own: callgrind writing `out` (with `%p` for one file per
 * process), counting nothing until windowed() turns it on. V8 writes the code it runs, hence smc-check.
 */
export function callgrind(out: string): string[] {
  return [
    "valgrind",
    "--tool=callgrind",
    "--smc-check=all-non-file",
    "--instr-atstart=no",
    `--callgrind-out-file=${out}`,
  ];
}

/** Counts while `work` runs in process `pid`, then has callgrind write its files. */
export async function windowed(pid: number, work: () => Promise<unknown>): Promise<void> {
  const control = (arg: string) => execFileSync("callgrind_control", [arg, String(pid)], { stdio: "ignore" });
  control("--instr=on");
  await work();
  control("--instr=off");
  control("--dump");
}

/** Instructions in every callgrind file whose name starts with `out`'s (the dumps of each process). */
export function totalInstructions(out: string): number {
  const dir = dirname(out);
  const prefix = basename(out).replace("%p", "");
  let total = 0;
  for (const f of readdirSync(dir).filter((f) => f.startsWith(prefix))) {
    const m = /^totals: (\d+)/m.exec(readFileSync(join(dir, f), "utf8"));
    if (m) total += Number(m[1]);
  }
  return total;
}

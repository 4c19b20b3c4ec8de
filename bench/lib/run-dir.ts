// One directory per bench run (bench/.tmp/run-<pid>), and a lock so that two runs on this shared machine do not
// measure each other: a second run waits for the first (bounded), then goes ahead and says so.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Creates this run's directory and removes those of runs that are no longer alive. */
export function runDir(base: string): string {
  mkdirSync(base, { recursive: true });
  for (const name of readdirSync(base)) {
    const pid = /^run-(\d+)$/.exec(name)?.[1];
    if (pid && !alive(Number(pid))) rmSync(join(base, name), { recursive: true, force: true });
  }
  const dir = join(base, `run-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Takes bench/.tmp/lock; returns a note when it had to go ahead while another run still held it. */
export async function takeLock(
  base: string,
  waitMs: number,
  log: (m: string) => void,
): Promise<string | undefined> {
  const file = join(base, "lock");
  const deadline = Date.now() + waitMs;
  let said = false;
  for (;;) {
    try {
      closeSync(openSync(file, "wx"));
      writeFileSync(file, String(process.pid));
      process.on("exit", () => {
        if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file, { force: true });
      });
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = Number(readFileSync(file, "utf8").trim());
    if (!holder || !alive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      return `another bench run (pid ${holder}) was running at the same time: figures from this run may be low`;
    }
    if (!said) log(`another bench run (pid ${holder}) is measuring; waiting up to ${waitMs / 1000} s`);
    said = true;
    await sleep(2000);
  }
}

// Every process the bench starts goes through here, so one call (also on Ctrl-C or a crash) stops them all.
// Children run in their own process group (detached) so that a kill reaches their own children too.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Raise the open-files limit for this child (bash `ulimit -n`, up to the hard limit). */
  nofile?: number;
  /** start(): read the child's stdout here (child.stdout); by default its output goes straight to the file. */
  pipeStdout?: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const live = new Set<ChildProcess>();
/** Why a child could not start (ENOENT when a program is not installed); it then never exits. */
const spawnErrors = new WeakMap<ChildProcess, Error>();
const logFiles = new WeakMap<ChildProcess, string>();
const labels = new Map<string, ChildProcess>();

export class Procs {
  readonly logDir: string;
  constructor(logDir: string) {
    this.logDir = logDir;
    mkdirSync(logDir, { recursive: true });
  }

  /**
   * Starts a long-running child; its output goes to <logDir>/<label>.log. The child writes that file itself:
   * copying its output through this process would cost the machine CPU per log line, which a proxy that logs
   * every connection or request would pay for and its peers (which log nothing) would not.
   */
  start(label: string, cmd: string, args: string[], opts: StartOptions = {}): ChildProcess {
    const [file, argv] = wrap(cmd, args, opts.nofile);
    const logFile = join(this.logDir, `${label}.log`);
    const fd = openSync(logFile, "a");
    const child = spawn(file, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", opts.pipeStdout ? "pipe" : fd, fd],
      detached: true,
    });
    closeSync(fd);
    track(child);
    labels.set(label, child);
    logFiles.set(child, logFile);
    return child;
  }

  /** The child most recently started under this label. */
  byLabel(label: string): ChildProcess | undefined {
    return labels.get(label);
  }

  /** Runs a command to completion, killing it after timeoutMs. Output is captured, not logged. */
  run(cmd: string, args: string[], timeoutMs: number, opts: StartOptions = {}): Promise<RunResult> {
    const [file, argv] = wrap(cmd, args, opts.nofile);
    const child = spawn(file, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d;
    });
    return new Promise((resolve) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, "SIGKILL");
      }, timeoutMs);
      child.on("error", (e) => {
        stderr += String(e);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, timedOut });
      });
    });
  }
}

function wrap(cmd: string, args: string[], nofile?: number): [string, string[]] {
  if (nofile === undefined) return [cmd, args];
  // `exec` keeps the pid, so RSS readings and kills address the real program, not bash.
  return ["bash", ["-c", `ulimit -n ${nofile} && exec "$0" "$@"`, cmd, ...args]];
}

function track(child: ChildProcess): void {
  live.add(child);
  child.on("exit", () => live.delete(child));
  child.on("error", (e) => {
    spawnErrors.set(child, e);
    live.delete(child);
  });
}

function exitedWhy(child: ChildProcess): string | undefined {
  const e = spawnErrors.get(child);
  if (e) return e.message;
  if (child.exitCode === null && child.signalCode === null) return undefined;
  let said = "";
  try {
    said = oneLineTail(readFileSync(logFiles.get(child) ?? "/nonexistent", "utf8"));
  } catch {}
  return `exited (${child.signalCode ?? child.exitCode}${said ? `: ${said}` : ""})`;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

/** SIGTERM, then SIGKILL after graceMs. */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(child, "SIGTERM");
  const timer = sleep(graceMs).then(() => killGroup(child, "SIGKILL"));
  await Promise.race([exited, timer]);
  await Promise.race([exited, sleep(1000)]);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stop(c)));
}

/** Last resort on process exit: synchronous, no grace. */
export function killAllNow(): void {
  for (const c of live) killGroup(c, "SIGKILL");
}

/** Ports freePort() has handed out in this process. */
const handedOut = new Set<number>();

/**
 * A port that was free a moment ago on 127.0.0.1 (other agents share this machine, so never a fixed one), and
 * never one this process was given before: the kernel may hand the same free port to two binds in a row, and a
 * run that starts a proxy and its backend on one port measures nothing.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; throws after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = child && exitedWhy(child);
    if (why) throw new Error(`${why} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** The gist of a failed command's output on one line, for a "skipped: …" row: its first error line and the
 * one after it (esbuild puts the file there), else its last lines. */
export function oneLineTail(text: string, max = 200): string {
  const lines = text
    .split("\n")
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
    .filter((l) => l !== "" && !/^🪵|Logs were written/.test(l));
  const i = lines.findIndex((l) => /\berror\b/i.test(l));
  const t = (i >= 0 ? lines.slice(i, i + 2) : lines.slice(-3)).join(" / ");
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Resolves once /proc/net/tcp shows a socket listening on the port (no connection is made). */
export async function waitForListen(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = child && exitedWhy(child);
    if (why) throw new Error(`${why} before listening on ${port}`);
    const table = ["/proc/net/tcp", "/proc/net/tcp6"].map((f) => readFileSync(f, "utf8")).join("\n");
    // columns: sl local_address rem_address st …; st 0A = LISTEN
    if (table.split("\n").some((l) => l.split(/\s+/)[2]?.endsWith(hex.trim()) && l.split(/\s+/)[4] === "0A"))
      return;
    await sleep(100);
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

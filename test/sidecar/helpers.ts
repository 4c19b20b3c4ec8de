// Real-socket helpers for the sidecar tests: echo and scripted backends on port 0, an in-process sidecar with
// captured logs, a spawned CLI, and small socket utilities. Everything started here is closed by `cleanup()`.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { type Config, parseConfig } from "../../core/config/index.ts";
import { createLogger } from "../../l4-sidecar/src/log.ts";
import { Sidecar } from "../../l4-sidecar/src/sidecar.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const NODE = path.join(ROOT, "node_modules/.bin/node");

const cleanups: (() => unknown)[] = [];
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A TCP server on 127.0.0.1:0 whose connections are handled by `onConn`; tracks its open sockets. */
export async function backend(onConn: (s: net.Socket) => void, opts: net.ServerOpts = {}) {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true, ...opts }, (s) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    onConn(s);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  onCleanup(close);
  return {
    port,
    address: `127.0.0.1:${port}`,
    sockets,
    get accepted() {
      return accepted;
    },
    close,
  };
}

/** Echoes every byte back and half-closes when the client does. */
export const echoBackend = () => backend((s) => s.pipe(s));

/**
 * Ports this process has handed out. Chosen below Linux's ephemeral range (32768-60999), where every port-0
 * bind in the suite (backends, stand-in servers, clients) lands, so another test file running in parallel
 * cannot take one between choosing it and using it, and one test never gets the same port twice.
 */
const handedOut = new Set<number>();

async function unusedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    const s = net.createServer();
    const bound = await new Promise<boolean>((r) => {
      s.once("error", () => r(false));
      s.listen(port, "127.0.0.1", () => r(true));
    });
    if (!bound) continue;
    await new Promise((r) => s.close(r));
    return port;
  }
}

/** An address on which nothing listens (connections are refused). */
export async function deadAddress(): Promise<string> {
  return `127.0.0.1:${await unusedPort()}`;
}

/** A free port for listeners that must not use port 0 (several listeners, or a spawned CLI). */
export const freePort = unusedPort;

export interface LogLine {
  msg: string;
  [k: string]: unknown;
}

/** A pino logger whose lines are kept in memory, parsed. */
export function memoryLog() {
  const lines: LogLine[] = [];
  const log = createLogger({
    write(chunk: string) {
      lines.push(JSON.parse(chunk));
    },
  });
  log.level = "debug";
  return { log, lines };
}

/** Starts an in-process sidecar for a config document; listeners are on their configured (or OS-given) ports. */
export async function startSidecar(doc: unknown) {
  const config: Config = parseConfig(doc);
  const { log, lines } = memoryLog();
  const sidecar = new Sidecar(log);
  await sidecar.start(config);
  onCleanup(() => sidecar.shutdown(0));
  const portOf = (name: string) => sidecar.listeners.get(name)!.port();
  const connections = () => lines.filter((l) => l.msg === "connection");
  return { sidecar, lines, port: sidecar.listeners.get("l")?.port() ?? 0, portOf, connections, log };
}

/** A one-listener config named "l" in front of the given backend addresses. */
export function tcpConfig(
  addresses: string[],
  listener: Record<string, unknown> = {},
  service: Record<string, unknown> = {},
) {
  return {
    services: [{ name: "svc", backends: addresses.map((address) => ({ address })), ...service }],
    listeners: [{ name: "l", listen: "127.0.0.1:0", service: "svc", ...listener }],
  };
}

/** A client connection; `localAddress` picks the address it comes from (any of 127.0.0.0/8 works on Linux). */
export async function connect(port: number, host = "127.0.0.1", localAddress?: string): Promise<net.Socket> {
  const s = net.connect({ port, host, allowHalfOpen: true, localAddress });
  await once(s, "connect");
  // Cleanup resets whatever a test left open; tests that care listen for "error" themselves.
  s.on("error", () => {});
  onCleanup(() => s.destroy());
  return s;
}

/** Everything a socket receives until it ends or closes (errors end the read as well). */
export function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => {});
    const done = () => resolve(Buffer.concat(chunks));
    s.once("end", done);
    s.once("close", done);
  });
}

/** Sends `text`, half-closes, and returns the whole reply. */
export async function roundTrip(port: number, text: string): Promise<string> {
  const s = await connect(port);
  const reply = readAll(s);
  s.end(text);
  const out = (await reply).toString();
  s.destroy();
  return out;
}

/** The enclosing describe's tests run on this data path (SWITCHYARD_L4_DATA_PATH: native, raw or socket). */
export function useDataPath(mode: string): void {
  beforeEach(() => {
    process.env.SWITCHYARD_L4_DATA_PATH = mode;
  });
  afterEach(() => {
    delete process.env.SWITCHYARD_L4_DATA_PATH;
  });
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `bin/switchyard-l4.mjs` with the project's Node 22 (or `program`, e.g. a release's executable, from `cwd`
 * with exactly `env`); stdout lines are collected as parsed JSON. One process unless a test asks for more (the
 * program's default is one per core): counts, round-robin order and /status's shape are then the same everywhere.
 */
export function spawnSidecar(
  args: string[],
  opts: { program?: string[]; cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const [file, ...pre] = opts.program ?? [NODE, path.join(ROOT, "bin/switchyard-l4.mjs")];
  const workers = args.includes("--workers") ? [] : ["--workers", "1"];
  const child: ChildProcess = spawn(file!, [...pre, ...args, ...workers], {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    const parts = stdout.split("\n");
    stdout = parts.pop()!;
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p));
      } catch {
        lines.push({ msg: p });
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    return exited;
  });
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    // Generous: --workers forks processes that each load the sources, slow on a loaded machine.
    waitForLog: async (msg: string, timeoutMs = 30_000) => {
      const seen = () => lines.some((l) => l.msg === msg);
      // An exit ends the wait at once; the failure shows what the program printed (its errors are log lines).
      await waitFor(
        () => seen() || child.exitCode !== null || child.signalCode !== null,
        timeoutMs,
        `log line "${msg}"`,
      ).catch(() => undefined);
      if (seen()) return;
      const printed = lines
        .slice(-5)
        .map((l) => JSON.stringify(l))
        .join("\n");
      const state = child.exitCode ?? child.signalCode ?? "still running";
      throw new Error(`no log line "${msg}" (exit: ${state}); last lines:\n${printed}\nstderr: ${stderr}`);
    },
  };
}

/** A backend whose accept queue is full, so connects to it hang: a child Node process with a blocked loop. */
export async function blackhole(): Promise<string> {
  const child = spawn(
    NODE,
    [
      "-e",
      `const s=require("net").createServer();s.listen({port:0,host:"127.0.0.1",backlog:1},()=>{console.log(s.address().port);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  onCleanup(() => child.kill("SIGKILL"));
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  const port = Number(line.toString().trim());
  // Fill the accept queue (backlog + 1 on Linux); later SYNs are dropped and connects hang.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const f = net.connect(port, "127.0.0.1");
    f.on("error", () => {});
    fillers.push(f);
  }
  onCleanup(() => {
    for (const f of fillers) f.destroy();
  });
  await sleep(100);
  return `127.0.0.1:${port}`;
}

/** A minimal TLS 1.2-style ClientHello record naming `serverName` (for parser and decision tests without TLS). */
export function clientHello(serverName?: string): Buffer {
  const name = serverName === undefined ? Buffer.alloc(0) : Buffer.from(serverName);
  const sni =
    serverName === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([
          u16(0), // server_name
          u16(name.length + 5),
          u16(name.length + 3),
          Buffer.from([0]), // host_name
          u16(name.length),
          name,
        ]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // no session id
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]), // compression: null
    u16(sni.length),
    sni,
  ]);
  const handshake = Buffer.concat([
    Buffer.from([1, body.length >> 16, (body.length >> 8) & 255, body.length & 255]),
    body,
  ]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(handshake.length), handshake]);
}

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 255]);
}

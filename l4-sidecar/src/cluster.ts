// --workers N: a primary process that owns the config (reads, validates, reloads, serves the admin endpoint)
// and N worker processes that each bind every listener with SO_REUSEPORT, so the kernel spreads connections
// across cores with no hand-off through the primary. Workers get the raw document over IPC and validate it.
import cluster, { type Worker } from "node:cluster";
import type { Server } from "node:http";
import { AggregatorRegistry, Registry } from "prom-client";
import { type Config, checkConfig } from "../../core/config/index.ts";
import { startAdmin } from "./admin.ts";
import type { SidecarStatus } from "./admin-page.ts";
import type { CliOptions } from "./args.ts";
import { type Initial, reloadTriggers, waitForStopSignal } from "./lifecycle.ts";
import { createLogger, flushLogs, type Logger } from "./log.ts";
import { createMetrics, ReloadStats } from "./metrics.ts";
import {
  ActionError,
  checkAction,
  type OperatorAction,
  OperatorBook,
  type OperatorChange,
} from "./operator.ts";
import { Reloader } from "./reload.ts";
import { Sidecar } from "./sidecar.ts";
import type { ConfigSourceReader } from "./source.ts";
import { mergeStatuses } from "./status-merge.ts";

type ToWorker =
  | { t: "config"; id: number; raw: unknown; version: string; operator: OperatorAction[] }
  | { t: "status"; id: number }
  | { t: "operator"; id: number; action: OperatorAction }
  | { t: "shutdown"; drainMs: number };
type FromWorker =
  | { t: "hello" }
  | { t: "applied"; id: number; errors: string[] }
  | { t: "status"; id: number; status: unknown }
  | { t: "operated"; id: number; changes: OperatorChange[] };

let nextId = 1;

/** Sends a request to a worker and waits for the reply with the same id (or undefined after a timeout). */
function ask<T extends FromWorker>(
  w: Worker,
  msg: ToWorker & { id: number },
  timeoutMs = 10_000,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const onMessage = (m: FromWorker) => {
      if ("id" in m && m.id === msg.id) done(m as T);
    };
    const done = (m: T | undefined) => {
      clearTimeout(timer);
      w.off("message", onMessage);
      w.off("exit", onExit);
      resolve(m);
    };
    const onExit = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    w.on("message", onMessage);
    w.once("exit", onExit);
    w.send(msg);
  });
}

export async function runPrimary(
  opts: CliOptions,
  source: ConfigSourceReader,
  initial: Initial,
  log: Logger,
  adminToken: string | undefined,
) {
  let current: { raw: unknown; version: string; config: Config } = initial;
  // Operator states live in the workers' backend state; the primary keeps them to replay on a new worker.
  const operator = new OperatorBook();
  let stopping = false;
  const workers = new Set<Worker>();
  const ready = new Set<Worker>();

  const configure = async (w: Worker): Promise<string[]> => {
    const reply = await ask<{ t: "applied"; id: number; errors: string[] }>(w, {
      t: "config",
      id: nextId++,
      raw: current.raw,
      version: current.version,
      operator: operator.actions(),
    });
    const errors = reply ? reply.errors : [`worker ${w.process.pid} did not apply the config`];
    if (errors.length === 0) ready.add(w);
    return errors;
  };

  const fork = (): Promise<string[]> =>
    new Promise((resolve) => {
      const w = cluster.fork({ SWITCHYARD_L4_WORKER: "1" });
      workers.add(w);
      w.once("message", (m: FromWorker) => {
        if (m.t === "hello") void configure(w).then(resolve);
      });
      w.once("exit", (code, signal) => {
        workers.delete(w);
        ready.delete(w);
        resolve([`worker exited (${signal ?? code}) before it was ready`]);
        if (stopping) return;
        log.error({ worker: w.process.pid, code, signal }, "worker died; starting a new one");
        setTimeout(() => void fork(), 1000).unref();
      });
    });

  const startErrors = (await Promise.all(Array.from({ length: opts.workers }, fork))).flat();
  if (startErrors.length) {
    log.error({ errors: startErrors }, "could not start");
    stopping = true;
    for (const w of workers) w.kill("SIGKILL");
    return 1;
  }

  const reloads = new ReloadStats();
  const reloader = new Reloader(
    source,
    async (config, version, raw) => {
      current = { raw, version, config };
      const errors = (await Promise.all([...workers].map(configure))).flat();
      return errors.map((e) => new Error(e));
    },
    reloads,
    log,
  );
  reloader.version = initial.version;

  let admin: Server | undefined;
  if (opts.admin) {
    const aggregator = new AggregatorRegistry();
    // The primary's own series (reloads, config version) next to the workers' summed ones.
    const own = new Registry();
    createMetrics(new Sidecar(log), reloads, own, { onlyConfig: true, version: () => current.version });
    const statuses = () =>
      Promise.all(
        [...workers].map(
          async (w) =>
            (await ask<{ t: "status"; id: number; status: object }>(w, { t: "status", id: nextId++ }, 2000))
              ?.status,
        ),
      );
    admin = await startAdmin(opts.admin.host, opts.admin.port, {
      registry: () => own,
      metrics: async () => `${await aggregator.clusterMetrics()}\n${await own.metrics()}`,
      status: async () => {
        const pids = [...workers].map((w) => w.process.pid);
        const each = await statuses();
        const merged = mergeStatuses(each.filter((st): st is SidecarStatus => st !== undefined));
        // The same shape as one process's (figures summed over workers), then each worker's own.
        return {
          version: current.version,
          draining: stopping,
          listeners: merged.listeners,
          services: merged.services,
          reloads,
          workers: each.map((st, i) => ({ pid: pids[i], ...(st ?? { error: "no answer" }) })),
        };
      },
      view: async () =>
        mergeStatuses((await statuses()).filter((st): st is SidecarStatus => st !== undefined)),
      ready: () => !stopping && ready.size === workers.size && workers.size > 0,
      act: async (action) => {
        checkAction(current.config, action);
        operator.set(action);
        const replies = await Promise.all(
          [...workers].map((w) =>
            ask<{ t: "operated"; id: number; changes: OperatorChange[] }>(w, {
              t: "operator",
              id: nextId++,
              action,
            }),
          ),
        );
        if (replies.some((r) => r === undefined))
          throw new ActionError(503, "a worker did not answer; the state applies to it once it is back");
        return replies[0]?.changes ?? [];
      },
      token: adminToken,
    });
    log.info({ admin: `${opts.admin.host}:${opts.admin.port}` }, "admin endpoint listening");
  }
  const stopTriggers = reloadTriggers(opts, reloader);
  log.info({ workers: opts.workers, source: source.where, version: initial.version }, "started");

  const signal = await waitForStopSignal();
  stopping = true;
  stopTriggers();
  log.info({ signal, drain_ms: opts.drainMs }, "shutting down: no longer accepting, draining connections");
  await Promise.all(
    [...workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once("exit", () => resolve());
          w.send({ t: "shutdown", drainMs: opts.drainMs } satisfies ToWorker);
        }),
    ),
  );
  admin?.close();
  admin?.closeAllConnections();
  log.info({}, "all workers exited");
  return 0;
}

export async function runWorker(): Promise<number> {
  const log = createLogger();
  const sidecar = new Sidecar(log, { reusePort: true });
  const registry = new Registry();
  createMetrics(sidecar, new ReloadStats(), registry, { skipConfig: true });
  new AggregatorRegistry(); // installs the worker side of prom-client's cluster metrics
  AggregatorRegistry.setRegistries([registry]);
  let _started = false;

  const stop = new Promise<number>((resolve) => {
    process.on("message", async (m: ToWorker) => {
      if (m.t === "config") {
        let config: Config | undefined;
        let errors: string[];
        try {
          const checked = checkConfig(m.raw);
          config = checked.config;
          if (!config) errors = checked.problems.map((p) => `${p.path}: ${p.message}`);
          else errors = (await sidecar.apply(config, m.version)).map((e) => e.message);
        } catch (err) {
          // A worker keeps serving its last good config whatever a new one does to the checker.
          errors = [`the config could not be applied: ${(err as Error).name}: ${(err as Error).message}`];
        }
        // States set before this worker started (or before a reload), for backends still in the config.
        if (config) for (const a of m.operator) tryOperator(sidecar, a);
        _started ||= errors.length === 0;
        process.send!({ t: "applied", id: m.id, errors } satisfies FromWorker);
      } else if (m.t === "operator") {
        const changes = tryOperator(sidecar, m.action);
        process.send!({ t: "operated", id: m.id, changes } satisfies FromWorker);
      } else if (m.t === "status") {
        process.send!({ t: "status", id: m.id, status: sidecar.status() } satisfies FromWorker);
      } else if (m.t === "shutdown") {
        const { forced } = await sidecar.shutdown(m.drainMs);
        log.info(
          { forced },
          forced ? "drain deadline passed; reset the remaining connections" : "drained; exiting",
        );
        resolve(0);
      }
    });
  });
  // Ctrl-C reaches every process in the group; the primary's shutdown message does the draining.
  // SIGHUP (reload) is handled by the primary as well; a worker must not die of it.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  process.on("SIGHUP", () => {});
  process.send!({ t: "hello" } satisfies FromWorker);
  const code = await stop;
  flushLogs();
  process.exit(code);
}

/** The primary checked the action against its config; a worker whose config differs skips what it lacks. */
function tryOperator(sidecar: Sidecar, a: OperatorAction): OperatorChange[] {
  try {
    return sidecar.setOperator(a);
  } catch {
    return [];
  }
}

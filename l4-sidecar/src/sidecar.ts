// The sidecar's run-time state: listeners built from a config, and shutdown with a drain deadline.
import type { Config } from "../../core/config/index.ts";
import { parseHostPort } from "../../core/config/index.ts";
import { TcpListener } from "./listener.ts";
import type { Logger } from "./log.ts";
import { type BackendState, ServicePool } from "./pool.ts";

export class Sidecar {
  readonly listeners = new Map<string, TcpListener>();
  private readonly backendStates = new Map<string, Map<string, BackendState>>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Starts a listener per `listeners` entry. Rejects (after closing what it opened) if any cannot bind. */
  async start(config: Config): Promise<void> {
    const pools = this.buildPools(config);
    try {
      for (const l of config.listeners) {
        const listener = new TcpListener({ listener: l, pool: pools.get(l.service)! }, this.log);
        const { host, port } = parseHostPort(l.listen)!;
        await listener.start(host, port);
        this.listeners.set(l.name, listener);
        this.log.info(
          { listener: l.name, listen: l.listen, port: listener.port(), service: l.service },
          "listening",
        );
      }
    } catch (err) {
      for (const l of this.listeners.values()) void l.close();
      this.listeners.clear();
      throw err;
    }
  }

  /** Stops accepting everywhere and waits for connections to end, resetting whatever is left at the deadline. */
  async shutdown(drainMs: number): Promise<{ forced: number }> {
    const all = [...this.listeners.values()];
    const closed = Promise.all(all.map((l) => l.close()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((r) => {
      timer = setTimeout(() => r("deadline"), drainMs);
    });
    const outcome = await Promise.race([closed.then(() => "drained" as const), deadline]);
    clearTimeout(timer);
    let forced = 0;
    if (outcome === "deadline") {
      for (const l of all) {
        forced += l.activeConnections;
        l.abortAll("shutdown");
      }
      await closed;
    }
    return { forced };
  }

  private buildPools(config: Config): Map<string, ServicePool> {
    const pools = new Map<string, ServicePool>();
    for (const s of config.services) {
      if (!s.backends.every((b) => b.address !== undefined)) continue;
      let states = this.backendStates.get(s.name);
      if (!states) {
        states = new Map();
        this.backendStates.set(s.name, states);
      }
      pools.set(s.name, new ServicePool(s, states));
    }
    return pools;
  }
}

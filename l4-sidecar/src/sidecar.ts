// The sidecar's run-time state: listeners, service pools and health checkers built from a config, reloads
// that add, update and remove listeners without touching the others, and shutdown with a drain deadline.
import type { Config } from "../../core/config/index.ts";
import { parseHostPort } from "../../core/config/index.ts";
import { IpSet } from "../../core/rules/ip.ts";
import { HealthChecker } from "./health.ts";
import { chooseDataPath } from "./io/native.ts";
import { TcpListener } from "./listener.ts";
import type { Listener, ListenerSettings } from "./listener-common.ts";
import type { Logger } from "./log.ts";
import { NativeTcpListener } from "./native-listener.ts";
import { checkAction, type OperatorAction, type OperatorChange } from "./operator.ts";
import { type BackendState, ServicePool } from "./pool.ts";
import { SniTable } from "./sni.ts";
import { ListenerStats } from "./stats.ts";
import { UdpListener } from "./udp.ts";

export interface SidecarOptions {
  /** Bind listeners with SO_REUSEPORT so several processes share them (--workers). */
  reusePort?: boolean;
}

/** A new listener: UDP; TCP on the native engine when it is available (or asked for), on JavaScript streams otherwise. */
function createListener(settings: ListenerSettings, stats: ListenerStats, log: Logger): Listener {
  if (settings.listener.protocol === "udp") return new UdpListener(settings, stats, log);
  return chooseDataPath() === "native"
    ? new NativeTcpListener(settings, stats, log)
    : new TcpListener(settings, stats, log);
}

export class Sidecar {
  readonly listeners = new Map<string, Listener>();
  /** service name → address → state; kept across reloads. */
  readonly backendStates = new Map<string, Map<string, BackendState>>();
  readonly listenerStats = new Map<string, ListenerStats>();
  pools = new Map<string, ServicePool>();
  config?: Config;
  version = "";
  draining = false;
  private checkers: HealthChecker[] = [];
  private readonly log: Logger;
  private readonly options: SidecarOptions;
  /** Listeners that were removed or moved and are still draining their connections. */
  private readonly retiring = new Set<Listener>();

  constructor(log: Logger, options: SidecarOptions = {}) {
    this.log = log;
    this.options = options;
  }

  /** Starts from a first config. Rejects (after closing what it opened) if any listener cannot bind. */
  async start(config: Config, version = ""): Promise<void> {
    const errors = await this.apply(config, version);
    if (errors.length) {
      await this.shutdown(0);
      throw errors[0];
    }
  }

  /**
   * Moves to `config`: new connections use it at once, open ones drain on the settings they started with.
   * Listeners whose name and address are unchanged keep their socket; removed or moved ones stop accepting and
   * drain; new ones bind. Returns the errors of listeners that could not bind (the rest is applied).
   */
  async apply(config: Config, version = ""): Promise<Error[]> {
    this.pools = this.buildPools(config);
    const wanted = new Map(config.listeners.map((l) => [l.name, l]));

    // Free addresses first, so a listener renamed or moved onto an old address can bind.
    for (const [name, listener] of this.listeners) {
      const next = wanted.get(name);
      if (next && next.listen === listener.listen && transport(next.protocol) === listener.transport)
        continue;
      this.listeners.delete(name);
      this.retiring.add(listener);
      this.log.info(
        { listener: name, listen: listener.listen, open: listener.activeConnections },
        "listener removed; draining",
      );
      void listener.close().then(() => this.retiring.delete(listener));
    }

    const errors: Error[] = [];
    for (const l of config.listeners) {
      const settings: ListenerSettings = {
        listener: l,
        pool: this.pools.get(l.service)!,
        ...(l.allow ? { allow: IpSet.parse(l.allow) } : {}),
        ...(l.deny ? { deny: IpSet.parse(l.deny) } : {}),
        ...(l.proxy_protocol_from ? { proxyFrom: IpSet.parse(l.proxy_protocol_from) } : {}),
        ...(l.sni
          ? { sni: new SniTable(Object.entries(l.sni).map(([host, svc]) => [host, this.pools.get(svc)!])) }
          : {}),
      };
      const existing = this.listeners.get(l.name);
      if (existing) {
        existing.update(settings);
        continue;
      }
      let stats = this.listenerStats.get(l.name);
      if (!stats) {
        stats = new ListenerStats();
        this.listenerStats.set(l.name, stats);
      }
      const { host, port } = parseHostPort(l.listen)!;
      let listener: Listener;
      try {
        listener = createListener(settings, stats, this.log);
        await listener.start(host, port, this.options.reusePort);
      } catch (err) {
        this.log.error(
          { listener: l.name, listen: l.listen, err: (err as Error).message },
          "listener could not start",
        );
        errors.push(err as Error);
        continue;
      }
      this.listeners.set(l.name, listener);
      this.log.info(
        {
          listener: l.name,
          listen: l.listen,
          port: listener.port(),
          service: l.service,
          ...(listener.dataPath ? { data_path: listener.dataPath } : {}),
        },
        "listening",
      );
    }

    for (const c of this.checkers) c.stop();
    this.checkers = [];
    for (const pool of this.pools.values()) {
      const check = pool.service.health;
      if (!check) continue;
      const checker = new HealthChecker(
        pool.name,
        check,
        pool.backends.map((b) => b.state),
        this.log,
      );
      checker.start();
      this.checkers.push(checker);
    }
    this.config = config;
    this.version = version;
    return errors;
  }

  /** Stops accepting everywhere and waits for connections to end, resetting whatever is left at the deadline. */
  async shutdown(drainMs: number): Promise<{ forced: number }> {
    this.draining = true;
    for (const c of this.checkers) c.stop();
    const all = [...this.listeners.values(), ...this.retiring];
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

  /**
   * Sets backends' operator state (drain, maint, ready) at once: the balancer and the health checks read it
   * from the backend's state. Throws an ActionError when the service or a backend is not in the config.
   */
  setOperator(a: OperatorAction): OperatorChange[] {
    checkAction(this.config, a);
    const states = this.backendStates.get(a.service);
    const changes: OperatorChange[] = [];
    for (const address of a.backends) {
      const b = states?.get(address);
      if (!b || b.operator === a.state) continue;
      changes.push({ service: a.service, backend: address, from: b.operator, to: a.state });
      b.setOperator(a.state);
      this.log.warn(
        { service: a.service, backend: address, from: changes.at(-1)!.from, to: a.state },
        "backend operator state changed",
      );
    }
    return changes;
  }

  /** What /status shows: listeners, backends with health, and the config version. */
  status() {
    const now = Date.now();
    return {
      version: this.version,
      draining: this.draining,
      listeners: [...this.listeners.values()].map((l) => {
        const st = l.stats;
        return {
          name: l.name,
          listen: l.listen,
          port: l.port(),
          service: l.current.pool.name,
          protocol: l.current.listener.protocol,
          ...(l.dataPath ? { data_path: l.dataPath } : {}),
          active: st.active,
          max_active: st.max,
          max_connections: l.current.listener.max_connections,
          total: st.total,
          refused: st.refused,
          idle_timeouts: st.idleTimeouts,
          bytes_in: st.bytesIn,
          bytes_out: st.bytesOut,
        };
      }),
      services: [...this.pools.values()].map((p) => ({
        name: p.name,
        balance: p.service.balance,
        health_check: p.service.health !== undefined,
        backends: p.backends.map(({ state: b, weight, maxConnections }) => ({
          address: b.address,
          weight,
          ...(maxConnections ? { max_connections: maxConnections } : {}),
          operator: b.operator,
          operator_since: b.operatorSince,
          healthy: b.healthy,
          healthy_since: b.healthySince,
          checks: b.checks,
          ...(b.lastCheck ? { last_check: b.lastCheck } : {}),
          ejected: b.ejection?.ejected(now) ?? false,
          ...(b.ejection?.ejected(now)
            ? { ejected_since: b.ejectedAt, ejected_until: b.ejection.until }
            : {}),
          ejections: b.ejections,
          active: b.active,
          max_active: b.maxActive,
          total: b.total,
          connect_errors: b.connectErrors,
          bytes_in: b.bytesIn,
          bytes_out: b.bytesOut,
        })),
      })),
    };
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
      const pool = new ServicePool(s, states);
      pool.onPanic = (panic, usable, ready) =>
        this.log[panic ? "warn" : "info"](
          { service: s.name, healthy: usable, backends: ready, threshold_percent: s.panic_threshold },
          panic
            ? "panic mode: too few healthy backends, balancing across all of them"
            : "panic mode over: balancing across healthy backends again",
        );
      pools.set(s.name, pool);
    }
    // Forget backends that left the config once their last connection is gone (they stop showing in metrics).
    for (const [service, states] of this.backendStates) {
      const pool = pools.get(service);
      for (const [address, state] of states) {
        if (state.active === 0 && !pool?.backends.some((b) => b.state === state)) states.delete(address);
      }
      if (states.size === 0 && !pool) this.backendStates.delete(service);
    }
    return pools;
  }
}

/** tcp and tls listeners share the TCP socket type; udp is its own. */
function transport(protocol: string): "tcp" | "udp" {
  return protocol === "udp" ? "udp" : "tcp";
}

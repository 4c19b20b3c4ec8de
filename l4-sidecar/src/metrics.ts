// Prometheus metrics (prom-client). The data path only bumps plain counters (stats.ts, BackendState); these
// collectors read them at scrape time, so a busy connection costs no label lookups per chunk.
import { Counter, Gauge, Registry } from "prom-client";
import { OPERATOR_STATES } from "../../core/health/index.ts";
import type { Sidecar } from "./sidecar.ts";

export class ReloadStats {
  ok = 0;
  invalid = 0;
  failed = 0;
}

export interface MetricsOptions {
  /** Only the config series (the --workers primary, whose workers report the rest). */
  onlyConfig?: boolean;
  /** Leave out the config series (a --workers worker; the primary reports them). */
  skipConfig?: boolean;
  version?: () => string;
}

export function createMetrics(
  sidecar: Sidecar,
  reloads: ReloadStats,
  registry = new Registry(),
  options: MetricsOptions = {},
): Registry {
  if (!options.onlyConfig) dataMetrics(sidecar, registry);
  if (!options.skipConfig) configMetrics(reloads, registry, options.version ?? (() => sidecar.version));
  return registry;
}

function dataMetrics(sidecar: Sidecar, registry: Registry): void {
  const registers = [registry];
  const listeners = () => [...sidecar.listenerStats.entries()];
  const backends = () =>
    [...sidecar.backendStates.values()].flatMap((states) => [...states.values()]).map((b) => b);

  new Gauge({
    name: "switchyard_l4_connections_active",
    help: "Open client connections, per listener.",
    labelNames: ["listener"],
    registers,
    collect() {
      this.reset();
      for (const [name, st] of listeners()) this.set({ listener: name }, st.active);
    },
  });
  new Counter({
    name: "switchyard_l4_connections_total",
    help: "Client connections accepted (admitted), per listener.",
    labelNames: ["listener"],
    registers,
    collect() {
      this.reset();
      for (const [name, st] of listeners()) this.inc({ listener: name }, st.total);
    },
  });
  new Counter({
    name: "switchyard_l4_connections_refused_total",
    help: "Client connections refused, per listener and reason (max_connections, denied, no_backend, prelude_limit, untrusted_proxy).",
    labelNames: ["listener", "reason"],
    registers,
    collect() {
      this.reset();
      for (const [name, st] of listeners())
        for (const [reason, n] of Object.entries(st.refused)) this.inc({ listener: name, reason }, n);
    },
  });
  new Counter({
    name: "switchyard_l4_idle_timeouts_total",
    help: "Connections closed by the listener's idle timeout.",
    labelNames: ["listener"],
    registers,
    collect() {
      this.reset();
      for (const [name, st] of listeners()) this.inc({ listener: name }, st.idleTimeouts);
    },
  });
  new Counter({
    name: "switchyard_l4_listener_bytes_total",
    help: "Bytes carried per listener; direction in = client to backend, out = backend to client.",
    labelNames: ["listener", "direction"],
    registers,
    collect() {
      this.reset();
      for (const [name, st] of listeners()) {
        this.inc({ listener: name, direction: "in" }, st.bytesIn);
        this.inc({ listener: name, direction: "out" }, st.bytesOut);
      }
    },
  });
  new Counter({
    name: "switchyard_l4_backend_bytes_total",
    help: "Bytes carried per backend; direction in = client to backend, out = backend to client.",
    labelNames: ["service", "backend", "direction"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) {
        this.inc({ service: b.service, backend: b.address, direction: "in" }, b.bytesIn);
        this.inc({ service: b.service, backend: b.address, direction: "out" }, b.bytesOut);
      }
    },
  });
  new Gauge({
    name: "switchyard_l4_backend_connections_active",
    help: "Open connections to each backend.",
    labelNames: ["service", "backend"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.set({ service: b.service, backend: b.address }, b.active);
    },
  });
  new Counter({
    name: "switchyard_l4_backend_connections_total",
    help: "Connections established to each backend.",
    labelNames: ["service", "backend"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.inc({ service: b.service, backend: b.address }, b.total);
    },
  });
  new Counter({
    name: "switchyard_l4_backend_connect_errors_total",
    help: "Failed connects to each backend, by kind (refused, timeout, failed).",
    labelNames: ["service", "backend", "kind"],
    registers,
    collect() {
      this.reset();
      for (const b of backends())
        for (const [kind, n] of Object.entries(b.connectErrors))
          this.inc({ service: b.service, backend: b.address, kind }, n);
    },
  });
  new Gauge({
    name: "switchyard_l4_backend_up",
    help: "1 when the backend takes new connections (passing health checks, not ejected), else 0.",
    labelNames: ["service", "backend"],
    aggregator: "min", // with --workers: down if any worker sees it down
    registers,
    collect() {
      this.reset();
      const now = Date.now();
      for (const b of backends())
        this.set({ service: b.service, backend: b.address }, b.available(now) ? 1 : 0);
    },
  });
  new Gauge({
    name: "switchyard_l4_backend_operator_state",
    help: "The backend's operator state set through the admin endpoint (ready, drain, maint): 1 for the current one.",
    labelNames: ["service", "backend", "state"],
    aggregator: "max", // with --workers: every worker holds the same state
    registers,
    collect() {
      this.reset();
      for (const b of backends())
        for (const state of OPERATOR_STATES)
          this.set({ service: b.service, backend: b.address, state }, b.operator === state ? 1 : 0);
    },
  });
  new Counter({
    name: "switchyard_l4_backend_ejections_total",
    help: "Times passive health ejected each backend.",
    labelNames: ["service", "backend"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.inc({ service: b.service, backend: b.address }, b.ejections);
    },
  });
}

function configMetrics(reloads: ReloadStats, registry: Registry, version: () => string): void {
  const registers = [registry];
  new Counter({
    name: "switchyard_l4_config_reloads_total",
    help: "Config reloads by result: ok, invalid (rejected, old config kept), failed (could not read or bind).",
    labelNames: ["result"],
    registers,
    collect() {
      this.reset();
      this.inc({ result: "ok" }, reloads.ok);
      this.inc({ result: "invalid" }, reloads.invalid);
      this.inc({ result: "failed" }, reloads.failed);
    },
  });
  new Gauge({
    name: "switchyard_l4_config_info",
    help: "The running config's version (a hash of the document), as a label; value 1.",
    labelNames: ["version"],
    registers,
    collect() {
      this.reset();
      this.set({ version: version() }, 1);
    },
  });
}

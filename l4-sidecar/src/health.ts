// Runs a service's active health checks: one probe per backend every interval, fed to the rise/fall state
// machine from core/health; a flip changes the backend's `healthy` flag, which the balancer's accept reads.
// A backend in maintenance (operator state `maint`) is not probed; its checks resume from where they were.
import type { HealthCheck } from "../../core/config/schema/health.ts";
import { type Hysteresis, hysteresis, probed } from "../../core/health/index.ts";
import type { Logger } from "./log.ts";
import type { BackendState } from "./pool.ts";
import { probe } from "./probe.ts";

export class HealthChecker {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  readonly service: string;
  private readonly check: HealthCheck;
  private readonly backends: readonly BackendState[];
  private readonly log: Logger;

  constructor(service: string, check: HealthCheck, backends: readonly BackendState[], log: Logger) {
    this.service = service;
    this.check = check;
    this.backends = backends;
    this.log = log;
  }

  start(): void {
    for (const b of this.backends) {
      const machine = hysteresis({
        rise: this.check.healthy,
        fall: this.check.unhealthy,
        initial: b.healthy,
      });
      // Spread the first probes over the interval so a large pool does not probe in bursts.
      this.schedule(b, machine, Math.floor(Math.random() * Math.min(this.check.interval, 1000)));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** The interval plus up to `jitter` at random, so checks of many services (and sidecars) do not fire together. */
  private nextDelay(): number {
    return this.check.interval + Math.floor(Math.random() * this.check.jitter);
  }

  private schedule(b: BackendState, machine: Hysteresis, delay: number): void {
    if (this.stopped) return;
    const t = setTimeout(async () => {
      this.timers.delete(t);
      if (!probed(b.operator)) {
        this.schedule(b, machine, this.nextDelay());
        return;
      }
      const ok = await probe(b.host, b.port, this.check);
      if (this.stopped) return;
      b.checks++;
      b.lastCheck = { ok, at: Date.now() };
      if (machine.observe(ok)) {
        b.healthy = machine.healthy;
        b.healthySince = b.lastCheck.at;
        this.log.warn(
          { service: this.service, backend: b.address, healthy: b.healthy },
          "backend health changed",
        );
      }
      this.schedule(b, machine, this.nextDelay());
    }, delay);
    t.unref();
    this.timers.add(t);
  }
}

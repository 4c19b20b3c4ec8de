// With --workers the page and /status show one view of every worker's state: counters summed, peaks the largest
// worker's, health the worst any worker sees, times the latest (l4-sidecar/src/status-merge.ts).
import { describe, expect, it } from "vitest";
import type { SidecarStatus } from "../../l4-sidecar/src/admin-page.ts";
import { mergeStatuses } from "../../l4-sidecar/src/status-merge.ts";

type Backend = SidecarStatus["services"][number]["backends"][number];

function worker(b: Partial<Backend>, active: number, max: number): SidecarStatus {
  return {
    version: "abc",
    draining: false,
    listeners: [
      {
        name: "l",
        listen: "127.0.0.1:1",
        port: 1,
        service: "s",
        protocol: "tcp",
        data_path: "native",
        active,
        max_active: max,
        max_connections: 100,
        total: 10,
        refused: { max_connections: 1, denied: 0, no_backend: 2 },
        idle_timeouts: 1,
        bytes_in: 100,
        bytes_out: 200,
      },
    ],
    services: [
      {
        name: "s",
        balance: "round-robin",
        health_check: true,
        panic: false,
        backends: [
          {
            address: "10.0.0.1:1",
            weight: 1,
            operator: "drain",
            operator_since: 1000,
            healthy: true,
            healthy_since: 500,
            checks: 3,
            ejected: false,
            ejections: 0,
            active,
            max_active: max,
            total: 5,
            connect_errors: { refused: 1, timeout: 0, failed: 0 },
            bytes_in: 10,
            bytes_out: 20,
            ...b,
          } as Backend,
        ],
      },
    ],
  } as unknown as SidecarStatus; // only the fields the merge reads
}

describe("mergeStatuses", () => {
  it("sums counters, keeps the largest peak and the worst health, and counts the workers", () => {
    const v = mergeStatuses([
      worker({ last_check: { ok: true, at: 2000 } }, 2, 7),
      worker(
        { healthy: false, healthy_since: 3000, last_check: { ok: false, at: 3000 }, ejections: 1 },
        3,
        4,
      ),
    ]);
    expect(v.workers).toBe(2);
    expect(v.listeners[0]).toMatchObject({
      active: 5,
      max_active: 7,
      max_connections: 100,
      total: 20,
      refused: { max_connections: 2, denied: 0, no_backend: 4 },
      bytes_in: 200,
      bytes_out: 400,
    });
    expect(v.services[0]!.backends[0]).toMatchObject({
      operator: "drain",
      healthy: false,
      healthy_since: 3000,
      last_check: { ok: false, at: 3000 },
      checks: 6,
      ejections: 1,
      active: 5,
      max_active: 7,
      total: 10,
      connect_errors: { refused: 2, timeout: 0, failed: 0 },
    });
  });

  it("no worker answered: an empty view, not an exception", () => {
    expect(mergeStatuses([])).toMatchObject({ listeners: [], services: [], workers: 0 });
  });
});

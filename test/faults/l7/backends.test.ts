// L7 fault scenarios with the documented defaults (no passive block, the default retry budget): backends that
// die and come back, flap, hang past per_try_timeout or reset connections while GETs keep coming.
import { afterAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../../core/config/index.ts";
import { backendUrl, chaos } from "../../worker/chaos.ts";
import { faultTable } from "../recorder.ts";
import { freshName, type LoadResult, steadyLoad } from "./load.ts";

const table = faultTable("L7 faults: backends");
afterAll(() => console.log(table.render()));

/** Three backends and a catch-all route; `retry` as in the report that found the defaults unsafe. */
function service(ports: number[], extra: Record<string, unknown> = {}): ConfigInput {
  const name = freshName("svc");
  return {
    services: [
      {
        name,
        backends: ports.map((p) => ({ url: backendUrl(p) })),
        retry: { attempts: 2, on: ["connect-failure", "reset", "gateway-error"] },
        ...extra,
      },
    ],
    routes: [{ name: "all", service: name }],
  } as ConfigInput;
}

const spawn3 = () => Promise.all([chaos.spawn(), chaos.spawn(), chaos.spawn()]);
const promise = "0 failed GETs while another backend is healthy";

/** One row for a scenario whose promise is that no GET failed. */
function recordLoad(scenario: string, r: LoadResult): void {
  table.record({
    scenario,
    unit: "requests",
    total: r.statuses.length,
    failed: r.failed,
    retried: r.retried,
    promise,
    held: r.failed === 0,
  });
}

describe("backends failing under steady load (defaults)", () => {
  it("a backend killed after 300 of 1,000 GETs and restarted after 700 costs no request", async () => {
    const ports = await spawn3();
    const victim = ports[1]!;
    const r = await steadyLoad(service(ports), {
      total: 1000,
      concurrency: 10,
      at: { 300: () => chaos.kill(victim), 700: () => chaos.revive(victim) },
    });
    recordLoad("backend killed, later restarted", r);
    expect(r.statuses).toHaveLength(1000);
    expect(r.failed).toBe(0);
    expect(r.retried).toBeGreaterThan(0);
  });

  it("a killed backend rejoins once its ejection ends and it is back", async () => {
    const ports = await spawn3();
    const victim = ports[2]!;
    const config = service(ports, { passive: { eject: "100ms" } });
    const before = await steadyLoad(config, {
      total: 300,
      concurrency: 10,
      at: { 50: () => chaos.kill(victim) },
    });
    await chaos.revive(victim);
    await new Promise((r) => setTimeout(r, 150));
    const served = (await chaos.stats(victim)).requests;
    const after = await steadyLoad(config, { total: 300, concurrency: 10 });
    const rejoined = (await chaos.stats(victim)).requests - served;
    table.record({
      scenario: "killed backend restarts, rejoins",
      unit: "requests",
      total: before.statuses.length + after.statuses.length,
      failed: before.failed + after.failed,
      retried: before.retried + after.retried,
      promise: "0 failed; the restarted backend serves again",
      held: before.failed + after.failed === 0 && rejoined > 0,
    });
    expect(before.failed + after.failed).toBe(0);
    expect(rejoined).toBeGreaterThan(50);
  });

  it("a flapping backend (down and up every 100 GETs) costs no request", async () => {
    const ports = await spawn3();
    const victim = ports[0]!;
    const at: Record<number, () => Promise<unknown>> = {};
    for (let i = 100; i < 1000; i += 200) {
      at[i] = () => chaos.kill(victim);
      at[i + 100] = () => chaos.revive(victim);
    }
    const r = await steadyLoad(service(ports), { total: 1000, concurrency: 10, at });
    recordLoad("flapping backend", r);
    expect(r.failed).toBe(0);
  });

  it("a backend that hangs past per_try_timeout costs no request", async () => {
    const ports = await spawn3();
    await chaos.mode(ports[2]!, "hang");
    const r = await steadyLoad(
      service(ports, {
        retry: { attempts: 2, on: ["connect-failure", "reset", "timeout"], per_try_timeout: "150ms" },
      }),
      { total: 300, concurrency: 10 },
    );
    recordLoad("slow backend past per_try_timeout", r);
    expect(r.failed).toBe(0);
    expect(r.retried).toBeGreaterThan(0);
  });

  it("a backend that resets every connection costs no request", async () => {
    const ports = await spawn3();
    await chaos.mode(ports[0]!, "reset");
    const r = await steadyLoad(service(ports), { total: 1000, concurrency: 10 });
    recordLoad("backend resets connections", r);
    expect(r.failed).toBe(0);
    expect(r.retried).toBeGreaterThan(0);
  });
});

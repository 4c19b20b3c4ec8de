// Active health checks in the HealthChecker Durable Object, with its alarm driven by runDurableObjectAlarm:
// rise/fall thresholds, expected statuses and body, the isolate's short cache, and the cron re-arm.

import {
  createExecutionContext,
  createScheduledController,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkConfig } from "../../core/config/parse.ts";
import worker from "../../worker/src/index.ts";
import type { HealthChecker } from "../../worker/src/resilience/health-object.ts";
import { healthSpec } from "../../worker/src/resilience/health-spec.ts";
import { runtimeFor } from "../../worker/src/runtime.ts";
import { backendUrl, chaos } from "./chaos.ts";
import { makeCaller } from "./helpers.ts";

const ns = env.HEALTH_CHECKER!;
let seq = 0;

/** A service config with an HTTP check; interval and jitter of an hour keep the alarm from firing on its own. */
function service(ports: number[], health: Record<string, unknown> = {}) {
  const name = `hc-${Date.now()}-${seq++}`;
  const doc = {
    services: [
      {
        name,
        backends: ports.map((p) => ({ url: backendUrl(p) })),
        health: { path: "/health", interval: "1h", jitter: "1h", healthy: 3, unhealthy: 2, ...health },
      },
    ],
    routes: [{ name: "all", service: name }],
  };
  const { config, problems } = checkConfig(doc);
  expect(problems).toEqual([]);
  const spec = healthSpec(config!.services[0]!)!;
  const stub = ns.get(ns.idFromName(name));
  return { name, doc, spec, stub };
}

async function check(stub: DurableObjectStub<HealthChecker>) {
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  return stub.snapshot();
}

describe("active health checks", () => {
  it("flips a backend down only after `unhealthy` failures and up only after `healthy` passes", async () => {
    const a = await chaos.spawn();
    const b = await chaos.spawn();
    const { spec, stub } = service([a, b]);
    await stub.sync(spec);
    const A = `${backendUrl(a)}/`;
    const B = `${backendUrl(b)}/`;
    expect((await check(stub)).backends[A]?.healthy).toBe(true);

    await chaos.health(a, "fail");
    let snap = await check(stub);
    expect(snap.backends[A]?.healthy).toBe(true); // 1 failure < unhealthy (2)
    snap = await check(stub);
    expect(snap.backends[A]).toMatchObject({
      healthy: false,
      reason: "status 503 is not an expected status",
    });
    expect(snap.backends[B]?.healthy).toBe(true);

    await chaos.health(a, "ok");
    expect((await check(stub)).backends[A]?.healthy).toBe(false);
    await chaos.health(a, "fail"); // a failure in between starts the count again
    expect((await check(stub)).backends[A]?.healthy).toBe(false);
    await chaos.health(a, "ok");
    expect((await check(stub)).backends[A]?.healthy).toBe(false);
    expect((await check(stub)).backends[A]?.healthy).toBe(false);
    snap = await check(stub);
    expect(snap.backends[A]).toMatchObject({ healthy: true, reason: "status 200" });
  });

  it("keeps the streak across an eviction of the object", async () => {
    const a = await chaos.spawn("ok", "fail");
    const { spec, stub } = service([a]);
    await stub.sync(spec);
    expect((await check(stub)).backends[`${backendUrl(a)}/`]?.healthy).toBe(true);
    // A new instance reads the stored state: the second failure still counts as the second.
    await evictDurableObject(stub);
    expect((await check(stub)).backends[`${backendUrl(a)}/`]?.healthy).toBe(false);
  });

  it("checks expected status ranges and the body text", async () => {
    const a = await chaos.spawn("ok", "fail");
    const { spec, stub } = service([a], { status: "200-599", body: "ok", unhealthy: 1 });
    await stub.sync(spec);
    const snap = await check(stub);
    expect(snap.backends[`${backendUrl(a)}/`]).toMatchObject({
      healthy: false,
      reason: 'status 503 but the body does not contain "ok"',
    });
  });

  it("counts a check that does not answer within the timeout as a failure", async () => {
    const a = await chaos.spawn("hang");
    const { spec, stub } = service([a], { path: "/slow-health", timeout: "200ms", unhealthy: 1 });
    await stub.sync(spec);
    const started = Date.now();
    const snap = await check(stub);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(snap.backends[`${backendUrl(a)}/`]).toMatchObject({
      healthy: false,
      reason: "no answer within 200ms",
    });
  });

  it("re-arms its alarm after each run at the interval", async () => {
    const a = await chaos.spawn();
    const { spec, stub } = service([a], { interval: "30s", jitter: "1s" });
    await stub.sync(spec);
    await runDurableObjectAlarm(stub);
    const at = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(at).toBeGreaterThanOrEqual(Date.now() + 28_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 31_100);
  });

  it("isolates read the results through a short cache and route around a down backend", async () => {
    const down = await chaos.spawn("ok", "fail");
    const up = await chaos.spawn();
    const { name, doc, spec, stub } = service([down, up], { unhealthy: 1 });
    await stub.sync(spec);
    await check(stub);
    const { call } = makeCaller(doc as never, {}, { HEALTH_CHECKER: ns });
    // The first request starts the refresh without waiting for it; once it is in, only `up` is used.
    await (await call("http://lb.test/first")).arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    const before = (await chaos.stats(down)).requests;
    for (let i = 0; i < 50; i++) await (await call("http://lb.test/x")).arrayBuffer();
    expect((await chaos.stats(down)).requests).toBe(before);
    // 51 requests, at most a couple of object calls (never one per request).
    expect(runtimeFor(doc).services.get(name)!.resilience.shared!.calls).toBeLessThanOrEqual(2);
  });
});

describe("cron trigger", () => {
  it("re-arms the alarm of every service with health checks", async () => {
    const a = await chaos.spawn();
    const { name, doc, stub } = service([a]);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: "* * * * *" }), { ...env, SWITCHYARD: doc }, ctx);
    await waitOnExecutionContext(ctx);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    expect((await stub.snapshot()).service).toBe(name);
  });
});

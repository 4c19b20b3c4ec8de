// Operator states for HTTP backends inside workerd: POST /actions on the admin API drains a backend, puts it in
// maintenance or readies it; the state is kept in the service's HealthChecker object, so every isolate's
// selection leaves the backend out (sticky pins and panic mode included), maint stops its active checks, and
// the state survives a config change that keeps the backend.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { checkConfig } from "../../core/config/parse.ts";
import { createApp } from "../../worker/src/app.ts";
import type { Env } from "../../worker/src/env.ts";
import { SharedHealth } from "../../worker/src/resilience/health-client.ts";
import { healthSpec } from "../../worker/src/resilience/health-spec.ts";
import { backendUrl, chaos } from "./chaos.ts";

const TOKEN = "s3cret-operator-token";
const ns = env.HEALTH_CHECKER!;
let seq = 0;

function setup(ports: number[], service: Record<string, unknown> = {}) {
  const name = `op-${Date.now()}-${seq++}`;
  const doc = {
    services: [{ name, backends: ports.map((p) => ({ url: backendUrl(p) })), ...service }],
    routes: [{ name: "all", service: name }],
  } as ConfigInput;
  const logs: string[] = [];
  const app = createApp({ log: (l) => logs.push(l) });
  const testEnv = { SWITCHYARD: doc, ADMIN_TOKEN: TOKEN, HEALTH_CHECKER: ns } as unknown as Env;
  const call = (path: string, init: RequestInit = {}) =>
    app.fetch(new Request(`http://lb.test${path}`, init), testEnv);
  const act = (body: unknown, token = TOKEN) =>
    call("/__switchyard/actions", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  /** The backend that answered each of `n` GETs. */
  const served = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const before = logs.length;
      const res = await call(`/item/${i}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      out.push(JSON.parse(logs[before]!).attempts[0].backend);
    }
    return out;
  };
  const { config } = checkConfig(doc);
  const spec = healthSpec(config!.services[0]!)!;
  return { name, doc, call, act, served, spec, stub: ns.get(ns.idFromName(name)) };
}

describe("operator states (POST /actions)", () => {
  it("drain: new requests leave the backend out in every isolate; ready brings it back", async () => {
    const a = await chaos.spawn();
    const b = await chaos.spawn();
    const { act, served, spec, name } = setup([a, b]);
    const A = `${backendUrl(a)}/`;
    expect(new Set(await served(4))).toEqual(new Set([A, `${backendUrl(b)}/`]));

    const res = await act({ service: name, backend: backendUrl(a), state: "drain" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      changes: [{ service: name, backend: A, from: "ready", to: "drain" }],
    });
    // This isolate uses the object's answer at once.
    expect(await served(8)).not.toContain(A);

    // Another isolate learns it with its next snapshot of the object.
    const other = new SharedHealth(spec);
    const pending: Promise<unknown>[] = [];
    other.refresh(ns, Date.now(), (p) => pending.push(p));
    await Promise.all(pending);
    expect(other.operator(A)).toBe("drain");

    expect((await act({ service: name, backend: [backendUrl(a)], state: "ready" })).status).toBe(200);
    expect(new Set(await served(4))).toContain(A);
  });

  it("stays out in panic mode: drained backends are not part of the pool panic spreads over", async () => {
    const a = await chaos.spawn();
    const b = await chaos.spawn();
    const c = await chaos.spawn();
    const { act, served, name } = setup([a, b, c], { panic_threshold: 90 });
    await act({ service: name, backend: backendUrl(a), state: "maint" });
    // 2 of 3 usable is below 90%: panic mode, yet the backend in maintenance gets nothing.
    expect(await served(9)).not.toContain(`${backendUrl(a)}/`);
  });

  it("maint stops the backend's active checks; drain keeps them; a config change keeps the state", async () => {
    const a = await chaos.spawn();
    const b = await chaos.spawn();
    const { act, spec, stub, name } = setup([a, b], {
      health: { path: "/health", interval: "1h", jitter: "1h" },
    });
    const A = `${backendUrl(a)}/`;
    const B = `${backendUrl(b)}/`;
    await stub.sync(spec);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const first = await stub.snapshot();
    expect(first.backends[A]?.checkedAt).toBeGreaterThan(0);

    await act({ service: name, backend: backendUrl(a), state: "drain" });
    await new Promise((r) => setTimeout(r, 5));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const drained = await stub.snapshot();
    expect(drained.backends[A]!.checkedAt).toBeGreaterThan(first.backends[A]!.checkedAt);

    await act({ service: name, backend: backendUrl(a), state: "maint" });
    await new Promise((r) => setTimeout(r, 5));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const maint = await stub.snapshot();
    expect(maint.backends[A]!.checkedAt).toBe(drained.backends[A]!.checkedAt);
    expect(maint.backends[B]!.checkedAt).toBeGreaterThan(drained.backends[B]!.checkedAt);
    expect(maint.operator[A]?.state).toBe("maint");

    // A new config (another check path) that keeps the backend: the object keeps its state.
    const changed = {
      ...spec,
      check: { ...spec.check!, path: "/other" },
      fingerprint: `${spec.fingerprint}+`,
    };
    expect((await stub.sync(changed)).operator[A]?.state).toBe("maint");
    // One that drops it forgets it.
    const without = { ...spec, backends: [B], fingerprint: `${spec.fingerprint}-a` };
    expect((await stub.sync(without)).operator[A]).toBeUndefined();
  });

  it("GET /health shows the state; bad requests are named; no token, no action", async () => {
    const a = await chaos.spawn();
    const { act, call, name } = setup([a]);
    expect((await act({ service: name, backend: backendUrl(a), state: "drain" }, "wrong")).status).toBe(401);
    await act({ service: name, backend: backendUrl(a), state: "drain" });
    const health = (await (
      await call("/__switchyard/health", { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { services: { service: string; backends: { operator: { state: string } }[] }[] };
    expect(health.services.find((s) => s.service === name)!.backends[0]!.operator.state).toBe("drain");

    const bad = await act({ service: name, backend: backendUrl(a), state: "down" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("state must be one of ready, drain, maint");
    const unknown = await act({ service: name, backend: "http://10.9.9.9:1", state: "drain" });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toContain("SY_ADMIN_NOT_FOUND");
    expect((await act({ service: "nope", backend: backendUrl(a), state: "drain" })).status).toBe(404);
  });
});

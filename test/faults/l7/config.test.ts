// L7 fault scenarios around the live config and the rate limiter: an invalid document pushed to Workers KV
// while GETs keep coming, and a RateLimiter object that throws or never answers.
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../../core/config/index.ts";
import { CONFIG_KEY } from "../../../core/config/store.ts";
import { liveConfig } from "../../../worker/src/config-source/live.ts";
import type { Env } from "../../../worker/src/env.ts";
import { backendUrl, chaos } from "../../worker/chaos.ts";
import { hangingLimiter, prefixedKv, throwingLimiter } from "../../worker/failing.ts";
import { faultTable } from "../recorder.ts";
import { freshName, steadyLoad } from "./load.ts";

const table = faultTable("L7 faults: config and rate limiter");
afterAll(() => console.log(table.render()));

const bindings = env as unknown as Env;

function service(ports: number[], extra: Partial<ConfigInput> = {}): ConfigInput {
  const name = freshName("svc");
  return {
    services: [{ name, backends: ports.map((p) => ({ url: backendUrl(p) })) }],
    routes: [{ name: "all", service: name }],
    ...extra,
  } as ConfigInput;
}

describe("live config under load", () => {
  it("an invalid document pushed to KV never takes effect: last good serves, the failure is counted", async () => {
    const ports = await Promise.all([chaos.spawn(), chaos.spawn()]);
    const kv = prefixedKv(bindings.SWITCHYARD_KV!, `${freshName("faults")}:`);
    const good = service(ports, { admin: { refresh: "1ms" } });
    await kv.put(CONFIG_KEY, JSON.stringify(good), { metadata: { version: 1 } });
    const deep = `${"(".repeat(1700)}http.host eq "a"${")".repeat(1700)}`;
    const bad = { ...good, waf: { rules: [{ id: "deep", expression: deep, action: "block" }] } };
    const headerBad = { ...good, forwarding: { internal_headers: ["x bad"] } };
    const r = await steadyLoad(
      { services: [], routes: [] },
      {
        total: 600,
        concurrency: 10,
        extraEnv: { SWITCHYARD_KV: kv },
        at: {
          200: () => kv.put(CONFIG_KEY, JSON.stringify(bad), { metadata: { version: 2 } }),
          400: () => kv.put(CONFIG_KEY, JSON.stringify(headerBad), { metadata: { version: 3 } }),
        },
      },
    );
    const live = liveConfig({ SWITCHYARD_KV: kv } as Env);
    table.record({
      scenario: "invalid config pushed to KV",
      unit: "requests",
      total: r.statuses.length,
      failed: r.failed,
      retried: r.retried,
      promise: "0 failed; version 1 keeps serving; each bad version counted",
      held: r.failed === 0 && live.version === 1 && live.errors === 2,
    });
    expect(r.failed).toBe(0);
    expect(live.version).toBe(1);
    expect(live.errors).toBe(2);
    expect(live.lastError?.code).toBe("SY_CONFIG_REJECTED");
  });
});

describe("rate limiter failing under load", () => {
  for (const [label, ns] of [
    ["throwing", throwingLimiter],
    ["hanging", hangingLimiter],
  ] as const) {
    it(`a ${label} RateLimiter object fails open (on_error = "allow"): no request fails`, async () => {
      const ports = await Promise.all([chaos.spawn(), chaos.spawn()]);
      const base = service(ports);
      const config = {
        ...base,
        routes: [{ ...base.routes![0]!, rate_limit: "per-ip" }],
        rate_limits: [{ name: "per-ip", key: "ip.src", limit: 1, period: "1m", deadline: "20ms" }],
      } as ConfigInput;
      const r = await steadyLoad(config, {
        total: 300,
        concurrency: 10,
        options: { namespace: () => ns },
        headers: { "cf-connecting-ip": "203.0.113.7" },
      });
      const errors = r.logs.filter((l) => l.includes('"source":"error"')).length;
      table.record({
        scenario: `rate limiter ${label}`,
        unit: "requests",
        total: r.statuses.length,
        failed: r.failed,
        retried: r.retried,
        promise: "0 failed (fail open within the deadline), every one logged",
        held: r.failed === 0 && errors === r.statuses.length,
      });
      expect(r.failed).toBe(0);
      expect(errors).toBe(r.statuses.length);
    });
  }
});

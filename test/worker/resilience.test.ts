// Retries, timeouts, budget, hedging and outlier ejection through the real proxy stage inside workerd, against
// real backends (chaos-servers.ts) that tests make fail, hang, reset or die while requests are running.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { healthView } from "../../worker/src/admin/health.ts";
import type { Env } from "../../worker/src/env.ts";
import { resilienceHealth } from "../../worker/src/resilience/admin-reader.ts";
import { runtimeFor } from "../../worker/src/runtime.ts";
import { backendUrl, chaos } from "./chaos.ts";
import { makeCaller } from "./helpers.ts";

type ServiceInput = NonNullable<ConfigInput["services"]>[number];

interface LogLine {
  status: number;
  error?: string;
  panic?: boolean;
  retry_budget_exhausted?: boolean;
  attempts: { n: number; backend: string; outcome: string; status?: number; ms: number; hedge?: boolean }[];
}

let seq = 0;
/** One service and a catch-all route; a fresh service name per call keeps per-isolate state apart. */
function setup(ports: number[], service: Partial<ServiceInput> = {}, route: Record<string, unknown> = {}) {
  const name = `svc-${Date.now()}-${seq++}`;
  const config = {
    services: [{ name, backends: ports.map((p) => ({ url: backendUrl(p) })), ...service }],
    routes: [{ name: "all", service: name, ...route }],
  } as ConfigInput;
  const caller = makeCaller(config, {}, { HEALTH_CHECKER: env.HEALTH_CHECKER });
  const log = (i: number) => JSON.parse(caller.logs[i]!) as LogLine;
  return { ...caller, name, log, config };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("retries", () => {
  it("loses no request when a backend is killed during 1,000 GETs (two others healthy)", async () => {
    const ports = await Promise.all([chaos.spawn(), chaos.spawn(), chaos.spawn()]);
    const { call, log, logs } = setup(ports, { passive: { failures: 3 } });
    const statuses: number[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < 1000) {
        const i = sent++;
        if (i === 300) await chaos.kill(ports[1]!);
        const res = await call(`http://lb.test/item/${i}`);
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(statuses).toHaveLength(1000);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The dead backend was tried, failed, and the requests moved on.
    const retried = logs.map((_, i) => log(i)).filter((l) => l.attempts.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const l of retried) expect(l.attempts[0]!.backend).toBe(`${backendUrl(ports[1]!)}/`);
    const after = await Promise.all([chaos.stats(ports[0]!), chaos.stats(ports[2]!)]);
    expect(after[0].requests + after[1].requests).toBeGreaterThan(600);
  }, 60_000);

  it("does not retry a POST that reached a backend which then dropped the connection", async () => {
    const reset = await chaos.spawn("reset");
    const ok = await chaos.spawn();
    const { call, log } = setup([reset, ok]);
    const results: { status: number; code?: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call("http://lb.test/orders", { method: "POST", body: "{}" });
      const body = (await res.json()) as { error?: { code: string } };
      results.push({ status: res.status, code: body.error?.code });
    }
    expect(results.filter((r) => r.status === 502)).toEqual([
      { status: 502, code: "SY_UPSTREAM_FAILED" },
      { status: 502, code: "SY_UPSTREAM_FAILED" },
    ]);
    for (let i = 0; i < 4; i++) expect(log(i).attempts).toHaveLength(1);
    // Every POST the ok backend saw came to it first: none was a retry.
    const stats = await chaos.stats(ok);
    expect(stats.methods.POST).toBe(2);
    expect(stats.attempts).toEqual(["1", "1"]);
    expect((await chaos.stats(reset)).methods.POST).toBe(2);
  });

  it("retries a POST with an Idempotency-Key, and any method when retry.non_idempotent is set", async () => {
    const reset = await chaos.spawn("reset");
    const ok = await chaos.spawn();
    const keyed = setup([reset, ok]);
    for (let i = 0; i < 4; i++) {
      const res = await keyed.call("http://lb.test/pay", {
        method: "POST",
        body: "{}",
        headers: { "idempotency-key": `k${i}` },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const optIn = setup([reset, ok], { retry: { non_idempotent: true } });
    for (let i = 0; i < 2; i++) {
      const res = await optIn.call("http://lb.test/pay", { method: "PATCH", body: "{}" });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });

  it("retries a GET on 503 to another backend, telling the backend the attempt and the client the count", async () => {
    const failing = await chaos.spawn("503");
    const ok = await chaos.spawn();
    const { call, log } = setup([failing, ok], { retry: { backoff: "1ms" } });
    const counts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call("http://lb.test/x");
      expect(res.status).toBe(200);
      counts.push(res.headers.get("x-switchyard-attempts") ?? "none");
      await res.arrayBuffer();
    }
    // Written only when there was more than one attempt.
    expect(counts.sort()).toEqual(["2", "2", "none", "none"]);
    const retried = [0, 1, 2, 3].map(log).find((l) => l.attempts.length === 2)!;
    expect(retried.attempts.map((a) => [a.n, a.outcome, a.status])).toEqual([
      [1, "response", 503],
      [2, "response", 200],
    ]);
    expect((await chaos.stats(ok)).attempts.sort()).toEqual(["1", "1", "2", "2"]);
  });

  it("passes the backend's own 503 through when attempts run out, and a route can turn retries off", async () => {
    const a = await chaos.spawn("503");
    const b = await chaos.spawn("503");
    const { call, log } = setup([a, b], { retry: { backoff: "1ms", attempts: 2 } });
    const res = await call("http://lb.test/x");
    expect(res.status).toBe(503);
    expect(res.headers.get("x-switchyard-attempts")).toBe("2");
    await res.arrayBuffer();
    expect(log(0).attempts).toHaveLength(2);

    const once = setup([a, b], { retry: { backoff: "1ms" } }, { retry: { attempts: 1 } });
    const r2 = await once.call("http://lb.test/x");
    expect(r2.status).toBe(503);
    await r2.arrayBuffer();
    expect(once.log(0).attempts).toHaveLength(1);
  });

  it("retries a body within retry.buffer and streams a larger one without a retry", async () => {
    const reset = await chaos.spawn("reset");
    const ok = await chaos.spawn();
    const { call } = setup([reset, ok], { retry: { buffer: "16kb" } });
    const put = async (size: number) => {
      const results: { status: number; code?: string; length?: number }[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await call("http://lb.test/doc", { method: "PUT", body: new Uint8Array(size).fill(7) });
        const body = (await res.json()) as { error?: { code: string; message: string }; length?: number };
        results.push({ status: res.status, code: body.error?.code, length: body.length });
      }
      return results;
    };
    // Small: whichever backend comes first, the PUT ends at ok with its whole body.
    expect(await put(8 * 1024)).toEqual([
      { status: 200, length: 8192 },
      { status: 200, length: 8192 },
    ]);
    // Large: the attempt that met the reset cannot be repeated, and nothing like "body already used" leaks.
    const large = await put(40 * 1024);
    expect(large).toContainEqual({ status: 502, code: "SY_UPSTREAM_FAILED" });
    expect(large).toContainEqual({ status: 200, length: 40 * 1024 });
  });

  it("names the attempt headers as configured, or leaves them out", async () => {
    const failing = await chaos.spawn("503");
    const ok = await chaos.spawn();
    const named = setup([failing, ok], { retry: { backoff: "1ms", attempts_header: "x-tries" } });
    const res = await named.call("http://lb.test/x");
    expect(res.headers.get("x-tries")).not.toBeNull();
    expect(res.headers.get("x-switchyard-attempts")).toBeNull();
    await res.arrayBuffer();
    const off = setup([ok], { retry: { attempts_header: "", attempt_header: "" } });
    const r2 = await off.call("http://lb.test/x");
    expect(r2.headers.get("x-switchyard-attempts")).toBeNull();
    await r2.arrayBuffer();
    expect((await chaos.stats(ok)).attempts.at(-1)).toBe("");
  });

  it("honours Retry-After only up to backoff_max", async () => {
    const a = await chaos.spawn("503-after-5");
    const b = await chaos.spawn("503-after-5");
    const { call, log } = setup([a, b], { retry: { attempts: 2, backoff_max: "200ms" } });
    const started = Date.now();
    const res = await call("http://lb.test/x");
    const ms = Date.now() - started;
    expect(res.status).toBe(503);
    await res.arrayBuffer();
    expect(log(0).attempts).toHaveLength(2);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(2000);
  });

  it("caps retries with the budget when every backend fails", async () => {
    const ports = await Promise.all([chaos.spawn("503"), chaos.spawn("503"), chaos.spawn("503")]);
    const { call, log } = setup(ports, {
      retry: { backoff: "1ms", budget: 20, budget_min: 0, budget_min_concurrent: 0 },
    });
    for (let i = 0; i < 50; i++) {
      const res = await call("http://lb.test/x");
      expect(res.status).toBe(503);
      await res.arrayBuffer();
    }
    const lines = Array.from({ length: 50 }, (_, i) => log(i));
    const retries = lines.reduce((sum, l) => sum + l.attempts.length - 1, 0);
    // Without the budget: 2 retries each (100); with it at most 20% of 50 requests.
    expect(retries).toBeLessThanOrEqual(10);
    expect(retries).toBeGreaterThanOrEqual(8);
    expect(lines.filter((l) => l.retry_budget_exhausted).length).toBeGreaterThan(30);
  });
});

describe("timeouts", () => {
  it("holds the total timeout when every attempt hangs", async () => {
    const ports = await Promise.all([chaos.spawn("hang"), chaos.spawn("hang"), chaos.spawn("hang")]);
    const { call, log } = setup(ports, {
      retry: { timeout: "1s", per_try_timeout: "300ms", attempts: 5, backoff: "1ms" },
    });
    const started = Date.now();
    const res = await call("http://lb.test/x");
    const ms = Date.now() - started;
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SY_UPSTREAM_TIMEOUT");
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1400);
    const attempts = log(0).attempts;
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.every((a) => a.outcome === "timeout")).toBe(true);
    // Each retry went to a backend not tried yet.
    expect(new Set(attempts.slice(0, 3).map((a) => a.backend)).size).toBe(3);
  });

  it("times out a single hanging attempt at the total timeout without per_try_timeout", async () => {
    const port = await chaos.spawn("hang");
    const { call } = setup([port], { retry: { timeout: "400ms" } });
    const started = Date.now();
    const res = await call("http://lb.test/x");
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(900);
    await res.arrayBuffer();
  });
});

describe("abort signals", () => {
  /** The signal each attempt's fetch got, for a route with the given retry settings. */
  async function signals(
    retry: Record<string, unknown>,
    hedge = false,
  ): Promise<(AbortSignal | undefined)[]> {
    const seen: (AbortSignal | undefined)[] = [];
    const fetcher = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(init?.signal ?? undefined);
      return new Response("ok");
    }) as typeof fetch;
    const backends = hedge
      ? [{ url: "http://10.0.0.1" }, { url: "http://10.0.0.2" }]
      : [{ url: "http://10.0.0.1" }];
    const { call } = makeCaller(
      { services: [{ name: "s", backends, retry }], routes: [{ name: "all", service: "s" }] },
      { fetcher },
    );
    expect((await call("http://lb.test/x")).status).toBe(200);
    return seen;
  }

  it("gives an attempt a signal only when something may abort it while the request goes on", async () => {
    // Only the total timeout: it ends the request, and the runtime cancels what is still in flight.
    expect(await signals({ timeout: "5s" })).toEqual([undefined]);
    // A per-try timer shorter than the total timeout aborts its attempt, and a losing hedge is cancelled.
    expect((await signals({ timeout: "5s", per_try_timeout: "1s" }))[0]).toBeInstanceOf(AbortSignal);
    expect((await signals({ timeout: "5s", hedge: "1s" }, true))[0]).toBeInstanceOf(AbortSignal);
  });
});

describe("hedging", () => {
  it("sends a hedge to another backend after the delay and takes the first good answer", async () => {
    const slow = await chaos.spawn("hang");
    const fast = await chaos.spawn();
    const { call, log } = setup([slow, fast], { retry: { hedge: "100ms", timeout: "3s" } });
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const res = await call("http://lb.test/x");
      expect(res.status).toBe(200);
      expect(((await res.json()) as { backend: number }).backend).toBe(fast);
      expect(Date.now() - started).toBeLessThan(1500);
    }
    const hedged = [log(0), log(1)].find((l) => l.attempts.length === 2)!;
    expect(hedged.attempts.map((a) => [a.outcome, a.hedge ?? false])).toEqual(
      expect.arrayContaining([
        ["response", true],
        ["cancelled", false],
      ]),
    );
  });
});

describe("outlier detection", () => {
  it("ejects a backend after 5 consecutive 5xx and takes it back after the ejection time", async () => {
    const bad = await chaos.spawn("500");
    const good = await chaos.spawn();
    const { call, name, config } = setup([bad, good], { passive: { consecutive_5xx: 5, eject: "1s" } });
    for (let i = 0; i < 30; i++) await (await call("http://lb.test/x")).arrayBuffer();
    expect((await chaos.stats(bad)).requests).toBe(5);
    expect((await chaos.stats(good)).requests).toBe(25);
    // The ejection reached the shared state, so other isolates leave the backend out too.
    await sleep(50);
    const ns = env.HEALTH_CHECKER!;
    const stub = ns.get(ns.idFromName(name));
    const snap = await stub.snapshot();
    expect(snap.ejections[`${backendUrl(bad)}/`]?.reason).toBe("5 consecutive 5xx");
    // The admin API's health view shows it, with the reason.
    const view = await healthView(env as Env, runtimeFor(config), resilienceHealth);
    const backends = view.find((v) => v.service === name)!.backends;
    expect(backends.map((b) => b.passive.state)).toEqual(["ejected", "healthy"]);
    expect(backends[0]!.passive.reason).toContain("5 consecutive 5xx; until ");

    await chaos.mode(bad, "ok");
    await sleep(1100);
    for (let i = 0; i < 10; i++) await (await call("http://lb.test/x")).arrayBuffer();
    expect((await chaos.stats(bad)).requests).toBeGreaterThan(5);
  });

  it("enters panic mode when too few backends are healthy, and still serves", async () => {
    const a = await chaos.spawn("503");
    const b = await chaos.spawn("503");
    const { call, log, name, config } = setup([a, b], {
      passive: { failures: 2, eject: "10s", max_ejection_percent: 100 },
      retry: { attempts: 1 },
    });
    for (let i = 0; i < 8; i++) await (await call("http://lb.test/x")).arrayBuffer();
    // Both ejected: below panic_threshold (50%), so requests go to all backends instead of none.
    expect(log(7).panic).toBe(true);
    expect(log(7).attempts).toHaveLength(1);
    expect(runtimeFor(config).services.get(name)?.resilience.panic).toBe(true);
  });

  it("ejects no more than max_ejection_percent of the backends", async () => {
    const ports = await Promise.all([chaos.spawn("500"), chaos.spawn("500"), chaos.spawn("500")]);
    const { call, name, config } = setup(ports, {
      passive: { consecutive_5xx: 2, eject: "10s", max_ejection_percent: 34 },
      retry: { attempts: 1 },
    });
    for (let i = 0; i < 30; i++) await (await call("http://lb.test/x")).arrayBuffer();
    const outlier = runtimeFor(config).services.get(name)!.resilience.outlier!;
    expect(outlier.ejectedCount(Date.now())).toBe(1);
  });
});

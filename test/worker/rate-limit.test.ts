// Rate limiting inside workerd with the real RateLimiter Durable Object (env.RATE_LIMITER from wrangler.toml)
// and a real upstream: exactness under concurrency, roll-over, burst, key isolation, headers, mitigation,
// fail open / closed, approximate-mode bounds.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { type AppOptions, createApp } from "../../worker/src/app.ts";
import type { LimiterNamespace } from "../../worker/src/rate-limit/client.ts";
import { LimiterClient, MAX_KEYS } from "../../worker/src/rate-limit/client.ts";
import { compilePolicy } from "../../worker/src/rate-limit/policies.ts";
import { limiterClient } from "../../worker/src/rate-limit/stage.ts";
import { hangingLimiter, throwingLimiter } from "./failing.ts";
import { upstreams, url } from "./helpers.ts";

type RateLimitInput = NonNullable<ConfigInput["rate_limits"]>[number];

let seq = 0;
/** A config with one route guarded by the given policies; a fresh policy name per call keeps tests apart. */
function setup(policies: Omit<RateLimitInput, "name">[], options: AppOptions = {}) {
  const run = `${Date.now()}-${seq++}`;
  // A generous deadline: a cold object under 200 concurrent calls in the test runtime can take longer than the
  // production default of 50ms, and a timed-out call would fail open and spoil the exact counts.
  const rate_limits = policies.map(
    (p, i) => ({ name: `p${i}-${run}`, deadline: "5s", ...p }) as RateLimitInput,
  );
  const config: ConfigInput = {
    services: [{ name: "web", backends: [{ url: url(upstreams.a) }] }],
    routes: [
      {
        name: "limited",
        match: { path: { prefix: "/" } },
        service: "web",
        rate_limit: rate_limits.map((p) => p.name),
      },
    ],
    rate_limits,
  };
  const logs: string[] = [];
  const app = createApp({ log: (l) => logs.push(l), ...options });
  const testEnv = { ...env, SWITCHYARD: config };
  const call = (headers: Record<string, string> = {}, path = "/x") =>
    app.fetch(
      new Request(`http://rl.test${path}`, { headers: { "cf-connecting-ip": "203.0.113.7", ...headers } }),
      testEnv,
    );
  return { call, logs, names: rate_limits.map((p) => p.name) };
}

const statuses = (responses: Response[]) => responses.map((r) => r.status);
const count = (xs: number[], s: number) => xs.filter((x) => x === s).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("rate limiting, exact mode", () => {
  it("admits exactly 50 of 200 concurrent requests against a limit of 50", async () => {
    const { call } = setup([{ key: "ip.src", limit: 50, period: "1m" }]);
    const responses = await Promise.all(Array.from({ length: 200 }, () => call()));
    const s = statuses(responses);
    expect(count(s, 200)).toBe(50);
    expect(count(s, 429)).toBe(150);
    await Promise.all(responses.map((r) => r.body?.cancel()));
  });

  it("rolls over: the quota comes back after the period", async () => {
    const { call } = setup([{ key: "ip.src", limit: 3, period: "1s" }]);
    const first = statuses(await Promise.all(Array.from({ length: 5 }, () => call())));
    expect(count(first, 200)).toBe(3);
    await sleep(1100);
    const second = statuses(await Promise.all(Array.from({ length: 5 }, () => call())));
    expect(count(second, 200)).toBe(3);
  });

  it("burst caps what arrives at once while the sustained limit stays higher", async () => {
    const { call } = setup([{ key: "ip.src", limit: 100, period: "1m", burst: 5 }]);
    const s = statuses(await Promise.all(Array.from({ length: 20 }, () => call())));
    expect(count(s, 200)).toBe(5);
  });

  it("keeps keys apart", async () => {
    const { call } = setup([{ key: 'http.request.headers["x-api-key"]', limit: 2, period: "1m" }]);
    const a = statuses(await Promise.all(Array.from({ length: 4 }, () => call({ "x-api-key": "alice" }))));
    const b = statuses(await Promise.all(Array.from({ length: 4 }, () => call({ "x-api-key": "bob" }))));
    expect(count(a, 200)).toBe(2);
    expect(count(b, 200)).toBe(2);
  });

  it("sends RateLimit-Policy and RateLimit on allowed responses, and Retry-After + JSON on 429", async () => {
    const { call, names } = setup([{ key: "ip.src", limit: 2, period: "1m" }]);
    const ok = await call();
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ratelimit-policy")).toBe(`"${names[0]}";q=2;w=60`);
    expect(ok.headers.get("ratelimit")).toMatch(new RegExp(`^"${names[0]}";r=1;t=(30|31)$`));
    await ok.body?.cancel();
    await (await call()).body?.cancel();
    const limited = await call();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(limited.headers.get("ratelimit")).toMatch(/;r=0;t=\d+$/);
    const body = (await limited.json()) as { error: { code: string; policy: string }; request_id: string };
    expect(body.error.code).toBe("SY_RATE_LIMITED");
    expect(body.error.policy).toBe(names[0]);
    expect(body.request_id).toBe(limited.headers.get("x-request-id"));
  });

  it("can leave the headers off", async () => {
    const { call } = setup([{ key: "ip.src", limit: 2, period: "1m", headers: false }]);
    const res = await call();
    expect(res.headers.get("ratelimit")).toBeNull();
    await res.body?.cancel();
  });

  it("holds mitigation_timeout after the limit is hit, even once tokens are back", async () => {
    const { call } = setup([{ key: "ip.src", limit: 2, period: "1s", mitigation_timeout: "3s" }]);
    const s = statuses(await Promise.all(Array.from({ length: 3 }, () => call())));
    expect(count(s, 429)).toBe(1);
    await sleep(1200); // GCRA alone would admit again now
    const later = await call();
    expect(later.status).toBe(429);
    expect(Number(later.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await later.body?.cancel();
  });

  it("counts only requests that match, and skips requests without the key unless there is a fallback", async () => {
    const { call } = setup([
      {
        key: 'http.request.headers["x-user"]',
        limit: 1,
        period: "1m",
        match: 'http.request.uri.path eq "/login"',
      },
    ]);
    const other = statuses(
      await Promise.all(Array.from({ length: 3 }, () => call({ "x-user": "u" }, "/home"))),
    );
    expect(other).toEqual([200, 200, 200]);
    const login = statuses(
      await Promise.all(Array.from({ length: 3 }, () => call({ "x-user": "u" }, "/login"))),
    );
    expect(count(login, 200)).toBe(1);
    const anonymous = statuses(await Promise.all(Array.from({ length: 3 }, () => call({}, "/login"))));
    expect(anonymous).toEqual([200, 200, 200]);

    const withFallback = setup([
      { key: 'http.request.headers["x-user"]', limit: 1, period: "1m", fallback: "anonymous" },
    ]);
    const s = statuses(await Promise.all(Array.from({ length: 3 }, () => withFallback.call())));
    expect(count(s, 200)).toBe(1);
  });

  it("log action admits over the limit and records it", async () => {
    const { call, logs } = setup([{ key: "ip.src", limit: 1, period: "1m", action: "log" }]);
    const s = statuses(await Promise.all(Array.from({ length: 3 }, () => call())));
    expect(s).toEqual([200, 200, 200]);
    const outcomes = logs.map((l) => JSON.parse(l).rate_limits?.[0]?.outcome);
    expect(outcomes.filter((o) => o === "over-logged")).toHaveLength(2);
  });

  it("sliding-window algorithm is exact within a window too", async () => {
    const { call } = setup([{ key: "ip.src", limit: 10, period: "1m", algorithm: "sliding-window" }]);
    const s = statuses(await Promise.all(Array.from({ length: 30 }, () => call())));
    expect(count(s, 200)).toBe(10);
  });
});

describe("rate limiting when the limiter fails", () => {
  for (const [label, ns] of [
    ["throws", throwingLimiter],
    ["hangs", hangingLimiter],
  ] as const) {
    it(`fails open by default when the object ${label}, and logs it`, async () => {
      const { call } = setup([{ key: "ip.src", limit: 1, period: "1m", deadline: "30ms" }], {
        namespace: () => ns,
      });
      const before = limiterClient(ns).stats.errors;
      const started = Date.now();
      const res = await call();
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(limiterClient(ns).stats.errors).toBe(before + 1);
      await res.body?.cancel();
    });

    it(`fails closed with on_error = "deny" when the object ${label}`, async () => {
      const { call, logs } = setup(
        [{ key: "ip.src", limit: 1, period: "1m", deadline: "30ms", on_error: "deny" }],
        {
          namespace: () => ns,
        },
      );
      const res = await call();
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("1");
      await res.body?.cancel();
      expect(JSON.parse(logs[0]!).rate_limits[0]).toMatchObject({ source: "error", outcome: "limited" });
    });
  }
});

describe("rate limiting, approximate mode", () => {
  it("stays within its bound and calls the object about 10× less", async () => {
    const ns = env.RATE_LIMITER as unknown as LimiterNamespace;
    const client = limiterClient(ns);
    const before = client.stats.objectCalls;
    const { call } = setup([
      { key: "ip.src", limit: 100, period: "1m", mode: "approximate", lease_size: 10 },
    ]);
    let admitted = 0;
    for (let round = 0; round < 10; round++) {
      const s = statuses(await Promise.all(Array.from({ length: 20 }, () => call())));
      admitted += count(s, 200);
    }
    const calls = client.stats.objectCalls - before;
    // One isolate: the object deducts leased tokens, so admission can exceed the limit by at most one lease.
    expect(admitted).toBeGreaterThanOrEqual(100 - 10);
    expect(admitted).toBeLessThanOrEqual(100 + 10);
    // 200 requests; 100 admitted need ~10 leases, the rest are refused from the cached refusal.
    expect(calls).toBeLessThanOrEqual(20);
    expect(calls).toBeGreaterThanOrEqual(10);
  });

  it("keeps two isolates within limit ± isolates × lease_size", async () => {
    const ns = env.RATE_LIMITER as unknown as LimiterNamespace;
    const isolates = [new LimiterClient(ns), new LimiterClient(ns)];
    const { policy } = compilePolicy({
      name: `two-isolates-${Date.now()}`,
      key: "ip.src",
      ipv6_prefix: 64,
      ipv4_prefix: 32,
      limit: 40,
      period: 60_000,
      algorithm: "gcra",
      action: "block",
      mode: "approximate",
      lease_size: 5,
      on_error: "allow",
      deadline: 5000,
      headers: true,
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => isolates[i % 2]!.limit(policy, "203.0.113.9")),
    );
    const admitted = results.filter((r) => r.decision.allowed).length;
    expect(admitted).toBeGreaterThanOrEqual(40 - 2 * 5);
    expect(admitted).toBeLessThanOrEqual(40 + 2 * 5);
    const calls = isolates[0]!.stats.objectCalls + isolates[1]!.stats.objectCalls;
    expect(calls).toBeLessThanOrEqual(100 / 5);
  });
});

/** A stand-in for the RateLimiter namespace that grants every lease in full and counts calls. */
function grantingNamespace(refuse = false) {
  const calls = { lease: 0, check: 0 };
  const decision = (allowed: boolean) => ({
    allowed,
    remaining: allowed ? 1_000_000 : 0,
    resetMs: 60_000,
    retryAfterMs: allowed ? 0 : 30_000,
  });
  const stub = {
    check: async () => {
      calls.check++;
      return decision(!refuse);
    },
    lease: async (_call: unknown, want: number) => {
      calls.lease++;
      return { granted: refuse ? 0 : want, decision: decision(!refuse) };
    },
  };
  const ns: LimiterNamespace = { idFromName: (n) => n, get: () => stub };
  return { ns, calls };
}

const approximatePolicy = (name: string, extra: Partial<RateLimitInput> = {}) =>
  compilePolicy({
    name,
    key: "ip.src",
    limit: 100_000_000,
    period: 60_000,
    algorithm: "gcra",
    action: "block",
    mode: "approximate",
    on_error: "allow",
    deadline: 5000,
    headers: true,
    ...extra,
  } as Parameters<typeof compilePolicy>[0]).policy;

describe("rate limiting, approximate mode in steady state", () => {
  it("refills leases in the background: only a key's first request waits, and ≤ 0.1 object calls per request", async () => {
    const { ns, calls } = grantingNamespace();
    const client = new LimiterClient(ns);
    const policy = approximatePolicy("steady");
    const background: Promise<unknown>[] = [];
    const sources: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = await client.limit(policy, "203.0.113.7", Date.now(), (p) => background.push(p));
      sources.push(r.source);
      // What waitUntil would do: the refill completes while later requests arrive.
      if (background.length > 0) await Promise.all(background.splice(0));
    }
    expect(sources[0]).toBe("object");
    expect(sources.slice(1).every((s) => s === "lease")).toBe(true);
    expect(client.stats.waits).toBe(0);
    expect(calls.lease / 2000).toBeLessThanOrEqual(0.1);
    expect(client.stats.backgroundRefills).toBeGreaterThan(0);
  });

  it("refills a busy key's lease before it expires, so no request past the first waits for the object", async () => {
    const { ns, calls } = grantingNamespace();
    const client = new LimiterClient(ns);
    // A lease too large to run low within its lifetime at this rate: only its age can trigger the refill.
    const policy = approximatePolicy("ageing", { lease_size: 5_000 });
    const background: Promise<unknown>[] = [];
    const sources: string[] = [];
    // Two and a half lease lifetimes (min(period, 1s)) of a key used every few milliseconds.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      const r = await client.limit(policy, "203.0.113.8", Date.now(), (p) => background.push(p));
      sources.push(r.source);
      if (background.length > 0) await Promise.all(background.splice(0));
      await sleep(4);
    }
    expect(sources.length).toBeGreaterThan(100);
    expect(sources[0]).toBe("object");
    expect(sources.slice(1).filter((s) => s !== "lease")).toEqual([]);
    expect(client.stats.waits).toBe(0);
    expect(calls.lease).toBeLessThan(sources.length / 10);
  });

  it("keeps its lease and refusal maps bounded with 200,000 distinct keys", async () => {
    const leases = new LimiterClient(grantingNamespace().ns);
    const policy = approximatePolicy("many-keys");
    for (let i = 0; i < 200_000; i++) await leases.limit(policy, `k${i}`);
    expect(leases.sizes().leases).toBeLessThanOrEqual(MAX_KEYS);
    expect(leases.sizes().inflight).toBe(0);

    const refusals = new LimiterClient(grantingNamespace(true).ns);
    const exact = compilePolicy({
      name: "many-refused",
      key: "ip.src",
      limit: 1,
      period: 60_000,
      algorithm: "gcra",
      action: "block",
      mode: "exact",
      on_error: "allow",
      deadline: 5000,
      headers: true,
    } as Parameters<typeof compilePolicy>[0]).policy;
    for (let i = 0; i < 200_000; i++) await refusals.limit(exact, `k${i}`);
    expect(refusals.sizes().refusals).toBeLessThanOrEqual(MAX_KEYS);
    // The most recent keys are still remembered: their refusal is answered locally.
    expect((await refusals.limit(exact, "k199999")).source).toBe("cached-refusal");
  }, 120_000);
});

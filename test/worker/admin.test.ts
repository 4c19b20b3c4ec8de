// The admin API, live config and metrics inside workerd, with the real bindings from wrangler.toml: the KV
// namespace (behind a key prefix per test, so tests and other files never see each other's documents), the
// MetricsAggregator object, and the real upstream servers from global-setup.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { CONFIG_KEY, documentText, versionKey } from "../../core/config/store.ts";
import { createApp } from "../../worker/src/app.ts";
import type { Env } from "../../worker/src/env.ts";
import { batcherFor } from "../../worker/src/observe/batcher.ts";
import { prefixedKv } from "./failing.ts";
import { type Echo, upstreams, url } from "./helpers.ts";

const TOKEN = "s3cret-admin-token";
const bindings = env as unknown as Env;

let seq = 0;
function setup(vars: ConfigInput | undefined, extra: Partial<Env> = {}) {
  const id = `t${seq++}-${Date.now()}`;
  const kv = prefixedKv(bindings.SWITCHYARD_KV!, `${id}:`);
  const logs: string[] = [];
  const app = createApp({ log: (l) => logs.push(l) });
  const testEnv: Env = { ...bindings, SWITCHYARD: vars, SWITCHYARD_KV: kv, ADMIN_TOKEN: TOKEN, ...extra };
  const call = (path: string, init: RequestInit = {}, host = "admin.test") =>
    app.fetch(new Request(`http://${host}${path}`, init), testEnv);
  const admin = (path: string, init: RequestInit = {}) =>
    call(`/__switchyard${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
    });
  return { id, kv, logs, call, admin, env: testEnv };
}

/** One service of two real backends; the route sends everything for admin.test to backend `which`. */
function config(which: "a" | "b", extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    services: [
      { name: "only-a", backends: [{ url: url(upstreams.a) }] },
      { name: "only-b", backends: [{ url: url(upstreams.b) }] },
    ],
    routes: [{ name: "main", match: { host: "admin.test" }, service: which === "a" ? "only-a" : "only-b" }],
    ...extra,
  };
}

async function backendOf(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  return ((await res.json()) as Echo).backend;
}

const ENDPOINTS: [string, string][] = [
  ["GET", "/config"],
  ["GET", "/config/status"],
  ["PUT", "/config"],
  ["POST", "/config/validate"],
  ["POST", "/config/rollback"],
  ["GET", "/explain?url=http://admin.test/"],
  ["GET", "/health"],
  ["GET", "/metrics"],
  ["GET", "/stats"],
];

describe("admin API: access", () => {
  it("is closed (404, never a backend) when ADMIN_TOKEN is not set", async () => {
    const { call } = setup(config("a"), { ADMIN_TOKEN: undefined });
    for (const [method, path] of ENDPOINTS) {
      const res = await call(`/__switchyard${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}` },
        body: method === "GET" ? undefined : "{}",
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe("SY_ADMIN_DISABLED");
      expect(res.headers.get("x-backend")).toBeNull();
    }
    expect((await call("/__switchyard/")).status).toBe(404);
  });

  it("answers 401 without a token and with a wrong one, on every endpoint", async () => {
    const { call } = setup(config("a"));
    for (const [method, path] of ENDPOINTS) {
      const variants: Record<string, string>[] = [
        {},
        { authorization: "Bearer wrong-token" },
        { authorization: `Basic ${TOKEN}` },
      ];
      for (const headers of variants) {
        const res = await call(`/__switchyard${path}`, {
          method,
          headers,
          body: method === "GET" ? undefined : "{}",
        });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        const body = (await res.json()) as { error: { code: string }; request_id: string };
        expect(body.error.code).toBe("SY_ADMIN_UNAUTHORIZED");
        expect(body.request_id).toBe(res.headers.get("x-request-id"));
      }
    }
  });

  it("serves the dashboard page without the token, and admin paths never reach a backend", async () => {
    const { call, admin } = setup(config("a"));
    const page = await call("/__switchyard/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<body data-prefix="/__switchyard/">');
    expect(html).toContain('id="login-form"');
    expect(page.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect((await call("/__switchyard")).headers.get("location")).toBe("/__switchyard/");
    const unknown = await admin("/nope");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-backend")).toBeNull();
    expect(await backendOf(await call("/other"))).toBe("a");
  });

  it("names the missing ASSETS binding when the dashboard page cannot be served; the API still answers", async () => {
    const { call, admin } = setup(config("a"), { ASSETS: undefined });
    const page = await call("/__switchyard/");
    expect(page.status).toBe(404);
    const body = (await page.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("SY_ADMIN_NO_DASHBOARD");
    expect(body.error.message).toMatch(/\[assets\].*binding = "ASSETS"/);
    expect((await admin("/health")).status).toBe(200);
  });

  it("moves with admin.prefix; the old prefix is then an ordinary path", async () => {
    const { call } = setup(config("a", { admin: { prefix: "/ops/" } }));
    expect(await (await call("/ops/")).text()).toContain('<body data-prefix="/ops/">');
    const moved = await call("/ops/health", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(moved.status).toBe(200);
    expect(await backendOf(await call("/__switchyard/health"))).toBe("a");
  });
});

describe("admin API: live config", () => {
  it("GET /config: the vars document with an ETag; If-None-Match answers 304", async () => {
    const vars = config("a");
    const { admin } = setup(vars);
    const res = await admin("/config");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-config-source")).toBe("vars");
    expect(await res.json()).toEqual(vars);
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"0-[0-9a-f]+"$/);
    const again = await admin("/config", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("PUT /config validates, writes version 1 to KV and serves it at once", async () => {
    const { admin, call, kv } = setup(config("a"));
    expect(await backendOf(await call("/x"))).toBe("a");
    const put = await admin("/config", { method: "PUT", body: JSON.stringify(config("b")) });
    expect(put.status).toBe(200);
    const result = (await put.json()) as { version: number; changes: { path: string }[] };
    expect(result.version).toBe(1);
    expect(result.changes.map((c) => c.path)).toEqual(["routes[0].service"]);
    expect(await backendOf(await call("/x"))).toBe("b");
    const stored = await kv.getWithMetadata<{ version: number; source: string }>(CONFIG_KEY, "text");
    expect(JSON.parse(stored.value!)).toEqual(config("b"));
    expect(stored.metadata).toMatchObject({ version: 1, source: "admin-api" });
    const got = await admin("/config");
    expect(got.headers.get("x-switchyard-config-version")).toBe("1");
    expect(await got.json()).toEqual(config("b"));
    const status = (await (await admin("/config/status")).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ source: "kv", version: 1, written_by: "admin-api", reload_errors: 0 });
    expect((status.history as { version: number }[]).map((h) => h.version)).toEqual([1]);
  });

  it("a bad PUT is rejected with every problem and leaves the live config unchanged", async () => {
    const { admin, call, kv } = setup(config("a"));
    await admin("/config", { method: "PUT", body: JSON.stringify(config("b")) });
    const before = await (await admin("/config")).text();
    const bad = { ...config("a"), routes: [{ name: "main", match: { host: "admin.test" }, service: "ap1" }] };
    const res = await admin("/config", { method: "PUT", body: JSON.stringify(bad) });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; problems: string[] } };
    expect(body.error.code).toBe("SY_CONFIG_REJECTED");
    expect(body.error.problems.join("\n")).toMatch(/routes\[0\]\.service: .*"ap1"/);
    const notJson = await admin("/config", { method: "PUT", body: "{ nope" });
    expect(notJson.status).toBe(422);
    expect(await (await admin("/config")).text()).toBe(before);
    expect(await backendOf(await call("/x"))).toBe("b");
    const stored = await kv.getWithMetadata<{ version: number }>(CONFIG_KEY, "text");
    expect(stored.metadata?.version).toBe(1);
  });

  it("PUT with a stale If-Match is refused with 412", async () => {
    const { admin } = setup(config("a"));
    const etag = (await admin("/config")).headers.get("etag")!;
    expect((await admin("/config", { method: "PUT", body: JSON.stringify(config("b")) })).status).toBe(200);
    const stale = await admin("/config", {
      method: "PUT",
      headers: { "if-match": etag },
      body: JSON.stringify(config("a")),
    });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("SY_CONFIG_CONFLICT");
  });

  it("POST /config/validate reports problems or changes and writes nothing", async () => {
    const { admin, kv } = setup(config("a"));
    const ok = await admin("/config/validate", { method: "POST", body: JSON.stringify(config("b")) });
    expect(ok.status).toBe(200);
    const okBody = (await ok.json()) as { valid: boolean; changes: { path: string; after: unknown }[] };
    expect(okBody.valid).toBe(true);
    expect(okBody.changes).toEqual([
      { kind: "changed", path: "routes[0].service", before: "only-a", after: "only-b" },
    ]);
    const bad = await admin("/config/validate", {
      method: "POST",
      body: JSON.stringify({ services: [{ name: "x", backends: [{ url: "ftp://nope" }] }] }),
    });
    expect(bad.status).toBe(422);
    const badBody = (await bad.json()) as { valid: boolean; problems: string[] };
    expect(badBody.valid).toBe(false);
    expect(badBody.problems[0]).toMatch(/^services\[0\]\.backends\[0\]\.url: /);
    expect(await kv.get(CONFIG_KEY)).toBeNull();
  });

  it("POST /config/rollback restores the previous version as a new version, or a named one", async () => {
    const { admin, call } = setup(config("a"));
    await admin("/config", { method: "PUT", body: JSON.stringify(config("b")) }); // v1: b
    await admin("/config", { method: "PUT", body: JSON.stringify(config("a")) }); // v2: a
    expect(await backendOf(await call("/x"))).toBe("a");
    const back = await admin("/config/rollback", { method: "POST" });
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ version: 3, restored: 1, applied: true });
    expect(await backendOf(await call("/x"))).toBe("b");
    const named = await admin("/config/rollback", { method: "POST", body: JSON.stringify({ version: 2 }) });
    expect(await named.json()).toMatchObject({ version: 4, restored: 2 });
    expect(await backendOf(await call("/x"))).toBe("a");
    const missing = await admin("/config/rollback", { method: "POST", body: '{"version": 99}' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      "SY_CONFIG_VERSION_NOT_FOUND",
    );
    const status = (await (await admin("/config/status")).json()) as { history: { source: string }[] };
    expect(status.history.map((h) => h.source)).toEqual([
      "rollback to 2",
      "rollback to 1",
      "admin-api",
      "admin-api",
    ]);
  });

  it("POST /config/rollback after the first PUT goes back to wrangler.toml's config (version 0)", async () => {
    const { admin, call, kv } = setup(config("a"));
    await admin("/config", { method: "PUT", body: JSON.stringify(config("b")) }); // v1: b
    expect(await backendOf(await call("/x"))).toBe("b");
    const back = await admin("/config/rollback", { method: "POST" });
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ version: 0, restored: 0, applied: true });
    expect(await kv.get(CONFIG_KEY)).toBeNull();
    expect(await backendOf(await call("/x"))).toBe("a");
    const status = (await (await admin("/config/status")).json()) as { source: string; version: number };
    expect(status).toMatchObject({ source: "vars", version: 0 });
    // Version 1 is still kept: rolling forward to it works, and { version: 0 } names the vars config.
    const forward = await admin("/config/rollback", { method: "POST", body: '{"version": 1}' });
    expect(await forward.json()).toMatchObject({ version: 2, restored: 1 });
    expect(await backendOf(await call("/x"))).toBe("b");
    const named = await admin("/config/rollback", { method: "POST", body: '{"version": 0}' });
    expect(await named.json()).toMatchObject({ version: 0 });
    expect(await backendOf(await call("/x"))).toBe("a");
  });

  it("answers a config built to exhaust the checker with problems, not a 500", async () => {
    const { admin, call } = setup(config("a"));
    const deep = `${"(".repeat(1700)}http.host eq "a"${")".repeat(1700)}`;
    const doc = { ...config("b"), waf: { rules: [{ id: "deep", expression: deep, action: "block" }] } };
    for (const path of ["/config/validate", "/config"]) {
      const res = await admin(path, {
        method: path === "/config" ? "PUT" : "POST",
        body: JSON.stringify(doc),
      });
      expect(res.status).toBe(422);
      expect(JSON.stringify(await res.json())).toMatch(
        /waf\.rules\[0\]\.expression: .*nests more than 100 levels/,
      );
    }
    expect(await backendOf(await call("/x"))).toBe("a");
  });

  it("keeps only admin.history versions", async () => {
    const { admin, kv } = setup(config("a"));
    for (let i = 0; i < 4; i++) {
      const doc = config(i % 2 ? "a" : "b", { admin: { history: 2 } });
      await admin("/config", { method: "PUT", body: JSON.stringify(doc) });
    }
    expect(await kv.get("config:v:4")).not.toBeNull();
    expect(await kv.get("config:v:3")).not.toBeNull();
    expect(await kv.get("config:v:2")).toBeNull();
    expect(await kv.get("config:v:1")).toBeNull();
  });

  it("a broken wrangler.toml config can still be read, and replaced through PUT", async () => {
    const broken = {
      services: [],
      routes: [{ name: "main", match: { host: "admin.test" }, service: "gone" }],
    };
    const { admin, call } = setup(broken as ConfigInput);
    const before = await call("/x");
    expect(before.status).toBe(500);
    expect(((await before.json()) as { error: { code: string } }).error.code).toBe("SY_CONFIG_INVALID");
    const status = (await (await admin("/config/status")).json()) as { serving_error: string[] };
    expect(status.serving_error[0]).toMatch(/routes\[0\]\.service/);
    expect((await admin("/config", { method: "PUT", body: JSON.stringify(config("a")) })).status).toBe(200);
    expect(await backendOf(await call("/x"))).toBe("a");
  });

  it("answers 409 for writes when the worker has no KV binding", async () => {
    const { admin } = setup(config("a"), { SWITCHYARD_KV: undefined });
    const res = await admin("/config", { method: "PUT", body: JSON.stringify(config("b")) });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SY_ADMIN_NO_KV");
  });
});

describe("live config from Workers KV", () => {
  const write = (kv: KVNamespace, doc: unknown, version: number) =>
    kv.put(CONFIG_KEY, typeof doc === "string" ? doc : documentText(doc), {
      metadata: { version, updated_at: new Date().toISOString(), source: "test" },
    });

  it("a document in KV overrides [vars.SWITCHYARD]; deleting it brings the vars config back", async () => {
    const refresh = { admin: { refresh: "100ms" } };
    const { kv, call, logs } = setup(config("a", refresh));
    await write(kv, config("b", refresh), 7);
    expect(await backendOf(await call("/x"))).toBe("b");
    const line = JSON.parse(logs.at(-1)!) as { config_version: number; backend: string };
    expect(line.config_version).toBe(7);
    expect(line.backend).toBe(`${url(upstreams.b)}/`);
    await kv.delete(CONFIG_KEY);
    await new Promise((r) => setTimeout(r, 150));
    expect(await backendOf(await call("/x"))).toBe("a");
  });

  it("re-checks by version: a new version is taken, the same version is not re-parsed", async () => {
    const refresh = { admin: { refresh: "100ms" } };
    const { kv, call } = setup(config("a", refresh));
    await write(kv, config("b", refresh), 1);
    expect(await backendOf(await call("/x"))).toBe("b");
    // Same version number, different text: an isolate trusts the version and keeps what it compiled.
    await write(kv, config("a", refresh), 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(await backendOf(await call("/x"))).toBe("b");
    await write(kv, config("a", refresh), 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(await backendOf(await call("/x"))).toBe("a");
  });

  it("an invalid KV document never takes effect: last good keeps serving, error logged, counted and shown", async () => {
    const refresh = { admin: { refresh: "100ms" } };
    const { kv, call, admin, env: testEnv } = setup(config("a", refresh));
    await write(kv, config("b", refresh), 1);
    expect(await backendOf(await call("/x"))).toBe("b");

    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      await write(kv, { ...config("a", refresh), routes: [{ name: "main", service: "missing" }] }, 2);
      await new Promise((r) => setTimeout(r, 150));
      expect(await backendOf(await call("/x"))).toBe("b");
      await new Promise((r) => setTimeout(r, 150));
      expect(await backendOf(await call("/x"))).toBe("b");
    } finally {
      console.error = original;
    }
    const logged = errors.map((l) => JSON.parse(l)).filter((l) => l.code === "SY_CONFIG_REJECTED");
    expect(logged).toHaveLength(1); // once per version, not once per re-check
    expect(logged[0].version).toBe(2);
    expect(logged[0].msg).toMatch(/still serving KV version 1/);

    const status = (await (await admin("/config/status")).json()) as {
      version: number;
      reload_errors: number;
      last_error: { code: string; version: number; problems: string[] };
    };
    expect(status.version).toBe(1);
    expect(status.reload_errors).toBe(1);
    expect(status.last_error).toMatchObject({ code: "SY_CONFIG_REJECTED", version: 2 });
    expect(status.last_error.problems.join("\n")).toMatch(/routes\[0\]\.service: .*"missing"/);

    const metrics = await (await admin("/metrics")).text();
    expect(
      Number(/^switchyard_config_reload_errors_total (\d+)$/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(1);

    await write(kv, config("a", refresh), 3);
    await new Promise((r) => setTimeout(r, 150));
    expect(await backendOf(await call("/x"))).toBe("a");
    expect(testEnv.SWITCHYARD_KV).toBe(kv);
  });

  it("an invalid KV document at start leaves the wrangler.toml config serving", async () => {
    const { kv, call, admin } = setup(config("a"));
    await write(kv, "{ not json", 1);
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      expect(await backendOf(await call("/x"))).toBe("a");
    } finally {
      console.error = original;
    }
    expect(errors.join("\n")).toMatch(/still serving the wrangler.toml config/);
    const status = (await (await admin("/config/status")).json()) as {
      source: string;
      reload_errors: number;
    };
    expect(status).toMatchObject({ source: "vars", reload_errors: 1 });
  });
});

describe("admin API: explain, health, metrics, stats", () => {
  const two: ConfigInput = {
    services: [
      { name: "api", backends: [{ url: url(upstreams.a) }, { url: url(upstreams.b), weight: 0 }] },
      { name: "web", backends: [{ url: url(upstreams.b) }], health: { path: "/health" } },
    ],
    routes: [
      {
        name: "api",
        match: { host: "api.example.com", path: { prefix: "/v1" }, headers: { "x-tenant": "acme" } },
        service: "api",
      },
      { name: "web", match: { host: "*.example.com" }, service: "web" },
    ],
  };

  it("GET /explain: the route, why the others did not match, the backend and why", async () => {
    const { admin } = setup(two);
    const q = new URLSearchParams({
      url: "https://api.example.com/v1/users",
      method: "GET",
      ip: "203.0.113.9",
    });
    q.append("header", "x-tenant: acme");
    const res = await admin(`/explain?${q}`);
    expect(res.status).toBe(200);
    const e = (await res.json()) as {
      route: { name: string };
      routes: { name: string; result: string; reason: string }[];
      action: {
        kind: string;
        services: { picked: string; backends: { healthy: boolean; reason: string }[] }[];
      };
    };
    expect(e.route.name).toBe("api");
    expect(e.routes[1]).toMatchObject({ name: "web", result: "outranked" });
    expect(e.routes[1]!.reason).toMatch(/host match is less specific/);
    expect(e.action.services[0]!.picked).toBe(url(upstreams.a));
    expect(e.action.services[0]!.backends[1]).toMatchObject({ healthy: false, reason: "weight 0: drained" });

    const other = await admin(`/explain?url=${encodeURIComponent("https://api.example.com/v2")}`);
    const o = (await other.json()) as { route: { name: string }; routes: { reason: string }[] };
    expect(o.route.name).toBe("web");
    expect(o.routes[0]!.reason).toMatch(/path "\/v2" does not match prefix "\/v1"/);
    expect(o.routes[0]!.reason).toMatch(/header x-tenant is missing/);

    const missing = await admin("/explain");
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("SY_ADMIN_BAD_REQUEST");
  });

  it("GET /health: every service and backend with active and passive state and a reason", async () => {
    const { admin } = setup(two);
    const h = (await (await admin("/health")).json()) as {
      services: { service: string; backends: { url: string; active: { state: string; reason: string } }[] }[];
    };
    expect(h.services.map((s) => s.service)).toEqual(["api", "web"]);
    expect(h.services[0]!.backends[1]!.active).toMatchObject({
      state: "unhealthy",
      reason: "weight 0: drained by config",
    });
    expect(h.services[0]!.backends[0]!.active.state).toBe("not-configured");
    expect(h.services[1]!.backends[0]!.active.state).toBe("unknown");
    for (const s of h.services) for (const b of s.backends) expect(b.active.reason.length).toBeGreaterThan(5);
  });

  it("GET /metrics: Prometheus text per route, service and backend; requests are batched, not sent one by one", async () => {
    const { id, admin, call, env: testEnv } = setup(undefined);
    const route = `m-${id}`;
    testEnv.SWITCHYARD = {
      services: [{ name: "svc", backends: [{ url: url(upstreams.a) }] }],
      routes: [{ name: route, match: { host: "admin.test" }, service: "svc" }],
    };
    const batcher = batcherFor(testEnv);
    const flushesBefore = batcher.stats.flushes;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(`/m?status=${i < 15 ? 200 : 404}`)),
    );
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    // 20 requests within one flush interval: at most one batch went to the aggregator object.
    expect(batcher.stats.flushes - flushesBefore).toBeLessThanOrEqual(1);

    const text = await (await admin("/metrics")).text();
    const labels = `route="${route}",service="svc",backend="${url(upstreams.a)}/"`;
    expect(text).toContain(`switchyard_requests_total{${labels},class="2xx"} 15`);
    expect(text).toContain(`switchyard_requests_total{${labels},class="4xx"} 5`);
    expect(text).toContain(`switchyard_request_duration_seconds_count{${labels}} 20`);
    expect(text).toMatch(
      new RegExp(
        `switchyard_request_duration_seconds_bucket\\{${labels.replace(/[/.]/g, "\\$&")},le="\\+Inf"\\} 20`,
      ),
    );
    expect(text).toContain(`switchyard_retries_total{${labels}} 0`);
    expect(text).toContain("# TYPE switchyard_request_duration_seconds histogram");
    expect(text).toMatch(
      /switchyard_backend_attempts_total\{service="svc",backend="[^"]+",outcome="2xx"\} \d+/,
    );
  });

  it("counts WAF blocks, WAF log matches and rate-limited requests per route", async () => {
    const id = `${Date.now()}-${seq}`;
    const route = `guarded-${id}`;
    const { admin, call: guarded } = setup({
      services: [{ name: "svc", backends: [{ url: url(upstreams.a) }] }],
      routes: [{ name: route, match: { host: "admin.test" }, service: "svc", rate_limit: `rl-${id}` }],
      rate_limits: [{ name: `rl-${id}`, key: "ip.src", limit: 2, period: "1m", deadline: "5s" }],
      waf: {
        managed: { enabled: false },
        rules: [
          { id: "no-admin", expression: 'http.request.uri.path eq "/wp-admin"', action: "block" },
          { id: "watch", expression: 'http.request.uri.path eq "/watched"', action: "log" },
        ],
      },
    });
    const ip = { headers: { "cf-connecting-ip": "198.51.100.77" } };
    const statuses: number[] = [];
    for (const path of ["/wp-admin", "/watched", "/ok", "/ok", "/ok"]) {
      const res = await guarded(path, ip);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([403, 200, 200, 429, 429]);
    const text = await (await admin("/metrics")).text();
    const sum = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}\\{route="${route}"[^}]*\\} (\\d+)$`, "gm"))].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    expect(sum("switchyard_waf_blocked_total")).toBe(1);
    expect(sum("switchyard_waf_logged_total")).toBe(1);
    expect(sum("switchyard_rate_limited_total")).toBe(2);
  });

  it("GET /stats: config status, routes, services and a metrics timeline for the dashboard", async () => {
    const { admin, call } = setup(two);
    await (await call("/", {}, "www.example.com")).arrayBuffer();
    const s = (await (await admin("/stats")).json()) as {
      config: { source: string };
      routes: { name: string; match: string; target: string }[];
      services: unknown[];
      metrics: { timeline: { routes: Record<string, unknown> }[]; bucketMs: number };
    };
    expect(s.config.source).toBe("vars");
    expect(s.routes).toEqual([
      { name: "api", match: "api.example.com/v1…", target: "api" },
      { name: "web", match: "*.example.com/…", target: "web" },
    ]);
    expect(s.services).toHaveLength(2);
    expect(s.metrics.bucketMs).toBe(10_000);
    expect(s.metrics.timeline.some((b) => "web" in b.routes)).toBe(true);
  });
});

// `switchyard deploy` of a config over the variable limit: config:v:<n> is written first, then the worker is
// deployed with a reduced SWITCHYARD var and SWITCHYARD_KV_VERSION = n, then `config` is moved to n.
describe("a deploy pinned to a KV version (SWITCHYARD_KV_VERSION)", () => {
  const stub = { admin: { refresh: "100ms" } };
  const copy = (kv: KVNamespace, doc: unknown, version: number) =>
    kv.put(versionKey(version), documentText(doc), {
      metadata: { version, updated_at: new Date().toISOString(), source: "deploy" },
    });
  const live = (kv: KVNamespace, doc: unknown, version: number) =>
    kv.put(CONFIG_KEY, documentText(doc), {
      metadata: { version, updated_at: new Date().toISOString(), source: "test" },
    });

  it("serves config:v:<n> from its first request while `config` is still the older version", async () => {
    const { kv, call, admin } = setup(stub, { SWITCHYARD_KV_VERSION: "5" });
    await live(kv, config("a", stub), 4);
    await copy(kv, config("b", stub), 5);
    expect(await backendOf(await call("/x"))).toBe("b");
    const status = (await (await admin("/config/status")).json()) as { source: string; version: number };
    expect(status).toMatchObject({ source: "kv", version: 5 });
  });

  it("moves on to `config` once it reaches the pinned version or a newer one", async () => {
    const { kv, call } = setup(stub, { SWITCHYARD_KV_VERSION: "5" });
    await copy(kv, config("b", stub), 5);
    expect(await backendOf(await call("/x"))).toBe("b");
    await live(kv, config("a", stub), 6);
    await new Promise((r) => setTimeout(r, 150));
    expect(await backendOf(await call("/x"))).toBe("a");
  });

  it("answers 503 SY_CONFIG_KV_UNAVAILABLE, never the reduced var, while the pinned version cannot be read", async () => {
    const { kv, call } = setup({ ...stub, ...config("a") }, { SWITCHYARD_KV_VERSION: "9" });
    await live(kv, config("a", stub), 8);
    const original = console.error;
    console.error = () => {};
    try {
      const res = await call("/x");
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SY_CONFIG_KV_UNAVAILABLE");
    } finally {
      console.error = original;
    }
    await copy(kv, config("b", stub), 9);
    await new Promise((r) => setTimeout(r, 150));
    expect(await backendOf(await call("/x"))).toBe("b");
  });
});

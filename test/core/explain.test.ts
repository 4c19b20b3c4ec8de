// core/explain (the evaluation behind GET /explain and `switchyard explain`), core/config/diff and the KV layout
// of core/config/store: pure functions, so they are checked here without a runtime.
import { describe, expect, it } from "vitest";
import { diffConfig, renderChanges } from "../../core/config/diff.ts";
import { type ConfigInput, parseConfig } from "../../core/config/index.ts";
import { CONFIG_KEY, HISTORY_KEY, parseHistory, planWrite, rollbackTarget } from "../../core/config/store.ts";
import { explainRequest, renderExplanation } from "../../core/explain/index.ts";

const doc: ConfigInput = {
  services: [
    {
      name: "api",
      backends: [
        { url: "http://10.0.0.1:8080" },
        { url: "http://10.0.0.2:8080" },
        { url: "http://10.0.0.3:8080" },
      ],
      balance: "maglev",
      hash: "client-ip",
    },
    { name: "web", backends: [{ url: "http://10.0.1.1" }, { url: "http://10.0.1.2", weight: 0 }] },
    { name: "canary", backends: [{ url: "http://10.0.2.1" }], sticky: { cookie: "aff" } },
  ],
  routes: [
    {
      name: "api",
      match: { host: "api.example.com", path: { prefix: "/v1" }, headers: { "x-tenant": "acme" } },
      service: "api",
      rate_limit: ["per-ip", "per-key"],
    },
    {
      name: "api-post",
      match: { host: "api.example.com", path: { prefix: "/v1" }, method: "POST" },
      service: "api",
    },
    {
      name: "split",
      match: { host: "www.example.com", path: { exact: "/" } },
      split: [
        { service: "web", weight: 3 },
        { service: "canary", weight: 1 },
      ],
    },
    { name: "wild", match: { host: "*.example.com" }, service: "web" },
    { name: "old", match: { path: { exact: "/old" } }, redirect: { path: "/new", status: 301 } },
  ],
  rate_limits: [
    { name: "per-ip", key: "ip.src", limit: 100, period: "1m" },
    { name: "per-key", key: 'http.request.headers["x-api-key"]', limit: 10, period: "1s" },
  ],
};
const config = parseConfig(doc);

describe("explainRequest", () => {
  it("names the matched route and why each other route did not match or lost", () => {
    const e = explainRequest(config, {
      method: "GET",
      url: "https://api.example.com/v1/users",
      headers: [["X-Tenant", "acme"]],
      clientIp: "203.0.113.7",
    });
    expect(e.route?.name).toBe("api");
    const byName = Object.fromEntries(e.routes.map((r) => [r.name, r]));
    expect(byName.api!.result).toBe("selected");
    expect(byName["api-post"]!.reason).toBe("method GET is not POST");
    expect(byName.split!.reason).toMatch(
      /^host "api.example.com" is not www.example.com; path "\/v1\/users" does not match exact "\/"$/,
    );
    expect(byName.wild).toMatchObject({ result: "outranked" });
    expect(byName.wild!.reason).toMatch(/"api" takes precedence: its host match is less specific/);
    expect(byName.old!.reason).toBe('path "/v1/users" does not match exact "/old"');
  });

  it("explains header, missing-header and no-route cases", () => {
    const wrong = explainRequest(config, {
      method: "GET",
      url: "https://api.example.com/v1/users",
      headers: [["x-tenant", "globex"]],
    });
    expect(wrong.route?.name).toBe("wild");
    expect(wrong.routes[0]!.reason).toBe('header x-tenant is "globex", the route wants "acme"');
    const none = explainRequest(config, { method: "GET", url: "https://other.test/x" });
    expect(none.route).toBeNull();
    expect(none.action).toEqual({
      kind: "none",
      reason: "no route matches: the worker answers 404 SY_NO_ROUTE",
    });
  });

  it("shows which rate limits apply, under which key, and which do not", () => {
    const e = explainRequest(config, {
      method: "GET",
      url: "https://api.example.com/v1/x",
      headers: [["x-tenant", "acme"]],
      clientIp: "203.0.113.7",
    });
    expect(e.rate_limits).toEqual([
      {
        name: "per-ip",
        limit: 100,
        period_ms: 60_000,
        applies: true,
        key: "203.0.113.7",
        reason: 'counted under key "203.0.113.7": 100 per 1m',
      },
      expect.objectContaining({ name: "per-key", applies: false }),
    ]);
    expect(e.rate_limits[1]!.reason).toMatch(/no value for key/);
  });

  it("picks the backend a hash balancer would pick, the same one for the same key", () => {
    const pick = (ip: string) => {
      const e = explainRequest(config, {
        method: "GET",
        url: "https://api.example.com/v1/x",
        headers: [["x-tenant", "acme"]],
        clientIp: ip,
      });
      if (e.action.kind !== "forward") throw new Error("expected forward");
      return e.action.services[0]!;
    };
    const a = pick("198.51.100.1");
    expect(a.picked).toMatch(/^http:\/\/10\.0\.0\.[123]:8080$/);
    expect(pick("198.51.100.1").picked).toBe(a.picked);
    expect(a.reason).toMatch(/^maglev on the client IP "198.51.100.1"/);
    const seen = new Set(Array.from({ length: 40 }, (_, i) => pick(`198.51.100.${i + 2}`).picked));
    expect(seen.size).toBe(3);
  });

  it("respects health: unhealthy and drained backends are never picked, and the reason says why", () => {
    const e = explainRequest(
      config,
      {
        method: "GET",
        url: "https://api.example.com/v1/x",
        headers: [["x-tenant", "acme"]],
        clientIp: "1.2.3.4",
      },
      {
        health: (service, url) =>
          service === "api" && url !== "http://10.0.0.3:8080/"
            ? { healthy: false, reason: "3 failed checks" }
            : undefined,
      },
    );
    if (e.action.kind !== "forward") throw new Error("expected forward");
    const s = e.action.services[0]!;
    expect(s.picked).toBe("http://10.0.0.3:8080");
    expect(s.backends[0]).toMatchObject({ healthy: false, reason: "3 failed checks" });
  });

  it("explains a split per service, with shares, drained backends and sticky cookies", () => {
    const e = explainRequest(config, {
      method: "GET",
      url: "https://www.example.com/",
      headers: [["cookie", "aff=abc"]],
    });
    if (e.action.kind !== "forward") throw new Error("expected forward");
    const [web, canary] = e.action.services;
    expect(web).toMatchObject({ service: "web", share: 0.75, picked: "http://10.0.1.1" });
    expect(web!.backends[1]).toMatchObject({ healthy: false, reason: "weight 0: drained" });
    expect(canary!.share).toBe(0.25);
    expect(canary!.reason).toMatch(/carries sticky cookie aff/);
    expect(renderExplanation(e)).toMatch(/service: web \(75% of requests\) → http:\/\/10.0.1.1/);
  });

  it("says when a route's when expression is what failed", () => {
    const guarded = parseConfig({
      services: [{ name: "web", backends: [{ url: "http://10.0.1.1" }] }],
      routes: [
        {
          name: "internal",
          match: { path: { prefix: "/ops" } },
          when: "ip.src in {10.0.0.0/8}",
          service: "web",
        },
        { name: "public", service: "web" },
      ],
    });
    const outside = explainRequest(guarded, {
      method: "GET",
      url: "https://x.test/ops/a",
      clientIp: "203.0.113.1",
    });
    expect(outside.route?.name).toBe("public");
    expect(outside.routes[0]!.reason).toBe('its when expression "ip.src in {10.0.0.0/8}" is false');
    const inside = explainRequest(guarded, {
      method: "GET",
      url: "https://x.test/ops/a",
      clientIp: "10.1.2.3",
    });
    expect(inside.route?.name).toBe("internal");
  });

  it("gives a redirect's location", () => {
    const e = explainRequest(config, { method: "GET", url: "https://x.test/old?a=1" });
    expect(e.action).toEqual({ kind: "redirect", location: "https://x.test/new?a=1", status: 301 });
  });
});

describe("diffConfig", () => {
  it("matches named list items by name, so an insertion is one change", () => {
    const after = structuredClone(doc);
    after.routes!.splice(1, 0, { name: "new", match: { path: { exact: "/n" } }, service: "web" });
    after.services![1]!.balance = "random";
    const changes = diffConfig(doc, after);
    expect(changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      "added services[1].balance",
      "added routes[1]",
    ]);
    expect(renderChanges(diffConfig({ a: 1, b: [1, 2] }, { a: 2, b: [1] }))).toBe("~ a: 1 → 2\n- b[1]: 2");
  });
});

describe("KV layout", () => {
  it("plans version n+1 with the live key last, and drops versions past the history limit", () => {
    const history = [3, 2, 1].map((v) => ({
      version: v,
      updated_at: "2026-01-01T00:00:00.000Z",
      source: "x",
    }));
    const plan = planWrite("{}\n", history, 3, "cli push", 3, new Date("2026-02-02T00:00:00Z"));
    expect(plan.record).toEqual({ version: 4, updated_at: "2026-02-02T00:00:00.000Z", source: "cli push" });
    expect(plan.put.map((e) => e.key)).toEqual(["config:v:4", HISTORY_KEY, CONFIG_KEY]);
    expect(plan.put[2]!.metadata).toEqual(plan.record);
    expect(parseHistory(plan.put[1]!.value).map((r) => r.version)).toEqual([4, 3, 2]);
    expect(plan.remove).toEqual(["config:v:1"]);
    // A live version newer than the history (written by hand) still moves forward.
    expect(planWrite("{}", history, 3, "x", 9).record.version).toBe(10);
  });

  it("rolls back to the newest older version, or a named kept one", () => {
    const history = [5, 4, 2].map((v) => ({ version: v, updated_at: "", source: "" }));
    expect(rollbackTarget(history, 5)?.version).toBe(4);
    expect(rollbackTarget(history, 5, 2)?.version).toBe(2);
    expect(rollbackTarget(history, 5, 3)).toBeUndefined();
    expect(parseHistory("nonsense")).toEqual([]);
  });
});

describe("explain normalises the path as the worker does", () => {
  it("explains /%61dmin/x and //admin/x with the /admin route", () => {
    const cfg = parseConfig({
      services: [{ name: "web", backends: [{ url: "http://10.0.0.1:1" }] }],
      routes: [
        { name: "admin", match: { path: { prefix: "/admin" } }, respond: { status: 403 } },
        { name: "all", service: "web" },
      ],
    });
    for (const path of ["/%61dmin/x", "//admin/x"]) {
      const e = explainRequest(cfg, { method: "GET", url: `https://h.test${path}` });
      expect([path, e.route?.name]).toEqual([path, "admin"]);
    }
  });
});

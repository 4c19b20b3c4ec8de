// Per-route request plans: compileRuntime gives each route only the steps its config needs, and a route
// without WAF, rate limits, header modifiers or sticky sessions runs none of them (counted, not assumed).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { createApp } from "../../worker/src/app.ts";
import { runtimeFor } from "../../worker/src/runtime.ts";
import type { Step } from "../../worker/src/step.ts";
import { upstreams, url } from "./helpers.ts";

const config: ConfigInput = {
  services: [
    { name: "plain", backends: [{ url: url(upstreams.a) }] },
    { name: "sticky", backends: [{ url: url(upstreams.a) }], sticky: { cookie: "sy_aff" } },
  ],
  routes: [
    { name: "plain", match: { host: "plain.test" }, service: "plain", waf: { policy: "none" } },
    {
      name: "full",
      match: { host: "full.test" },
      service: "sticky",
      rate_limit: ["per-ip"],
      response_headers: { set: { "x-route": "full" } },
    },
    {
      name: "moved",
      match: { host: "moved.test" },
      redirect: { host: "elsewhere.test" },
      waf: { policy: "none" },
    },
  ],
  rate_limits: [{ name: "per-ip", key: "ip.src", limit: 1_000_000, period: "1m", mode: "approximate" }],
};

/** Wraps every step of every plan with counters, so a test sees which steps ran and how often. */
function countSteps(doc: ConfigInput): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const plan of runtimeFor(doc).plans) {
    const route = plan.route.name;
    const steps = plan.steps.steps.map(
      (s): Step => ({
        name: s.name,
        before: s.before
          ? (c, sy, deps) => {
              bump(`${route}:${s.name}:before`);
              return s.before!(c, sy, deps);
            }
          : undefined,
        after: s.after
          ? (c, sy, res, own) => {
              bump(`${route}:${s.name}:after`);
              return s.after!(c, sy, res, own);
            }
          : undefined,
      }),
    );
    plan.steps = { ...plan.steps, steps };
  }
  return counts;
}

describe("per-route plans", () => {
  it("compiles only the steps a route's config needs", () => {
    const doc = structuredClone(config);
    const names = runtimeFor(doc).plans.map((p) => [p.route.name, p.steps.names]);
    expect(names).toEqual([
      ["plain", ["proxy"]],
      ["full", ["waf", "rate-limit", "respond", "proxy"]],
      ["moved", ["redirect"]],
    ]);
  });

  it("runs no step at all for a route without features, and each step once per request otherwise", async () => {
    const doc = structuredClone(config);
    const counts = countSteps(doc);
    const app = createApp({ log: () => {} });
    const testEnv = { ...env, SWITCHYARD: doc, STICKY_SECRET: "plan-test-secret" };
    const get = async (host: string) => {
      const res = await app.fetch(
        new Request(`http://${host}/x`, { headers: { "cf-connecting-ip": "203.0.113.5" } }),
        testEnv,
      );
      await res.arrayBuffer();
      return res;
    };
    for (let i = 0; i < 5; i++) {
      const plain = await get("plain.test");
      expect(plain.status).toBe(200);
      expect(plain.headers.get("ratelimit-policy")).toBeNull();
      expect(plain.headers.get("set-cookie")).toBeNull();
      const full = await get("full.test");
      expect(full.status).toBe(200);
      expect(full.headers.get("x-route")).toBe("full");
      expect(full.headers.get("ratelimit-policy")).not.toBeNull();
    }
    expect([...counts.keys()].filter((k) => k.startsWith("plain:"))).toEqual([]);
    expect(Object.fromEntries(counts)).toEqual({
      "full:waf:before": 5,
      "full:rate-limit:before": 5,
      "full:rate-limit:after": 5,
      "full:respond:after": 5,
    });
  });
});

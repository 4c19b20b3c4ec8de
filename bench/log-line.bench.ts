// The per-request log line alone (mitata): worker/src/stages/log.ts (fixed fields, each value escaped once)
// against JSON.stringify over an object with the same fields, as the worker built it before, for a request of
// the realistic config (one attempt, an approximate rate-limit verdict, a WAF pass).
// Standalone: `npx node bench/log-line.bench.ts`; `npm run bench` calls the exported run() for the figures.
import { fileURLToPath } from "node:url";
import { bench, do_not_optimize, run as mitataRun } from "mitata";
import type { RequestContext } from "../worker/src/context.ts";
import { logLine } from "../worker/src/stages/log.ts";

function context(): RequestContext {
  return {
    requestId: "0b7e4c1e-2f7a-4d3b-9a51-6f0c1d2e3f40",
    clientIp: "203.0.113.7",
    trusted: false,
    startedAt: Date.now(),
    url: new URL("http://app-13.example.com/api/v1/orders/12345?page=2&sort=desc"),
    host: "app-13.example.com",
    route: { route: { name: "r-13-1" } } as RequestContext["route"],
    service: { name: "svc-14" } as RequestContext["service"],
    attempts: [{ n: 1, backend: "http://127.0.0.1:8081/", outcome: "response", status: 200, ms: 1 }],
    rateLimits: [{ policy: "per-ip", outcome: "allowed", source: "lease" }],
    waf: { action: "pass", score: 0, threshold: 5, wouldBlock: false, matches: [] },
    admin: false,
  } as RequestContext;
}

/** The previous way: an object with every field (most undefined) through JSON.stringify. */
function genericLine(sy: RequestContext, method: string, status: number, version: number): string {
  return JSON.stringify({
    ts: new Date(sy.startedAt).toISOString(),
    request_id: sy.requestId,
    client_ip: sy.clientIp || undefined,
    method,
    host: sy.host,
    path: sy.url.pathname,
    route: sy.route?.route.name,
    service: sy.service?.name,
    backend: sy.attempts.at(-1)?.backend,
    retries: sy.attempts.length > 1 ? sy.attempts.length - 1 : undefined,
    config_version: version || undefined,
    status,
    error: sy.error?.code,
    attempts: sy.attempts.length > 0 ? sy.attempts : undefined,
    panic: sy.panic,
    retry_budget_exhausted: sy.retryBudgetExhausted,
    rate_limits: sy.rateLimits.length > 0 ? sy.rateLimits : undefined,
    waf: sy.waf && { action: sy.waf.action, score: sy.waf.score, rules: sy.waf.matches.map((m) => m.id) },
    ms: Date.now() - sy.startedAt,
  });
}

export async function run({ quick = false }: { quick?: boolean } = {}) {
  const sy = context();
  bench("log line, fixed fields (logLine)", () => do_not_optimize(logLine(sy, "GET", 200, 0)));
  bench("log line, JSON.stringify of an object", () => do_not_optimize(genericLine(sy, "GET", 200, 0)));
  const out = await mitataRun({ format: quick ? "quiet" : "mitata" });
  const p50 = (name: string) =>
    (out.benchmarks.find((x) => x.alias === name)?.runs[0]?.stats?.p50 ?? Number.NaN) / 1000;
  return {
    fixed_median_us: p50("log line, fixed fields (logLine)"),
    generic_median_us: p50("log line, JSON.stringify of an object"),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await run());

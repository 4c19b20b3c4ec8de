// Route matching microbenchmark (mitata): the compiled table (core/routing) against a linear scan over the
// same match blocks in precedence order, at 100, 1,000 and 10,000 routes. Target: ≤ 2 µs median at 10,000
// routes, and 10,000 no more than 2× slower than 1,000 (issue 10).
// Standalone: `npx node bench/route-match.bench.ts`; `npm run bench` calls the exported run() for the figures.
import { fileURLToPath } from "node:url";
import { bench, do_not_optimize, run as mitataRun } from "mitata";
import { parseConfig } from "../core/config/parse.ts";
import type { Entry, MatchRequest, RouteTable } from "../core/routing/index.ts";
import { compileRouteTable, underPrefix } from "../core/routing/index.ts";
import { bySecondaryRank } from "../core/routing/precedence.ts";

/** A deterministic mix: exact hosts (10 routes per host), 70% prefixes, 20% exact paths, 10% header matches,
 * 1 in 50 a template, plus a wildcard host and a catch-all. */
export function routeConfig(n: number) {
  const hosts = Math.max(10, Math.floor(n / 10));
  const routes: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const host = `h${i % hosts}.example.com`;
    const kind = i % 50 === 7 ? "template" : i % 10 < 7 ? "prefix" : i % 10 < 9 ? "exact" : "header";
    const match =
      kind === "prefix"
        ? { host, path: { prefix: `/svc${i}/api` } }
        : kind === "exact"
          ? { host, path: { exact: `/svc${i}/login` } }
          : kind === "template"
            ? { host, path: { template: `/svc${i}/users/:id` } }
            : { host, path: { prefix: `/svc${i}` }, headers: { "x-tenant": `t${i}` } };
    routes.push({ name: `r${i}`, match, service: "s" });
  }
  routes.push({ name: "wild", match: { host: "*.example.com" }, service: "s" });
  routes.push({ name: "any", service: "s" });
  return parseConfig({ services: [{ name: "s", backends: [{ url: "http://10.0.0.1:8080" }] }], routes });
}

function requestFor(i: number, n: number, miss: boolean): MatchRequest {
  const hosts = Math.max(10, Math.floor(n / 10));
  const kind = i % 50 === 7 ? "template" : i % 10 < 7 ? "prefix" : i % 10 < 9 ? "exact" : "header";
  const path = miss
    ? `/nothing/${i}`
    : kind === "prefix"
      ? `/svc${i}/api/items/${i * 7}`
      : kind === "exact"
        ? `/svc${i}/login`
        : kind === "template"
          ? `/svc${i}/users/${i}`
          : `/svc${i}/x`;
  const headers: Record<string, string> = kind === "header" ? { "x-tenant": `t${i}` } : {};
  return {
    host: miss && i % 2 === 0 ? "elsewhere.test" : `h${i % hosts}.example.com`,
    path,
    method: "GET",
    header: (name) => headers[name] ?? null,
    query: () => null,
    cookie: () => undefined,
  };
}

/** The baseline: every match block in one list, in precedence order, tested one by one until one matches. */
export function linearMatcher(table: RouteTable): (req: MatchRequest) => Entry | undefined {
  const hostRank = (e: Entry) => {
    const h = e.hosts[0]!;
    return h.kind === "exact" ? 0 : h.kind === "wildcard" ? 1000 - h.value.length : 2000;
  };
  const pathRank = (e: Entry) =>
    e.path.kind === "exact"
      ? 0
      : e.path.kind === "template"
        ? 1
        : e.path.kind === "regex"
          ? 2
          : 100_000 - e.path.value.length;
  const list = [...table.entries].sort(
    (a, b) => hostRank(a) - hostRank(b) || pathRank(a) - pathRank(b) || bySecondaryRank(a, b),
  );
  const hostOk = (e: Entry, host: string) =>
    e.hosts.some(
      (h) => h.kind === "any" || (h.kind === "exact" ? h.value === host : host.endsWith(`.${h.value}`)),
    );
  const pathOk = (e: Entry, path: string) => {
    const p = e.path;
    if (p.kind === "exact") return p.value === path;
    if (p.kind === "prefix") return underPrefix(path, p.value);
    if (p.kind === "regex") return p.re.test(path);
    const segs = path.split("/");
    return (
      segs.length === p.segments.length + 1 &&
      p.segments.every((s, i) => ("param" in s ? segs[i + 1] !== "" : s.literal === segs[i + 1]))
    );
  };
  return (req) => list.find((e) => hostOk(e, req.host) && pathOk(e, req.path) && e.test(req));
}

export const SIZES = [100, 1000, 10_000] as const;

export async function run({ quick = false }: { quick?: boolean } = {}) {
  const cases = SIZES.map((n) => {
    const table = compileRouteTable(routeConfig(n).routes);
    const linear = linearMatcher(table);
    // 512 requests spread over the table, 1 in 10 a miss that falls to the wildcard or catch-all.
    const reqs = Array.from({ length: 512 }, (_, k) => requestFor((k * 7919) % n, n, k % 10 === 9));
    for (const r of reqs) {
      const a = table.match(r)?.index;
      const b = linear(r)?.index;
      if (a !== b)
        throw new Error(`table and linear scan disagree at ${n} routes for ${r.host}${r.path}: ${a} vs ${b}`);
    }
    return { n, table, linear, reqs };
  });
  for (const c of cases) {
    let i = 0;
    bench(`compiled table, ${c.n} routes`, () => do_not_optimize(c.table.match(c.reqs[i++ & 511]!)));
  }
  for (const c of cases) {
    let i = 0;
    bench(`linear scan, ${c.n} routes`, () => do_not_optimize(c.linear(c.reqs[i++ & 511]!)));
  }
  const out = await mitataRun({ format: quick ? "quiet" : "mitata" });
  const p50 = (name: string) => {
    const b = out.benchmarks.find((x) => x.alias === name);
    return (b?.runs[0]?.stats?.p50 ?? Number.NaN) / 1000; // ns → µs
  };
  const figures: Record<string, number> = {};
  for (const n of SIZES) {
    figures[`routes_${n}.indexed_median_us`] = p50(`compiled table, ${n} routes`);
    figures[`routes_${n}.linear_median_us`] = p50(`linear scan, ${n} routes`);
  }
  figures.indexed_10000_vs_1000_ratio =
    figures["routes_10000.indexed_median_us"]! / figures["routes_1000.indexed_median_us"]!;
  figures.linear_vs_indexed_10000_ratio =
    figures["routes_10000.linear_median_us"]! / figures["routes_10000.indexed_median_us"]!;
  figures.target_10000_us = 2;
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await run();
  console.log("\nroutes   compiled p50   linear p50");
  for (const n of SIZES) {
    const a = figures[`routes_${n}.indexed_median_us`]!;
    const b = figures[`routes_${n}.linear_median_us`]!;
    console.log(`${String(n).padStart(6)}   ${a.toFixed(3).padStart(9)} µs   ${b.toFixed(3).padStart(9)} µs`);
  }
  console.log(JSON.stringify(figures, null, 2));
}

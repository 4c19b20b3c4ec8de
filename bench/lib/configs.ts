// Switchyard configs for the bench: one route, the "realistic" one (200 routes, managed WAF, sticky cookies, an
// approximate rate limit) and 10,000 routes for compile time. The schema grows while the project is built, so
// each optional feature is tried in the spellings it may take and kept only if checkConfig accepts the document;
// the ones left out are reported.
import { checkConfig } from "../../core/config/parse.ts";

type Doc = Record<string, unknown> & { services: Svc[]; routes: Rt[] };
type Svc = Record<string, unknown> & { name: string };
type Rt = Record<string, unknown> & { name: string };

export function oneRouteConfig(backend: string): Doc {
  return {
    services: [{ name: "origin", backends: [{ url: backend }] }],
    routes: [{ name: "all", service: "origin" }],
  };
}

const PATHS = ["/api/v1/users", "/api/v1/orders", "/api/v2/search", "/static", "/assets", "/auth", "/admin"];

/** The request that the realistic config routes: a mid-table route, a query string, browser-like headers. */
export const REALISTIC_REQUEST = {
  host: "app-13.example.com",
  path: "/api/v1/orders/12345?page=2&sort=desc",
  headers: {
    // What Cloudflare's edge adds to every request: the client's address (the worker takes ip.src, the rate-limit
    // key, from it and from nothing else) and the Ray ID (the worker's request id, see docs/routing.md).
    "CF-Connecting-IP": "203.0.113.7",
    "CF-Ray": "8c1f4e2a9b3d5f70-AMS",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
    Accept: "application/json",
    "Accept-Language": "en-US,en;q=0.9",
  },
};

/** 200 routes over 20 hosts and 20 services of two backends each. */
function realisticBase(backends: string[]): Doc {
  const services: Svc[] = [];
  for (let s = 0; s < 20; s++)
    services.push({ name: `svc-${s}`, backends: backends.map((url) => ({ url })) });
  const routes: Rt[] = [];
  for (let h = 0; h < 20; h++) {
    for (let p = 0; p < 10; p++) {
      const path = p < PATHS.length ? { prefix: PATHS[p] } : { exact: `/page-${p}` };
      routes.push({
        name: `r-${h}-${p}`,
        match: { host: `app-${h}.example.com`, path },
        service: `svc-${(h + p) % 20}`,
      });
    }
  }
  return { services, routes };
}

interface Feature {
  label: string;
  /** Each spelling mutates a copy of the document; the first that validates is kept. */
  spellings: ((d: Doc) => void)[];
}

const RATE_LIMIT_NAME = "per-ip";
const approxSpellings: Record<string, unknown>[] = [
  { mode: "approximate" },
  { approximate: true },
  { consistency: "approximate" },
  { accuracy: "approximate" },
  { algorithm: "approximate" },
  { exact: false },
];

const FEATURES: Feature[] = [
  {
    label: "managed WAF",
    spellings: [
      { managed: { enabled: true, paranoia: 1, mode: "block" } },
      { managed: { paranoia: 1, mode: "block" } },
      { managed: { mode: "block" } },
      { managed: { enabled: true } },
      { managed: {} },
      { managed: true },
    ].map((waf) => (d: Doc) => {
      d.waf = waf;
    }),
  },
  {
    label: "sticky cookies",
    spellings: [
      { sticky: { cookie: "sy_aff", ttl: "1h" } },
      { sticky: { cookie: "sy_aff" } },
      { sticky: { cookie: { name: "sy_aff", ttl: "1h" } } },
      { affinity: { cookie: "sy_aff", ttl: "1h" } },
    ].map((extra) => (d: Doc) => {
      for (const s of d.services) Object.assign(s, extra);
    }),
  },
  {
    label: "approximate rate limit",
    spellings: approxSpellings.flatMap((approx) =>
      [(r: Rt) => (r.rate_limit = RATE_LIMIT_NAME), (r: Rt) => (r.rate_limits = [RATE_LIMIT_NAME])].map(
        (attach) => (d: Doc) => {
          // A limit no bench run reaches: the figure is the cost of counting, not of rejecting.
          d.rate_limits = [
            { name: RATE_LIMIT_NAME, key: "ip.src", limit: 100_000_000, period: "1m", ...approx },
          ];
          for (const r of d.routes) attach(r);
        },
      ),
    ),
  },
];

export interface RealisticConfig {
  doc: Doc;
  included: string[];
  missing: { label: string; why: string }[];
}

/** `only`: try just these features (by label), for finding which one keeps the worker from answering. */
export function realisticConfig(backends: string[], only?: string[]): RealisticConfig {
  let doc = realisticBase(backends);
  const base = checkConfig(doc);
  if (!base.config)
    throw new Error(
      `the 200-route base config is invalid: ${base.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
  const included = ["200 routes"];
  const missing: RealisticConfig["missing"] = [];
  for (const f of FEATURES) {
    if (only && !only.includes(f.label)) continue;
    let firstProblem = "";
    let kept = false;
    for (const spell of f.spellings) {
      const next = structuredClone(doc);
      spell(next);
      const r = checkConfig(next);
      if (r.config) {
        doc = next;
        kept = true;
        break;
      }
      firstProblem ||= r.problems[0] ? `${r.problems[0].path}: ${r.problems[0].message}` : "rejected";
    }
    if (kept) included.push(f.label);
    else missing.push({ label: f.label, why: `not in the config schema yet (${firstProblem})` });
  }
  return { doc, included, missing };
}

/** n routes over n/10 hosts, prefix and exact paths mixed, for config compile time. */
export function manyRoutesConfig(n: number): Doc {
  const services: Svc[] = [];
  for (let s = 0; s < 50; s++)
    services.push({ name: `svc-${s}`, backends: [{ url: `http://10.0.${s}.1:8080` }] });
  const routes: Rt[] = [];
  for (let i = 0; i < n; i++) {
    const host = `h${Math.floor(i / 10)}.example.com`;
    const path = i % 3 === 0 ? { exact: `/p${i}/item` } : { prefix: `/p${i % 10}/v${i % 7}` };
    routes.push({ name: `r-${i}`, match: { host, path }, service: `svc-${i % 50}` });
  }
  return { services, routes };
}

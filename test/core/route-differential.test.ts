// Differential test of the indexed route matcher (core/routing/table.ts) against a plain reference written
// straight from the precedence rules in docs/routing.md: on thousands of random route tables and requests,
// both must pick the same route and match block. Bounded in CI; SWITCHYARD_FUZZ_RUNS raises the count.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkConfig, type Route } from "../../core/config/index.ts";
import { compileRouteTable, type MatchRequest } from "../../core/routing/index.ts";

const RUNS = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? 2000);

interface Req {
  host: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  cookies: Record<string, string>;
}

// ---- the reference: every block that matches, ranked as docs/routing.md says, no index ----

/** Host: exact, then the longest wildcard, then no host. The best of a block's hosts that match. */
function hostRank(hosts: string[] | undefined, host: string): number[] | undefined {
  if (hosts === undefined) return [0, 0];
  let best: number[] | undefined;
  for (const h of hosts.map((x) => x.toLowerCase())) {
    let r: number[] | undefined;
    if (h.startsWith("*.")) r = host.endsWith(h.slice(1)) ? [1, h.length] : undefined;
    else r = h === host ? [2, 0] : undefined;
    if (r && (!best || compare(r, best) > 0)) best = r;
  }
  return best;
}

/** Path: exact, then template (static segments before parameters, left to right), then regex, then the
 *  longest prefix; no path is prefix "/". */
function pathRank(p: Route["match"][number]["path"], path: string): number[] | undefined {
  if (p?.exact !== undefined) return p.exact === path ? [4] : undefined;
  if (p?.template !== undefined) {
    const want = p.template.split("/").slice(1);
    const got = path.split("/").slice(1);
    if (want.length !== got.length) return undefined;
    const kinds: number[] = [];
    for (let i = 0; i < want.length; i++) {
      if (want[i]!.startsWith(":")) {
        if (got[i] === "") return undefined;
        kinds.push(0);
      } else if (want[i] === got[i]) kinds.push(1);
      else return undefined;
    }
    return [3, ...kinds];
  }
  if (p?.regex !== undefined) return new RegExp(p.regex).test(path) ? [2] : undefined;
  let prefix = p?.prefix ?? "/";
  while (prefix.length > 1 && prefix.endsWith("/")) prefix = prefix.slice(0, -1);
  const under = prefix === "/" || path === prefix || path.startsWith(`${prefix}/`);
  return under ? [1, prefix.length] : undefined;
}

function valueHolds(cond: unknown, actual: string | undefined): boolean {
  if (typeof cond === "string") return actual === cond;
  const c = cond as { exact?: string; regex?: string; present?: boolean; absent?: boolean };
  if (c.exact !== undefined) return actual === c.exact;
  if (c.regex !== undefined) return actual !== undefined && new RegExp(c.regex).test(actual);
  if (c.present) return actual !== undefined;
  return actual === undefined;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function reference(routes: Route[], req: Req): { index: number; block: number } | undefined {
  let best: { index: number; block: number; rank: number[] } | undefined;
  routes.forEach((route, index) => {
    route.match.forEach((m, block) => {
      const hosts = m.host === undefined ? undefined : [m.host].flat();
      const h = hostRank(hosts, req.host);
      const p = pathRank(m.path, req.path);
      if (!h || !p) return;
      const methods = m.method === undefined ? undefined : [m.method].flat();
      if (methods && !methods.includes(req.method)) return;
      const all = (
        conds: Record<string, unknown> | undefined,
        values: Record<string, string>,
        lower: boolean,
      ) => Object.entries(conds ?? {}).every(([k, v]) => valueHolds(v, values[lower ? k.toLowerCase() : k]));
      if (!all(m.headers, req.headers, true) || !all(m.query, req.query, false)) return;
      if (!all(m.cookies, req.cookies, false)) return;
      const n = (x: object | undefined) => Object.keys(x ?? {}).length;
      // Path details are padded so a template's segment kinds never compare against another field.
      const rank = [
        ...h,
        ...p,
        ...Array(8 - p.length).fill(0),
        methods ? 1 : 0,
        n(m.headers),
        n(m.query),
        n(m.cookies),
      ];
      // Earlier route, then earlier block, wins a full tie: only a strictly better rank replaces.
      if (!best || compare(rank, best.rank) > 0) best = { index, block, rank };
    });
  });
  return best && { index: best.index, block: best.block };
}

// ---- random tables and requests over a small alphabet, so routes overlap often ----

const seg = fc.constantFrom("a", "b", "c");
const pathOf = (segs: string[]) => `/${segs.join("/")}`;
const hostName = fc.constantFrom("a.com", "b.a.com", "x.b.a.com", "c.com");
const hostPattern = fc.constantFrom("a.com", "b.a.com", "x.b.a.com", "*.a.com", "*.b.a.com", "C.com");
const pathCond = fc.oneof(
  fc.array(seg, { maxLength: 3 }).map((s) => ({ exact: pathOf(s) })),
  fc.array(seg, { maxLength: 3 }).map((s) => ({ prefix: pathOf(s) })),
  fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => ({ prefix: `${pathOf(s)}/` })),
  fc
    .array(fc.oneof(seg, fc.constantFrom(":p", ":q")), { minLength: 1, maxLength: 3 })
    .map((s) => ({ template: pathOf(s.map((x, i) => (x.startsWith(":") ? `${x}${i}` : x))) })),
  fc.constantFrom({ regex: "^/a" }, { regex: "b$" }, { regex: "^/[ab]/c" }, { regex: "/c/" }),
);
const value = fc.oneof(
  fc.constantFrom("1", "2"),
  fc.constantFrom({ present: true }, { absent: true }, { regex: "^1" }),
);
const block = fc.record(
  {
    host: fc.oneof(hostPattern, fc.array(hostPattern, { minLength: 1, maxLength: 2 })),
    path: pathCond,
    method: fc.oneof(fc.constantFrom("GET", "POST"), fc.constant(["GET", "PUT"])),
    headers: fc.dictionary(fc.constantFrom("x-a", "X-B"), value, { maxKeys: 2 }),
    query: fc.dictionary(fc.constantFrom("q", "r"), value, { maxKeys: 1 }),
    cookies: fc.dictionary(fc.constantFrom("c"), value, { maxKeys: 1 }),
  },
  { requiredKeys: [] },
);
const routesArb = fc.array(
  fc.record({ match: fc.oneof(block, fc.array(block, { minLength: 1, maxLength: 2 })) }),
  { minLength: 1, maxLength: 12 },
);
const maybe = (v: fc.Arbitrary<string>) => fc.option(v, { nil: undefined });
const reqArb = fc.record({
  host: hostName,
  path: fc.array(fc.oneof(seg, fc.constant("")), { maxLength: 4 }).map(pathOf),
  method: fc.constantFrom("GET", "POST", "PUT"),
  a: maybe(fc.constantFrom("1", "2")),
  b: maybe(fc.constantFrom("1", "2")),
  q: maybe(fc.constantFrom("1", "2")),
  c: maybe(fc.constantFrom("1", "2")),
});

const strip = <T extends Record<string, string | undefined>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string>;

describe("indexed route matcher vs the reference from docs/routing.md", () => {
  it("picks the same route and block", () => {
    fc.assert(
      fc.property(routesArb, fc.array(reqArb, { minLength: 1, maxLength: 8 }), (raw, reqs) => {
        const doc = {
          services: [{ name: "web", backends: [{ url: "http://10.0.0.1:1" }] }],
          routes: raw.map((r, i) => ({ name: `r${i}`, service: "web", ...r })),
        };
        const { config, problems } = checkConfig(doc);
        expect(problems).toEqual([]);
        const table = compileRouteTable(config!.routes);
        for (const r of reqs) {
          const req: Req = {
            host: r.host,
            path: r.path,
            method: r.method,
            headers: strip({ "x-a": r.a, "x-b": r.b }),
            query: strip({ q: r.q }),
            cookies: strip({ c: r.c }),
          };
          const m: MatchRequest = {
            host: req.host,
            path: req.path,
            method: req.method,
            header: (n) => req.headers[n] ?? null,
            query: (n) => req.query[n] ?? null,
            cookie: (n) => req.cookies[n],
          };
          const got = table.match(m);
          expect(got && { index: got.index, block: got.block }).toEqual(reference(config!.routes, req));
        }
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});

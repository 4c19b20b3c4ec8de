// One match block of a route → an Entry: its host patterns, its path key (what the index files it under), its
// secondary precedence rank, and a test for the conditions the index does not cover (method, headers, query,
// cookies). Regexes and templates are compiled here, once per config.
import type { Route, RouteMatch, ValueMatch } from "../config/schema/index.ts";
import { compileExpression } from "../rules/index.ts";
import { type HostPattern, parseHostPattern } from "./host.ts";
import { normalizePrefix } from "./path.ts";
import type { MatchRequest } from "./request.ts";

export type TemplateSegment = { literal: string } | { param: string };

export type PathKey =
  | { kind: "exact"; value: string }
  | { kind: "prefix"; value: string }
  | { kind: "regex"; value: string; re: RegExp }
  | { kind: "template"; value: string; segments: TemplateSegment[] };

export interface ValueCond {
  kind: "exact" | "regex" | "present" | "absent";
  value: string;
  re?: RegExp;
}

export interface Entry {
  index: number;
  block: number;
  route: Route;
  hosts: HostPattern[];
  path: PathKey;
  methods: ReadonlySet<string> | undefined;
  headers: ReadonlyArray<readonly [string, ValueCond]>;
  query: ReadonlyArray<readonly [string, ValueCond]>;
  cookies: ReadonlyArray<readonly [string, ValueCond]>;
  /** Secondary precedence, compared element by element, higher first: [method, headers, query, cookies, when]. */
  rank: readonly number[];
  test(req: MatchRequest): boolean;
}

export function compileValue(v: ValueMatch): ValueCond {
  if (typeof v === "string") return { kind: "exact", value: v };
  if (v.exact !== undefined) return { kind: "exact", value: v.exact };
  if (v.regex !== undefined) return { kind: "regex", value: v.regex, re: new RegExp(v.regex) };
  return v.present ? { kind: "present", value: "" } : { kind: "absent", value: "" };
}

export function valueHolds(cond: ValueCond, actual: string | null | undefined): boolean {
  switch (cond.kind) {
    case "exact":
      return actual === cond.value;
    case "regex":
      return actual != null && cond.re!.test(actual);
    case "present":
      return actual != null;
    case "absent":
      return actual == null;
  }
}

export function compilePath(p: RouteMatch["path"]): PathKey {
  if (p?.exact !== undefined) return { kind: "exact", value: p.exact };
  if (p?.regex !== undefined) return { kind: "regex", value: p.regex, re: new RegExp(p.regex) };
  if (p?.template !== undefined) {
    const segments = p.template
      .split("/")
      .slice(1)
      .map((s): TemplateSegment => (s.startsWith(":") ? { param: s.slice(1) } : { literal: s }));
    return { kind: "template", value: p.template, segments };
  }
  return { kind: "prefix", value: normalizePrefix(p?.prefix ?? "/") };
}

const conds = (rec: Record<string, ValueMatch> | undefined, lower: boolean) =>
  Object.entries(rec ?? {}).map(([k, v]) => [lower ? k.toLowerCase() : k, compileValue(v)] as const);

export function compileBlock(route: Route, index: number, block: number): Entry {
  const m = route.match[block]!;
  const hostList = m.host === undefined ? [undefined] : [m.host].flat();
  const methods = m.method === undefined ? undefined : new Set([m.method].flat());
  const headers = conds(m.headers, true);
  const query = conds(m.query, false);
  const cookies = conds(m.cookies, false);
  // The route's `when` (rules language) is one more condition of every match block; compiled once here.
  const when =
    route.when === undefined ? undefined : compileExpression(route.when, { name: `routes[${index}].when` });

  const test = (req: MatchRequest): boolean => {
    if (methods && !methods.has(req.method)) return false;
    for (const [name, c] of headers) if (!valueHolds(c, req.header(name))) return false;
    for (const [name, c] of query) if (!valueHolds(c, req.query(name))) return false;
    for (const [name, c] of cookies) if (!valueHolds(c, req.cookie(name))) return false;
    if (when && !(req.rules && when.test(req.rules()))) return false;
    return true;
  };

  return {
    index,
    block,
    route,
    hosts: hostList.map(parseHostPattern),
    path: compilePath(m.path),
    methods,
    headers,
    query,
    cookies,
    rank: [methods ? 1 : 0, headers.length, query.length, cookies.length, when ? 1 : 0],
    test,
  };
}

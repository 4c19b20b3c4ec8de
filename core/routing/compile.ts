// One match block of a route → an Entry: its host patterns, its path key, its secondary precedence rank and
// a test for the conditions the index does not cover.
import type { Route } from "../config/schema/index.ts";
import { type HostPattern, parseHostPattern } from "./host.ts";
import { normalizePrefix } from "./path.ts";
import type { MatchRequest } from "./request.ts";

export interface PathKey {
  kind: "exact" | "prefix";
  value: string;
}

export interface Entry {
  index: number;
  block: number;
  route: Route;
  hosts: HostPattern[];
  path: PathKey;
  /** Secondary precedence, compared element by element, higher first: [method, headers, query]. */
  rank: number[];
  test(req: MatchRequest): boolean;
}

const always = () => true;

export function compileBlock(route: Route, index: number, block: number): Entry {
  const m = route.match;
  const hostList = m.host === undefined ? [undefined] : [m.host].flat();
  const path: PathKey =
    m.path?.exact !== undefined
      ? { kind: "exact", value: m.path.exact }
      : { kind: "prefix", value: normalizePrefix(m.path?.prefix ?? "/") };
  return { index, block, route, hosts: hostList.map(parseHostPattern), path, rank: [], test: always };
}

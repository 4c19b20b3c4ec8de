// The compiled route table. Match blocks are indexed by host (exact map, wildcard suffix map, any-host), then
// by path (exact map, prefix map walked by segments), so a lookup costs a few map probes however many routes
// there are. Candidates found under one key are pre-sorted by the remaining precedence, so the first whose
// other conditions hold is the winner. Order of the walk = Gateway API precedence (see precedence.ts).
import type { Route } from "../config/schema/index.ts";
import { compileBlock, type Entry } from "./compile.ts";
import { normalizeHost, wildcardSuffixes } from "./host.ts";
import { prefixKeys } from "./path.ts";
import { bySecondaryRank } from "./precedence.ts";
import type { MatchRequest } from "./request.ts";

export interface RouteMatch {
  /** Index of the route in config.routes. */
  index: number;
  route: Route;
  /** Which of the route's match blocks matched. */
  block: number;
  /** Named template parameters (`/users/:id` → { id }), empty otherwise. */
  params: Record<string, string>;
}

export interface RouteTable {
  readonly size: number;
  match(req: MatchRequest): RouteMatch | undefined;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

class PathIndex {
  readonly exact = new Map<string, Entry[]>();
  readonly prefix = new Map<string, Entry[]>();

  add(entry: Entry): void {
    const p = entry.path;
    const map = p.kind === "exact" ? this.exact : this.prefix;
    const list = map.get(p.value);
    if (list) list.push(entry);
    else map.set(p.value, [entry]);
  }

  finish(): void {
    for (const list of this.exact.values()) list.sort(bySecondaryRank);
    for (const list of this.prefix.values()) list.sort(bySecondaryRank);
  }

  match(req: MatchRequest): Entry | undefined {
    const exact = this.exact.get(req.path);
    if (exact) {
      for (const e of exact) if (e.test(req)) return e;
    }
    if (this.prefix.size === 0) return undefined;
    for (const key of prefixKeys(req.path)) {
      const list = this.prefix.get(key);
      if (!list) continue;
      for (const e of list) if (e.test(req)) return e;
    }
    return undefined;
  }
}

export function compileRouteTable(routes: readonly Route[]): RouteTable {
  const exactHosts = new Map<string, PathIndex>();
  const wildcardHosts = new Map<string, PathIndex>();
  const anyHost = new PathIndex();
  const indexFor = (map: Map<string, PathIndex>, key: string) => {
    let idx = map.get(key);
    if (!idx) {
      idx = new PathIndex();
      map.set(key, idx);
    }
    return idx;
  };

  routes.forEach((route, index) => {
    const entry = compileBlock(route, index, 0);
    for (const host of entry.hosts) {
      if (host.kind === "any") anyHost.add(entry);
      else indexFor(host.kind === "exact" ? exactHosts : wildcardHosts, host.value).add(entry);
    }
  });
  for (const idx of exactHosts.values()) idx.finish();
  for (const idx of wildcardHosts.values()) idx.finish();
  anyHost.finish();

  const result = (e: Entry): RouteMatch => ({
    index: e.index,
    route: e.route,
    block: e.block,
    params: NO_PARAMS,
  });

  return {
    size: routes.length,
    match(req) {
      const host = req.host;
      const exact = exactHosts.get(host);
      if (exact) {
        const e = exact.match(req);
        if (e) return result(e);
      }
      if (wildcardHosts.size > 0) {
        for (const suffix of wildcardSuffixes(host)) {
          const idx = wildcardHosts.get(suffix);
          const e = idx?.match(req);
          if (e) return result(e);
        }
      }
      const e = anyHost.match(req);
      return e ? result(e) : undefined;
    },
  };
}

export { normalizeHost };

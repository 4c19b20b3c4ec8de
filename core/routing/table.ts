// The compiled route table. Match blocks are indexed by host (exact map, wildcard-suffix map, any-host), then
// by path (exact map, template trie, regex list, prefix map walked segment by segment), so a lookup costs a
// few map probes however many routes there are; only regex paths are scanned (within their host). Candidates
// under one key are pre-sorted by the remaining precedence, so the first whose other conditions hold wins.
// The walk order is the Gateway API precedence written down in precedence.ts.
import type { Route } from "../config/schema/index.ts";
import { compileBlock, type Entry, type PathKey, type TemplateSegment } from "./compile.ts";
import { wildcardSuffixes } from "./host.ts";
import { prefixKeys } from "./path.ts";
import { bySecondaryRank } from "./precedence.ts";
import type { MatchRequest } from "./request.ts";

export interface RouteMatch {
  /** Index of the route in config.routes. */
  index: number;
  route: Route;
  /** Which of the route's match blocks matched. */
  block: number;
  /** The path condition that matched (a prefix rewrite needs the prefix). */
  path: PathKey;
  /** Named template parameters (`/users/:id` → { id }), empty otherwise. */
  params: Record<string, string>;
}

export interface RouteTable {
  readonly size: number;
  /** Every compiled match block, for checks such as shadowing (warnings.ts). */
  readonly entries: readonly Entry[];
  match(req: MatchRequest): RouteMatch | undefined;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

class TemplateNode {
  readonly literal = new Map<string, TemplateNode>();
  param: TemplateNode | undefined;
  readonly entries: Entry[] = [];

  insert(segments: readonly TemplateSegment[], entry: Entry): void {
    let node: TemplateNode = this;
    for (const s of segments) {
      if ("param" in s) {
        node.param ??= new TemplateNode();
        node = node.param;
      } else {
        let next = node.literal.get(s.literal);
        if (!next) {
          next = new TemplateNode();
          node.literal.set(s.literal, next);
        }
        node = next;
      }
    }
    node.entries.push(entry);
  }

  sort(): void {
    this.entries.sort(bySecondaryRank);
    for (const n of this.literal.values()) n.sort();
    this.param?.sort();
  }

  /** Depth-first, static segments before parameters; a parameter never matches an empty segment. */
  find(segs: readonly string[], i: number, req: MatchRequest): Entry | undefined {
    if (i === segs.length) {
      for (const e of this.entries) if (e.test(req)) return e;
      return undefined;
    }
    const lit = this.literal.get(segs[i]!)?.find(segs, i + 1, req);
    if (lit) return lit;
    return segs[i] === "" ? undefined : this.param?.find(segs, i + 1, req);
  }
}

class PathIndex {
  private readonly exact = new Map<string, Entry[]>();
  private readonly prefix = new Map<string, Entry[]>();
  private readonly regex: Entry[] = [];
  private templates: TemplateNode | undefined;

  add(entry: Entry): void {
    const p = entry.path;
    if (p.kind === "regex") this.regex.push(entry);
    else if (p.kind === "template") {
      this.templates ??= new TemplateNode();
      this.templates.insert(p.segments, entry);
    } else {
      const map = p.kind === "exact" ? this.exact : this.prefix;
      const list = map.get(p.value);
      if (list) list.push(entry);
      else map.set(p.value, [entry]);
    }
  }

  finish(): void {
    for (const list of this.exact.values()) list.sort(bySecondaryRank);
    for (const list of this.prefix.values()) list.sort(bySecondaryRank);
    this.regex.sort(bySecondaryRank);
    this.templates?.sort();
  }

  match(req: MatchRequest): Entry | undefined {
    const path = req.path;
    const exact = this.exact.get(path);
    if (exact) {
      for (const e of exact) if (e.test(req)) return e;
    }
    if (this.templates) {
      const e = this.templates.find(path.split("/"), 1, req);
      if (e) return e;
    }
    for (const e of this.regex) {
      if (e.path.kind === "regex" && e.path.re.test(path) && e.test(req)) return e;
    }
    if (this.prefix.size === 0) return undefined;
    for (const key of prefixKeys(path)) {
      const list = this.prefix.get(key);
      if (!list) continue;
      for (const e of list) if (e.test(req)) return e;
    }
    return undefined;
  }
}

function templateParams(path: string, key: PathKey): Record<string, string> {
  if (key.kind !== "template") return NO_PARAMS;
  const segs = path.split("/");
  const params: Record<string, string> = {};
  key.segments.forEach((s, i) => {
    if ("param" in s) params[s.param] = segs[i + 1]!;
  });
  return params;
}

export function compileRouteTable(routes: readonly Route[]): RouteTable {
  const exactHosts = new Map<string, PathIndex>();
  const wildcardHosts = new Map<string, PathIndex>();
  const anyHost = new PathIndex();
  const entries: Entry[] = [];
  const indexFor = (map: Map<string, PathIndex>, key: string) => {
    let idx = map.get(key);
    if (!idx) {
      idx = new PathIndex();
      map.set(key, idx);
    }
    return idx;
  };

  routes.forEach((route, index) => {
    for (let block = 0; block < route.match.length; block++) {
      const entry = compileBlock(route, index, block);
      entries.push(entry);
      // A block listing the same host twice would be found twice; one index entry per distinct host.
      const seen = new Set<string>();
      for (const host of entry.hosts) {
        const k = `${host.kind}:${host.value}`;
        if (seen.has(k)) continue;
        seen.add(k);
        if (host.kind === "any") anyHost.add(entry);
        else indexFor(host.kind === "exact" ? exactHosts : wildcardHosts, host.value).add(entry);
      }
    }
  });
  for (const idx of exactHosts.values()) idx.finish();
  for (const idx of wildcardHosts.values()) idx.finish();
  anyHost.finish();

  const result = (e: Entry, path: string): RouteMatch => ({
    index: e.index,
    route: e.route,
    block: e.block,
    path: e.path,
    params: templateParams(path, e.path),
  });

  return {
    size: routes.length,
    entries,
    match(req) {
      const host = req.host;
      const exact = exactHosts.get(host);
      if (exact) {
        const e = exact.match(req);
        if (e) return result(e, req.path);
      }
      if (wildcardHosts.size > 0) {
        for (const suffix of wildcardSuffixes(host)) {
          const e = wildcardHosts.get(suffix)?.match(req);
          if (e) return result(e, req.path);
        }
      }
      const e = anyHost.match(req);
      return e ? result(e, req.path) : undefined;
    },
  };
}

// Why a request goes where it goes: which route matched and why every other route did not, which rate limits
// apply and with what key, which backend would be picked and why. Pure and runtime-neutral, so the worker's
// GET /explain and the offline `switchyard explain` give the same answer for the same config.
import { createSelector, HASH_ALGORITHMS } from "../balance/index.ts";
import { formatDuration } from "../config/duration.ts";
import type { Config, HashKey, Route, Service } from "../config/schema/index.ts";
import type { Entry } from "../routing/compile.ts";
import { valueHolds } from "../routing/compile.ts";
import {
  compileRouteTable,
  normalizeHost,
  parseCookies,
  type RouteTable,
  redirectLocation,
} from "../routing/index.ts";
import { normalizePath, PathRejected } from "../routing/normalize-path.ts";
import { underPrefix } from "../routing/path.ts";
import { matchRequestFrom } from "../routing/request.ts";
import {
  type CompiledExpression,
  compileExpression,
  RequestFields,
  type RuleHeaders,
} from "../rules/index.ts";
import { compileKeyExpression } from "../rules/key.ts";

export interface ExplainInput {
  method: string;
  /** Absolute URL, e.g. https://api.example.com/v1/x?y=1. */
  url: string;
  /** Request headers as [name, value] pairs (a Host header overrides the URL's host, as for a real request). */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** The client address (CF-Connecting-IP), for ip.src in rate-limit keys and client-ip hashing. */
  clientIp?: string;
}

export interface BackendHealth {
  healthy: boolean;
  reason: string;
}

export interface ExplainOptions {
  /** A compiled table for `config.routes`, when the caller has one (the worker does); else compiled here. */
  table?: RouteTable;
  /** What is known about a backend's health (the worker's view); unknown backends count as healthy. */
  health?: (service: string, backendUrl: string) => BackendHealth | undefined;
  /** The WAF's verdict for the selected route (the WAF engine lives in the worker; it passes itself in). */
  waf?: (routeIndex: number, fields: RequestFields, input: ExplainInput) => WafVerdict | undefined;
}

export interface WafVerdict {
  /** pass, block, log, skip or allow, as the WAF stage would decide. */
  action: string;
  /** One line: the deciding rule, the anomaly score against the threshold, the rules that matched. */
  summary: string;
  rules: {
    id: string;
    source: string;
    action?: string;
    category?: string;
    location?: string;
    /** Managed matches: the request part, the transformations of the matched form, a short extract. */
    part?: string;
    transforms?: string;
    snippet?: string;
    note?: string;
  }[];
}

export interface BlockVerdict {
  block: number;
  /** Every condition of the block the request fails, as sentences; empty when the block matches. */
  failed: string[];
}

export interface RouteVerdict {
  name: string;
  index: number;
  result: "selected" | "outranked" | "no-match";
  /** One sentence: why this route was or was not chosen. */
  reason: string;
  blocks: BlockVerdict[];
}

export interface RateLimitVerdict {
  name: string;
  limit: number;
  period_ms: number;
  applies: boolean;
  key?: string;
  reason: string;
}

export interface BackendVerdict {
  url: string;
  weight: number;
  healthy: boolean;
  reason: string;
}

export interface ServiceVerdict {
  service: string;
  /** Share of the route's traffic (a split); 1 for a plain service. */
  share: number;
  balance: string;
  backends: BackendVerdict[];
  /** The backend this request would go to (for stateful balancers: what a fresh isolate would pick). */
  picked: string | null;
  reason: string;
}

export interface Explanation {
  request: { method: string; host: string; path: string; query: string; client_ip: string };
  route: { name: string; index: number; block: number; params: Record<string, string> } | null;
  routes: RouteVerdict[];
  action:
    | { kind: "none"; reason: string }
    | { kind: "redirect"; location: string; status: number }
    | { kind: "respond"; status: number }
    | { kind: "forward"; services: ServiceVerdict[] };
  rate_limits: RateLimitVerdict[];
  /** Absent when the route has no WAF or the caller gave no WAF evaluator. */
  waf?: WafVerdict;
}

class PairHeaders implements RuleHeaders {
  readonly #map = new Map<string, string>();
  constructor(pairs: ReadonlyArray<readonly [string, string]>) {
    for (const [k, v] of pairs) {
      const name = k.trim().toLowerCase();
      const prev = this.#map.get(name);
      this.#map.set(name, prev === undefined ? v.trim() : `${prev}, ${v.trim()}`);
    }
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  forEach(callback: (value: string, name: string) => void): void {
    for (const [k, v] of this.#map) callback(v, k);
  }
}

const q = (s: string) => JSON.stringify(s);

function hostMatches(entry: Entry, host: string): boolean {
  return entry.hosts.some(
    (h) => h.kind === "any" || (h.kind === "exact" ? host === h.value : host.endsWith(`.${h.value}`)),
  );
}

function pathMatches(entry: Entry, path: string): boolean {
  const p = entry.path;
  switch (p.kind) {
    case "exact":
      return path === p.value;
    case "prefix":
      return underPrefix(path, p.value);
    case "regex":
      return p.re.test(path);
    case "template": {
      const segs = path.split("/").slice(1);
      return (
        segs.length === p.segments.length &&
        p.segments.every((s, i) => ("param" in s ? segs[i] !== "" : segs[i] === s.literal))
      );
    }
  }
}

const describePath = (entry: Entry) =>
  entry.path.kind === "prefix" && entry.path.value === "/"
    ? "any path"
    : `${entry.path.kind} ${q(entry.path.value)}`;

function describeCond(
  what: string,
  cond: { kind: string; value: string },
  actual: string | null | undefined,
) {
  const has = actual == null ? "is missing" : `is ${q(actual)}`;
  switch (cond.kind) {
    case "exact":
      return `${what} ${has}, the route wants ${q(cond.value)}`;
    case "regex":
      return `${what} ${has}, the route wants it to match /${cond.value}/`;
    case "present":
      return `${what} is missing, the route wants it present`;
    default:
      return `${what} ${has}, the route wants it absent`;
  }
}

function blockFailures(
  entry: Entry,
  host: string,
  path: string,
  req: ReturnType<typeof matchRequestFrom>,
  when: CompiledExpression | undefined,
  fields: RequestFields,
): string[] {
  const failed: string[] = [];
  if (!hostMatches(entry, host)) {
    const hosts = entry.hosts.map((h) => (h.kind === "wildcard" ? `*.${h.value}` : h.value)).join(", ");
    failed.push(`host ${q(host || "(none)")} is not ${entry.hosts.length > 1 ? "one of " : ""}${hosts}`);
  }
  if (!pathMatches(entry, path)) failed.push(`path ${q(path)} does not match ${describePath(entry)}`);
  if (entry.methods && !entry.methods.has(req.method)) {
    failed.push(`method ${req.method} is not ${[...entry.methods].join(" or ")}`);
  }
  for (const [name, c] of entry.headers) {
    const actual = req.header(name);
    if (!valueHolds(c, actual)) failed.push(describeCond(`header ${name}`, c, actual));
  }
  for (const [name, c] of entry.query) {
    const actual = req.query(name);
    if (!valueHolds(c, actual)) failed.push(describeCond(`query parameter ${name}`, c, actual));
  }
  for (const [name, c] of entry.cookies) {
    const actual = req.cookie(name);
    if (!valueHolds(c, actual)) failed.push(describeCond(`cookie ${name}`, c, actual));
  }
  if (when && !when.test(fields)) failed.push(`its when expression ${q(when.expression)} is false`);
  return failed;
}

/** Gateway API precedence, as a sentence: why `winner` beats `other` when both match (see routing/precedence.ts). */
function outrankReason(winner: Entry, other: Entry, host: string): string {
  const hostScore = (e: Entry) => {
    let best = -1;
    for (const h of e.hosts) {
      if (h.kind === "exact" && h.value === host) best = Math.max(best, 100_000);
      else if (h.kind === "wildcard" && host.endsWith(`.${h.value}`)) best = Math.max(best, h.value.length);
      else if (h.kind === "any") best = Math.max(best, -1);
    }
    return best;
  };
  const hw = hostScore(winner);
  const ho = hostScore(other);
  if (hw !== ho)
    return "its host match is less specific (exact beats wildcard, a longer wildcard beats a shorter one, any host comes last)";
  const kinds = ["exact", "template", "regex", "prefix"];
  const kw = kinds.indexOf(winner.path.kind);
  const ko = kinds.indexOf(other.path.kind);
  if (kw !== ko)
    return `its path match (${other.path.kind}) ranks below ${winner.path.kind} (exact, then template, then regex, then prefix)`;
  if (winner.path.kind === "prefix" && winner.path.value.length !== other.path.value.length) {
    return `its path prefix ${q(other.path.value)} is shorter than ${q(winner.path.value)}`;
  }
  const labels = ["a method condition", "header conditions", "query conditions", "cookie conditions"];
  for (let i = 0; i < winner.rank.length; i++) {
    if (winner.rank[i] !== other.rank[i]) return `it has fewer ${labels[i]} than the selected route`;
  }
  return "it comes later in the list of routes";
}

function hashKeyOf(hash: HashKey | undefined, input: { clientIp: string; headers: PairHeaders; url: URL }) {
  if (hash === undefined) return { key: undefined, label: "" };
  if (hash === "client-ip") return { key: input.clientIp || undefined, label: "the client IP" };
  if ("header" in hash)
    return { key: input.headers.get(hash.header) ?? undefined, label: `header ${hash.header}` };
  if ("cookie" in hash) {
    return {
      key: parseCookies(input.headers.get("cookie")).get(hash.cookie),
      label: `cookie ${hash.cookie}`,
    };
  }
  return { key: input.url.searchParams.get(hash.query) ?? undefined, label: `query parameter ${hash.query}` };
}

function explainService(
  service: Service,
  share: number,
  input: { clientIp: string; headers: PairHeaders; url: URL },
  health: ExplainOptions["health"],
): ServiceVerdict {
  const backends: BackendVerdict[] = service.backends
    .filter((b) => b.url !== undefined)
    .map((b) => {
      const h = health?.(service.name, new URL(b.url!).href);
      if (b.weight === 0) return { url: b.url!, weight: 0, healthy: false, reason: "weight 0: drained" };
      return {
        url: b.url!,
        weight: b.weight,
        healthy: h?.healthy ?? true,
        reason: h?.reason ?? "no health information: assumed healthy",
      };
    });
  const selector = createSelector(
    service.balance,
    backends.map((b) => b.weight),
    { ids: backends.map((b) => new URL(b.url).href), random: () => 0 },
  );
  const { key, label } = hashKeyOf(service.hash, input);
  const index = selector.select(key, (i) => backends[i]!.healthy);
  const picked = index === undefined ? null : backends[index]!.url;
  const usable = backends.filter((b) => b.healthy).length;
  let reason: string;
  if (picked === null)
    reason = "no backend is usable (every one is drained or unhealthy): the worker answers 503";
  else if (HASH_ALGORITHMS.has(service.balance) && key !== undefined)
    reason = `${service.balance} on ${label} ${q(key)}: the same key always lands on this backend while it is healthy`;
  else if (HASH_ALGORITHMS.has(service.balance))
    reason = `${service.balance}, but the request has no ${label || "hash key"}: a backend is picked at random`;
  else
    reason = `${service.balance} over ${usable} usable backend${usable === 1 ? "" : "s"}; the live isolate picks by its own position and load, so this is what a fresh isolate would pick`;
  if (service.sticky) {
    const cookie = parseCookies(input.headers.get("cookie")).get(service.sticky.cookie);
    reason += cookie
      ? `; the request carries sticky cookie ${service.sticky.cookie}: if its signature is valid, the backend it names wins`
      : `; no sticky cookie ${service.sticky.cookie} yet: the answer will set one`;
  }
  return { service: service.name, share, balance: service.balance, backends, picked, reason };
}

function explainRateLimits(config: Config, route: Route, fields: RequestFields): RateLimitVerdict[] {
  return route.rate_limit.map((name) => {
    const rl = config.rate_limits.find((r) => r.name === name)!;
    const base = { name, limit: rl.limit, period_ms: rl.period };
    if (rl.match !== undefined && !compileExpression(rl.match).test(fields)) {
      return { ...base, applies: false, reason: `its match ${q(rl.match)} is false for this request` };
    }
    const ip = { ipv6Prefix: rl.ipv6_prefix, ipv4Prefix: rl.ipv4_prefix };
    const parts = (Array.isArray(rl.key) ? rl.key : [rl.key]).map((k) =>
      compileKeyExpression(k, undefined, ip)(fields),
    );
    const missing = parts.some((p) => p === undefined);
    if (missing && rl.fallback === undefined) {
      return {
        ...base,
        applies: false,
        reason: `the request has no value for key ${q(String(rl.key))}: not counted`,
      };
    }
    const key = missing ? rl.fallback! : parts.join(" | ");
    return {
      ...base,
      applies: true,
      key,
      reason: `counted under key ${q(key)}: ${rl.limit} per ${formatDuration(rl.period)}${rl.action === "log" ? " (log only)" : ""}`,
    };
  });
}

export function explainRequest(
  config: Config,
  input: ExplainInput,
  options: ExplainOptions = {},
): Explanation {
  const url = new URL(input.url);
  const received = url.href;
  // As the worker's normalise stage does: routes and rules see the normalised path. A path the worker would
  // reject (forwarding.path = "reject") is explained as it is.
  if (config.forwarding.normalize_path) {
    try {
      url.pathname = normalizePath(url.pathname, config.forwarding.path);
    } catch (e) {
      if (!(e instanceof PathRejected)) throw e;
    }
  }
  const headers = new PairHeaders(input.headers ?? []);
  const host = normalizeHost(headers.get("host") ?? url.host);
  const method = input.method.toUpperCase();
  const clientIp = input.clientIp ?? "";
  const fields = new RequestFields({ clientIp, method, url: received, path: url.pathname, headers });
  const req = matchRequestFrom(url, method, headers, host, () => fields);
  const table = options.table ?? compileRouteTable(config.routes);
  const found = table.match(req);
  const winner = found
    ? table.entries.find((e) => e.index === found.index && e.block === found.block)
    : undefined;

  const routes: RouteVerdict[] = config.routes.map((route, index) => {
    const entries = table.entries.filter((e) => e.index === index);
    const when = route.when === undefined ? undefined : compileExpression(route.when);
    const blocks = entries.map((e) => ({
      block: e.block,
      failed: blockFailures(e, host, url.pathname, req, when, fields),
    }));
    if (found?.index === index) {
      const m = entries[found.block]!;
      return {
        name: route.name,
        index,
        result: "selected",
        reason: `matched ${route.match.length > 1 ? `block ${found.block}: ` : ""}host ${host}, ${describePath(m)}${m.methods ? `, method ${method}` : ""}`,
        blocks,
      };
    }
    const matching = entries.filter((_, i) => blocks[i]!.failed.length === 0);
    if (matching.length > 0 && winner) {
      return {
        name: route.name,
        index,
        result: "outranked",
        reason: `matches too, but ${q(winner.route.name)} takes precedence: ${outrankReason(winner, matching[0]!, host)}`,
        blocks,
      };
    }
    const first = blocks.map((b) => b.failed.join("; ")).join(" | ");
    return { name: route.name, index, result: "no-match", reason: first, blocks };
  });

  const rate_limits = found ? explainRateLimits(config, found.route, fields) : [];

  let action: Explanation["action"];
  if (!found) action = { kind: "none", reason: "no route matches: the worker answers 404 SY_NO_ROUTE" };
  else if (found.route.redirect) {
    const r = found.route.redirect;
    action = { kind: "redirect", location: redirectLocation(url, r, found), status: r.status };
  } else if (found.route.respond) action = { kind: "respond", status: found.route.respond.status };
  else {
    const parts = found.route.split ?? [{ service: found.route.service!, weight: 1 }];
    const total = parts.reduce((n, p) => n + p.weight, 0) || 1;
    const ctx = { clientIp, headers, url };
    action = {
      kind: "forward",
      services: parts.map((p) =>
        explainService(
          config.services.find((s) => s.name === p.service)!,
          p.weight / total,
          ctx,
          options.health,
        ),
      ),
    };
  }

  return {
    request: { method, host, path: url.pathname, query: url.search, client_ip: clientIp },
    route: found
      ? { name: found.route.name, index: found.index, block: found.block, params: found.params }
      : null,
    routes,
    action,
    rate_limits,
    waf: found ? options.waf?.(found.index, fields, input) : undefined,
  };
}

/** The explanation as a few lines of text, for the CLI. */
export function renderExplanation(e: Explanation): string {
  const lines: string[] = [];
  const r = e.request;
  lines.push(`${r.method} ${r.host}${r.path}${r.query}${r.client_ip ? ` from ${r.client_ip}` : ""}`);
  lines.push("");
  lines.push(e.route ? `route: ${e.route.name}` : "route: none (404 SY_NO_ROUTE)");
  for (const v of e.routes) {
    const mark = v.result === "selected" ? "✔" : v.result === "outranked" ? "≈" : "✖";
    lines.push(`  ${mark} ${v.name}: ${v.reason}`);
  }
  if (e.rate_limits.length > 0) {
    lines.push("rate limits:");
    for (const rl of e.rate_limits) lines.push(`  ${rl.applies ? "●" : "○"} ${rl.name}: ${rl.reason}`);
  }
  if (e.waf) lines.push(`waf: ${e.waf.summary}`);
  const a = e.action;
  if (a.kind === "redirect") lines.push(`action: redirect ${a.status} → ${a.location}`);
  else if (a.kind === "respond") lines.push(`action: respond ${a.status}`);
  else if (a.kind === "forward") {
    for (const s of a.services) {
      const share = s.share < 1 ? ` (${Math.round(s.share * 100)}% of requests)` : "";
      lines.push(`service: ${s.service}${share} → ${s.picked ?? "no backend"}`);
      lines.push(`  why: ${s.reason}`);
      for (const b of s.backends) {
        lines.push(
          `  ${b.url === s.picked ? "→" : " "} ${b.url} w=${b.weight} ${b.healthy ? "healthy" : "unusable"}: ${b.reason}`,
        );
      }
    }
  }
  return lines.join("\n");
}

// The compiled config an isolate serves from, and the only place anything per config is built: the route
// table, one plan per route (its action, WAF engine, rate-limit policies, retry policy and budget per service),
// one balancer and one resilience state per service, the WAF, the rate-limit policies, the trusted-proxy set.
// Built once per config value and cached per isolate (keyed by the identity of env.SWITCHYARD, or its text
// when it is a JSON string), so requests only look things up. Balancer positions, in-flight counts, outlier
// state and retry budgets therefore live per isolate and start fresh with a new config, as design.md says.
import { createSelector, type Selector } from "../../core/balance/index.ts";
import { UNTRUSTED_HEADERS } from "../../core/config/defaults.ts";
import { renderProblem } from "../../core/config/errors.ts";
import { checkConfig } from "../../core/config/parse.ts";
import type { Config, HashKey, Route, Service, Sticky } from "../../core/config/schema/index.ts";
import type { RetryBudget, RetryPolicy } from "../../core/retry/index.ts";
import {
  type CompiledHeaderModifiers,
  compileHeaderModifiers,
  compileRouteTable,
  type RouteTable,
} from "../../core/routing/index.ts";
import { IpSet } from "../../core/rules/ip.ts";
import type { WafPolicyEngine } from "../../core/waf/engine.ts";
import { type CompiledWaf, compileWaf } from "../../core/waf/policy.ts";
import { routeSteps } from "./app.ts";
import { ProxyError } from "./errors.ts";
import { backendBase, type ForwardPolicy, forwardPolicy } from "./proxy/headers.ts";
import { type CompiledPolicy, compilePolicies } from "./rate-limit/policies.ts";
import { retryPolicy } from "./resilience/policy.ts";
import { budgetFor, type ServiceResilience, serviceResilience } from "./resilience/state.ts";
import type { Steps } from "./step.ts";

export interface BackendTarget {
  /** The backend's base URL, e.g. http://10.0.0.1:8080 (a path here is prepended to request paths). */
  url: URL;
  /** url.href, kept as a string: the name logs, metrics and shared health use for the backend. */
  href: string;
  /** url as the prefix of upstream URLs: origin and path without a trailing slash. */
  base: string;
  weight: number;
  /** Stable id for affinity cookies: a hash of the URL, so reordering backends keeps clients pinned. */
  id: string;
}

export interface ServicePool {
  name: string;
  backends: BackendTarget[];
  selector: Selector;
  sticky: Sticky | undefined;
  hash: HashKey | undefined;
  /** The service's config section (undefined only for a pool built outside compileRuntime). */
  service: Service | undefined;
  /** Outlier detection, shared health, panic state and retry budgets of this service, in this isolate. */
  resilience: ServiceResilience;
}

/** Where a forwarding route sends one request: the service, with the route's retry policy for it. */
export interface Target {
  pool: ServicePool;
  retry: RetryPolicy;
  budget: RetryBudget;
  /** What the request sent to this service drops and writes (forwarding headers, the attempt header). */
  forward: ForwardPolicy;
}

interface PlanCommon {
  route: Route;
  /** route.request_headers and route.response_headers, compiled; undefined when the route has none. */
  requestHeaders: CompiledHeaderModifiers | undefined;
  responseHeaders: CompiledHeaderModifiers | undefined;
  /** The route's WAF engine; undefined when the route has no WAF (policy "none"). */
  waf: WafPolicyEngine | undefined;
  /** The route's rate-limit policies, in the order the route names them. */
  rateLimits: CompiledPolicy[];
  /** What a request on this route runs, compiled from the above (app.ts, routeSteps). */
  steps: Steps;
}

export type RoutePlan =
  | (PlanCommon & { kind: "forward"; pick: () => Target; targets: Target[] })
  | (PlanCommon & { kind: "redirect" })
  | (PlanCommon & { kind: "respond" });

export interface Runtime {
  config: Config;
  routes: RouteTable;
  plans: RoutePlan[];
  services: Map<string, ServicePool>;
  waf: CompiledWaf;
  rateLimits: Map<string, CompiledPolicy>;
  trusted: IpSet;
  internalHeaders: readonly string[];
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable name for a backend URL (integrity comes from the HMAC). */
export function backendId(url: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) {
    h ^= url.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Builds each distinct ForwardPolicy once (they differ only by the retry policy's attempt header). */
type ForwardPolicies = (attemptHeader: string | undefined) => ForwardPolicy;

function forwardPolicies(config: Config, internal: readonly string[], untrusted: readonly string[]) {
  const byHeader = new Map<string | undefined, ForwardPolicy>();
  return (attemptHeader: string | undefined) => {
    let p = byHeader.get(attemptHeader);
    if (!p) {
      p = forwardPolicy(internal, untrusted, config.forwarding.forwarded, attemptHeader);
      byHeader.set(attemptHeader, p);
    }
    return p;
  };
}

function target(route: Route, pool: ServicePool, forward: ForwardPolicies): Target {
  const retry = retryPolicy(route, pool.service);
  return { pool, retry, budget: budgetFor(pool.resilience, retry), forward: forward(retry.attemptHeader) };
}

function compilePlan(
  route: Route,
  index: number,
  services: Map<string, ServicePool>,
  waf: CompiledWaf,
  rateLimits: Map<string, CompiledPolicy>,
  forward: ForwardPolicies,
): RoutePlan {
  const common = {
    route,
    requestHeaders: compileHeaderModifiers(route.request_headers),
    responseHeaders: compileHeaderModifiers(route.response_headers),
    waf: waf.forRoute(index),
    rateLimits: (route.rate_limit ?? []).map((name) => rateLimits.get(name)!),
    steps: undefined as unknown as Steps, // set by compileRuntime once the runtime exists
  };
  if (route.redirect) return { kind: "redirect", ...common };
  if (route.respond) return { kind: "respond", ...common };
  if (route.service !== undefined) {
    const only = target(route, services.get(route.service)!, forward);
    return { kind: "forward", ...common, pick: () => only, targets: [only] };
  }
  // A weighted split picks the service with smooth weighted round-robin: exact shares, evenly interleaved.
  const parts = route.split!.map((s) => target(route, services.get(s.service)!, forward));
  const selector = createSelector(
    "round-robin",
    route.split!.map((s) => s.weight),
  );
  const any = () => true;
  return {
    kind: "forward",
    ...common,
    pick: () => parts[selector.select(undefined, any) ?? 0]!,
    targets: parts,
  };
}

function compilePool(s: Service): ServicePool {
  const backends = s.backends
    .filter((b) => b.url !== undefined)
    .map((b) => {
      const url = new URL(b.url!);
      return { url, href: url.href, base: backendBase(url), weight: b.weight, id: backendId(b.url!) };
    });
  const pool: ServicePool = {
    name: s.name,
    backends,
    // ids: hash balancers place backends by URL, so a key keeps its backend when others come and go.
    selector: createSelector(
      s.balance,
      backends.map((b) => b.weight),
      { ids: backends.map((b) => b.href) },
    ),
    sticky: s.sticky,
    hash: s.hash,
    service: s,
    resilience: undefined as unknown as ServiceResilience,
  };
  pool.resilience = serviceResilience(pool, s);
  return pool;
}

export function compileRuntime(config: Config): Runtime {
  const services = new Map<string, ServicePool>();
  for (const s of config.services) services.set(s.name, compilePool(s));
  const waf = compileWaf(config);
  const rateLimits = compilePolicies(config);
  const internalHeaders = config.forwarding.internal_headers.map((h) => h.toLowerCase());
  // Removed from untrusted clients' requests: the built-in list and forwarding.strip_untrusted.
  const untrustedHeaders = [
    ...new Set([...UNTRUSTED_HEADERS, ...config.forwarding.strip_untrusted.map((h) => h.toLowerCase())]),
  ];
  const forward = forwardPolicies(config, internalHeaders, untrustedHeaders);
  const runtime: Runtime = {
    config,
    routes: compileRouteTable(config.routes),
    plans: config.routes.map((r, i) => compilePlan(r, i, services, waf, rateLimits, forward)),
    services,
    waf,
    rateLimits,
    trusted: IpSet.parse(config.forwarding.trusted_proxies),
    internalHeaders,
  };
  for (const plan of runtime.plans) plan.steps = routeSteps(plan, runtime);
  return runtime;
}

let cached: { key: unknown; runtime?: Runtime; error?: ProxyError } | undefined;

/** The runtime for this env, compiled at most once per distinct config value; throws a ProxyError. */
export function runtimeFor(raw: unknown): Runtime {
  if (cached === undefined || cached.key !== raw) cached = { key: raw, ...build(raw) };
  if (cached.error) throw cached.error;
  return cached.runtime!;
}

function build(raw: unknown): { runtime?: Runtime; error?: ProxyError } {
  if (raw === undefined || raw === null || raw === "") {
    const error = new ProxyError(
      "SY_CONFIG_MISSING",
      "no Switchyard config: set [vars.SWITCHYARD] in wrangler.toml (a table or a JSON string)",
    );
    console.error(JSON.stringify({ level: "error", msg: "switchyard config missing", code: error.code }));
    return { error };
  }
  const { config, problems, warnings } = checkConfig(raw);
  if (config) {
    if (warnings.length > 0) {
      const lines = warnings.map(renderProblem);
      console.warn(JSON.stringify({ level: "warn", msg: "switchyard config warnings", warnings: lines }));
    }
    return { runtime: compileRuntime(config) };
  }
  const lines = problems.map(renderProblem);
  console.error(
    JSON.stringify({
      level: "error",
      msg: "switchyard config invalid",
      code: "SY_CONFIG_INVALID",
      problems: lines,
    }),
  );
  const n = lines.length;
  return {
    error: new ProxyError(
      "SY_CONFIG_INVALID",
      `the Switchyard config (env.SWITCHYARD) has ${n} problem${n === 1 ? "" : "s"}: ${lines.join("; ")}`,
      { details: { problems: lines } },
    ),
  };
}

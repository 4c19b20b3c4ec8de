// The compiled config an isolate serves from: the route table and one balancer per service. Built once per
// config value and cached per isolate (keyed by the identity of env.SWITCHYARD, or its text when it is a JSON
// string), so requests only look things up. Balancer positions therefore live per isolate, as design.md says.
import { createSelector, type Selector } from "../../core/balance/index.ts";
import { ConfigError, renderProblem } from "../../core/config/errors.ts";
import { parseConfig } from "../../core/config/parse.ts";
import type { Config } from "../../core/config/schema/index.ts";
import { compileRouteTable, type RouteTable } from "../../core/routing/index.ts";
import { ProxyError } from "./errors.ts";

export interface BackendTarget {
  /** The backend's base URL, e.g. http://10.0.0.1:8080 (a path here is prepended to request paths). */
  url: URL;
  weight: number;
}

export interface ServicePool {
  name: string;
  backends: BackendTarget[];
  selector: Selector;
}

export interface Runtime {
  config: Config;
  routes: RouteTable;
  services: Map<string, ServicePool>;
}

export function compileRuntime(config: Config): Runtime {
  const services = new Map<string, ServicePool>();
  for (const s of config.services) {
    const backends = s.backends
      .filter((b) => b.url !== undefined)
      .map((b) => ({ url: new URL(b.url!), weight: b.weight }));
    services.set(s.name, {
      name: s.name,
      backends,
      selector: createSelector(
        s.balance,
        backends.map((b) => b.weight),
      ),
    });
  }
  return { config, routes: compileRouteTable(config.routes), services };
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
  try {
    return { runtime: compileRuntime(parseConfig(raw, "env.SWITCHYARD")) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const problems = e.problems.map(renderProblem);
    console.error(
      JSON.stringify({ level: "error", msg: "switchyard config invalid", code: e.code, problems }),
    );
    const n = problems.length;
    return {
      error: new ProxyError(
        "SY_CONFIG_INVALID",
        `the Switchyard config (env.SWITCHYARD) has ${n} problem${n === 1 ? "" : "s"}: ${problems.join("; ")}`,
        { cause: e, details: { problems } },
      ),
    };
  }
}

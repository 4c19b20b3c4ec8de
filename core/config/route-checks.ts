// Checks of routes against the rest of the config that need the parsed document: a route the admin prefix
// would shadow, and a host rewrite that would send requests to the wrong place.
import { normalizePrefix, underPrefix } from "../routing/path.ts";
import { parseIp } from "../rules/ip.ts";
import type { ConfigProblem } from "./errors.ts";
import type { Config, Route } from "./schema/index.ts";

export function routeProblems(config: Config): ConfigProblem[] {
  return [...adminShadowProblems(config), hostRewriteProblems(config)].flat();
}

/**
 * The admin API answers `base` (the prefix without its slash) and every path under the prefix before routing,
 * so a route that can match one of them would silently lose that traffic. Catch-all routes (no path, prefix
 * "/", a regex that matches "/") are expected to yield to the admin API and are not reported.
 */
function adminShadowProblems(config: Config): ConfigProblem[] {
  const prefix = config.admin.prefix;
  const base = prefix.slice(0, -1);
  const inAdmin = (p: string) => p === base || p.startsWith(prefix);
  const problems: ConfigProblem[] = [];
  config.routes.forEach((r, i) => {
    r.match.forEach((m, j) => {
      const problem = shadowed(m.path, inAdmin, prefix);
      if (!problem) return;
      const at = r.match.length === 1 ? `routes[${i}].match` : `routes[${i}].match[${j}]`;
      problems.push({
        path: `${at}.path.${problem}`,
        message: `overlaps admin.prefix "${prefix}": the admin API answers ${base} and every path under ${prefix} before routing, so this route would never see them; move the route or set admin.prefix to a path no route uses`,
      });
    });
  });
  return problems;
}

/** Which field of the path condition reaches into the admin API's paths, if any. */
function shadowed(
  path: Route["match"][number]["path"],
  inAdmin: (p: string) => boolean,
  prefix: string,
): "exact" | "prefix" | "template" | "regex" | undefined {
  if (!path) return undefined;
  const base = prefix.slice(0, -1);
  const reaches = (literal: string) => literal !== "/" && (underPrefix(base, literal) || inAdmin(literal));
  if (path.exact !== undefined) return inAdmin(path.exact) ? "exact" : undefined;
  if (path.prefix !== undefined) return reaches(normalizePrefix(path.prefix)) ? "prefix" : undefined;
  if (path.template !== undefined) return reaches(literalPrefix(path.template)) ? "template" : undefined;
  if (path.regex !== undefined) {
    const re = new RegExp(path.regex);
    return !re.test("/") && (re.test(base) || re.test(`${prefix}config`)) ? "regex" : undefined;
  }
  return undefined;
}

/** "/users/:id/posts" → "/users": the segments before the first parameter. */
function literalPrefix(template: string): string {
  const segments = template.split("/");
  const first = segments.findIndex((s) => s.startsWith(":"));
  const literal = (first === -1 ? segments : segments.slice(0, first)).join("/");
  return normalizePrefix(literal || "/");
}

/**
 * A Worker's fetch() connects to the URL's host, so rewrite.host replaces the backend URL's host: with a
 * backend addressed by IP the request would go to whatever `host` resolves to, not to the backend.
 */
function hostRewriteProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const services = new Map(config.services.map((s) => [s.name, s]));
  config.routes.forEach((r: Route, i) => {
    const host = r.rewrite?.host;
    if (host === undefined) return;
    const names = r.service !== undefined ? [r.service] : (r.split ?? []).map((s) => s.service);
    for (const name of names) {
      const ip = services
        .get(name)
        ?.backends.map((b) => (b.url === undefined ? undefined : new URL(b.url).hostname))
        .find((h) => h !== undefined && parseIp(h.replace(/^\[|\]$/g, "")) !== undefined);
      if (ip === undefined) continue;
      problems.push({
        path: `routes[${i}].rewrite.host`,
        message: `service "${name}" has a backend addressed by IP (${ip}); a Worker connects to the URL's host, so rewrite.host = "${host}" would send requests to ${host} instead of that backend. Address the backends by name, or remove rewrite.host`,
      });
      return;
    }
  });
  return problems;
}

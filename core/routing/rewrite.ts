// Pure URL and header transformations of route actions: prefix replacement, template fill-in, redirect
// locations, header modifiers. Runtime-neutral (Web URL and Headers only), so tests call them directly.
import type { HeaderModifiers, Redirect, Rewrite } from "../config/schema/index.ts";
import type { RouteMatch } from "./table.ts";

/**
 * Replaces the matched (normalized) prefix of `path` with `replacement`, segment-aware, never leaving "//":
 * "/api/x" with "/api" → "/" gives "/x"; with "/v2" gives "/v2/x"; "/api" with "/api" → "/v2" gives "/v2".
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const rest = prefix === "/" ? path : path.slice(prefix.length);
  if (rest === "") return replacement;
  const out = replacement.endsWith("/") ? replacement.slice(0, -1) + rest : replacement + rest;
  return out === "" ? "/" : out;
}

/** "/profiles/:id" with { id: "42" } → "/profiles/42". Parameters were validated against the template. */
export function fillTemplate(target: string, params: Record<string, string>): string {
  return target.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) => params[name] ?? whole);
}

/** The new path for a rewrite or redirect's `path`/`prefix`, or the old one when neither is set. */
export function newPath(path: string, change: { path?: string; prefix?: string }, match: RouteMatch): string {
  if (change.path !== undefined) return fillTemplate(change.path, match.params);
  if (change.prefix !== undefined && match.path.kind === "prefix")
    return replacePrefix(path, match.path.value, change.prefix);
  return path;
}

/** The URL a redirect sends the client to, from the URL the client asked for. */
export function redirectLocation(url: URL, redirect: Redirect, match: RouteMatch): string {
  const out = new URL(url);
  if (redirect.scheme !== undefined && `${redirect.scheme}:` !== out.protocol) {
    out.protocol = `${redirect.scheme}:`;
    if (redirect.port === undefined) out.port = "";
  }
  if (redirect.host !== undefined) out.hostname = redirect.host;
  if (redirect.port !== undefined) out.port = String(redirect.port);
  out.pathname = newPath(url.pathname, redirect, match);
  if (!redirect.keep_query) out.search = "";
  return out.href;
}

/** The path a forwarded request carries after `rewrite`. */
export function rewritePath(path: string, rewrite: Rewrite | undefined, match: RouteMatch): string {
  return rewrite ? newPath(path, rewrite, match) : path;
}

/** Header modifiers as the request path applies them: lower-case names in arrays, built once per route. */
export interface CompiledHeaderModifiers {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

/** Compiles a route's modifiers; undefined when there are none, so a route without them pays nothing. */
export function compileHeaderModifiers(
  mods: HeaderModifiers | undefined,
): CompiledHeaderModifiers | undefined {
  if (!mods) return undefined;
  const pairs = (r: Record<string, string> | undefined) =>
    Object.entries(r ?? {}).map(([name, value]) => [name.toLowerCase(), value] as const);
  const compiled = {
    set: pairs(mods.set),
    add: pairs(mods.add),
    remove: (mods.remove ?? []).map((n) => n.toLowerCase()),
  };
  return compiled.set.length + compiled.add.length + compiled.remove.length > 0 ? compiled : undefined;
}

/**
 * Applies set, then add (appending after a comma when the header is present; Set-Cookie gets its own line),
 * then remove, to `headers` in place.
 */
export function applyHeaderModifiers(headers: Headers, mods: CompiledHeaderModifiers | undefined): void {
  if (!mods) return;
  for (const [name, value] of mods.set) headers.set(name, value);
  for (const [name, value] of mods.add) {
    const current = headers.get(name);
    if (current === null || name === "set-cookie") headers.append(name, value);
    else headers.set(name, `${current}, ${value}`);
  }
  for (const name of mods.remove) headers.delete(name);
}

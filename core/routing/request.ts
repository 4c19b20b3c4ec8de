// The facts about a request that routing looks at, independent of any runtime's Request type, so the matcher
// runs the same in workerd, Node tests and benchmarks.
import type { RequestFields } from "../rules/index.ts";

export interface MatchRequest {
  /** Normalized host (see normalizeHost): lower case, no port. */
  host: string;
  /** The URL path, not decoded. */
  path: string;
  method: string;
  /** Header lookup; names are passed lower-case. */
  header(name: string): string | null;
  /** Query parameter lookup (first value); names are case-sensitive. */
  query(name: string): string | null;
  /** Cookie lookup by name; parsed lazily by the implementation. */
  cookie(name: string): string | undefined;
  /** The rules-language view of the request, for routes' `when`; without it a route with `when` never matches. */
  rules?(): RequestFields;
}

/** A MatchRequest over a web Request (or anything with the same shape). Cookies are parsed at most once. */
export function matchRequestFrom(
  url: URL,
  method: string,
  headers: { get(name: string): string | null },
  host: string,
  rules?: () => RequestFields,
): MatchRequest {
  let cookies: Map<string, string> | undefined;
  return {
    rules,
    host,
    path: url.pathname,
    method,
    header: (name) => headers.get(name),
    query: (name) => url.searchParams.get(name),
    cookie(name) {
      cookies ??= parseCookies(headers.get("cookie"));
      return cookies.get(name);
    },
  };
}

/** "a=1; b=2" → Map { a → "1", b → "2" }; the first of duplicate names wins, as browsers send the most specific first. */
export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

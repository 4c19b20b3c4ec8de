// Path conditions: exact (case-sensitive) and segment-aware prefix ("/v2" matches "/v2", "/v2/", "/v2/x",
// never "/v2x"). Prefixes are stored without a trailing slash so a lookup walks the request path's segments.

/** "/v2/" → "/v2"; "/" stays "/". Gateway API treats a trailing slash on a prefix as insignificant. */
export function normalizePrefix(prefix: string): string {
  let p = prefix;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}

/**
 * Every prefix key the path falls under, longest first: "/v2/x/" → "/v2/x", "/v2", "/".
 * A segment boundary is a "/" or the end of the path, which is what makes the match segment-aware.
 */
export function prefixKeys(path: string): string[] {
  const out: string[] = [];
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  while (end > 1) {
    out.push(path.slice(0, end));
    end = path.lastIndexOf("/", end - 1);
  }
  out.push("/");
  return out;
}

/** Whether `path` is under the (normalized) prefix, segment by segment. */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === "/") return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47);
}

// Host names as the matcher sees them: lower case, no port, no trailing dot. Patterns are exact names or
// "*.example.com" (one or more labels below example.com, never the apex).

/** "API.Example.com:8443" → "api.example.com"; "[::1]:80" → "[::1]". */
export function normalizeHost(raw: string | null | undefined): string {
  if (!raw) return "";
  let h = raw.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(":");
  if (colon !== -1) h = h.slice(0, colon);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

export interface HostPattern {
  /** "exact" for "api.example.com", "wildcard" for "*.example.com", "any" when a rule names no host. */
  kind: "exact" | "wildcard" | "any";
  /** The exact name, or for a wildcard the suffix after "*." ("example.com"). */
  value: string;
}

export function parseHostPattern(pattern: string | undefined): HostPattern {
  if (pattern === undefined) return { kind: "any", value: "" };
  const p = normalizeHost(pattern);
  return p.startsWith("*.") ? { kind: "wildcard", value: p.slice(2) } : { kind: "exact", value: p };
}

/**
 * The wildcard suffixes a host could fall under, longest (most specific) first:
 * "a.b.example.com" → "b.example.com", "example.com", "com". The apex never matches its own wildcard.
 */
export function wildcardSuffixes(host: string): string[] {
  const out: string[] = [];
  let dot = host.indexOf(".");
  while (dot !== -1) {
    out.push(host.slice(dot + 1));
    dot = host.indexOf(".", dot + 1);
  }
  return out;
}

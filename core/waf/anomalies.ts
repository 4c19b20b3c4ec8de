// Structural findings about a request (protocol violations, bodies that could not be fully inspected), as
// opposed to patterns found in a value. inspect.ts reports them by id; the managed engine scores them here,
// with the same paranoia levels, severities and disabled_rules as the pattern rules.
import type { Match } from "./engine.ts";
import { SEVERITY_SCORE, type Severity } from "./managed-rules.ts";

/** One finding: which check, where in the request, and a short extract for the explanation. */
export interface Anomaly {
  id: string;
  location: string;
  snippet: string;
}

export interface AnomalyRule {
  paranoia: 1 | 2 | 3 | 4;
  severity: Severity;
  category: "protocol" | "protocol-attack" | "body";
  description: string;
}

/** Ids of findings that other code names (the oversize policy, the body decoders). */
export const OVERSIZE = "920904";
export const OVERSIZE_IN_FILE = "920905";
export const NOT_AS_DECLARED = "920909";

/**
 * Our own numbering inside CRS's 920 (protocol enforcement) and 921 (protocol attack) families: 9208xx for
 * request line and headers, 9209xx for bodies, 9218xx for smuggling and splitting markers. The CRS ids these
 * correspond to are in docs/waf.md.
 */
export const ANOMALY_RULES: Readonly<Record<string, AnomalyRule>> = {
  // --- request line and headers
  "920800": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description: "Control character or invalid byte in the request path or query",
  },
  "920801": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description: "Control character in a header value",
  },
  "920802": {
    paranoia: 1,
    severity: "warning",
    category: "protocol",
    description: "Method outside the ordinary set (GET HEAD POST PUT PATCH DELETE OPTIONS)",
  },
  "920803": {
    paranoia: 2,
    severity: "notice",
    category: "protocol",
    description: "Host header is missing or is an IP address",
  },
  "920804": {
    paranoia: 2,
    severity: "notice",
    category: "protocol",
    description: "User-Agent header is missing or empty",
  },
  "920805": {
    paranoia: 2,
    severity: "notice",
    category: "protocol",
    description: "Accept header is missing or empty (not for OPTIONS)",
  },
  "920806": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description: "Request body with a Content-Type outside the allowed list",
  },
  "920807": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description:
      "Charset in Content-Type outside the allowed list (utf-8, iso-8859-1, iso-8859-15, windows-1252, utf-16, utf-32)",
  },
  "920808": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description: "More than one Content-Type or charset, or a Content-Type of a body-less GET/HEAD",
  },
  "920809": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description: "Range or Request-Range header with a malformed range, a reversed range or too many ranges",
  },
  "920810": {
    paranoia: 1,
    severity: "warning",
    category: "protocol",
    description: "Non-numeric or conflicting Content-Length",
  },
  "920811": {
    paranoia: 3,
    severity: "notice",
    category: "protocol",
    description: "Header value with a character outside printable ASCII",
  },
  "920812": {
    paranoia: 1,
    severity: "critical",
    category: "protocol",
    description:
      "Accept-Encoding or Cache-Control/Connection value far too long, or Connection with a list that drops hop-by-hop security headers",
  },
  // --- bodies
  "920900": {
    paranoia: 1,
    severity: "warning",
    category: "body",
    description: "JSON nested deeper than the parser inspects (32 levels); the raw text is inspected instead",
  },
  "920901": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    description: "Content-Encoding the WAF cannot decode, so the body cannot be inspected",
  },
  "920902": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    description: "Compressed body that expands past the size or ratio cap (decompression bomb)",
  },
  "920903": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    description: "Compressed body that is corrupt or truncated",
  },
  [OVERSIZE]: {
    paranoia: 1,
    severity: "critical",
    category: "body",
    description: "Body longer than body_limit: its end is not inspected (oversize = score)",
  },
  [OVERSIZE_IN_FILE]: {
    paranoia: 1,
    severity: "notice",
    category: "body",
    description: "Body longer than body_limit, cut inside an uploaded file part (oversize = score)",
  },
  "920906": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    description:
      "Multipart body that does not parse: no boundary, no closing delimiter, or a part without Content-Disposition form-data",
  },
  "920907": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    description:
      "Multipart part header with an unknown parameter, a duplicate name/filename, or junk after a quoted value",
  },
  "920908": {
    paranoia: 2,
    severity: "warning",
    category: "body",
    description: "Multipart nested deeper than 2 levels or more than 1000 parts",
  },
  [NOT_AS_DECLARED]: {
    paranoia: 1,
    severity: "error",
    category: "body",
    description: "Body declared as JSON that does not parse (its text is inspected as it is)",
  },
  "920910": {
    paranoia: 1,
    severity: "error",
    category: "body",
    description: "XML with a DOCTYPE or ENTITY declaration (external entities, entity expansion)",
  },
  // --- smuggling and splitting
  "921800": {
    paranoia: 1,
    severity: "critical",
    category: "protocol-attack",
    description: "Transfer-Encoding other than chunked, or Transfer-Encoding together with Content-Length",
  },
  "921801": {
    paranoia: 1,
    severity: "critical",
    category: "protocol-attack",
    description: "An HTTP request line or status line inside an argument or header (request smuggling)",
  },
  "921802": {
    paranoia: 1,
    severity: "critical",
    category: "protocol-attack",
    description: "CR or LF in an argument name or a header name (header injection)",
  },
  "921803": {
    paranoia: 1,
    severity: "critical",
    category: "protocol-attack",
    description:
      "Argument name that repeats with [] and plain form, or a parameter in a header value used for header injection",
  },
};

const SNIPPET_MAX = 48;

/** A short printable extract of a value for explanations: control and non-ASCII characters escaped. */
export function snippet(s: string, at = 0): string {
  const start = Math.max(0, Math.min(at, s.length - SNIPPET_MAX));
  const cut = s.slice(start, start + SNIPPET_MAX);
  let out = start > 0 ? "..." : "";
  for (let i = 0; i < cut.length; i++) {
    const c = cut.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f ? cut[i] : `\\x${(c & 0xff).toString(16).padStart(2, "0")}`;
  }
  return start + SNIPPET_MAX < s.length ? `${out}...` : out;
}

export type Oversize = "inspect-prefix" | "score" | "block";

export interface AnomalySettings {
  paranoia: number;
  disabled_rules: readonly string[];
  oversize?: Oversize;
}

export interface ScoredAnomalies {
  score: number;
  matches: Match[];
  /** oversize = "block" and the body was over the limit: block whatever the score. */
  forceBlock: boolean;
  /** What the decision should say besides the matches (e.g. that only a prefix was inspected). */
  notes: string[];
}

/** Scores each anomaly id once (the first location it was found at), as pattern rules are. */
export function scoreAnomalies(anomalies: readonly Anomaly[], s: AnomalySettings): ScoredAnomalies {
  const out: ScoredAnomalies = { score: 0, matches: [], forceBlock: false, notes: [] };
  if (anomalies.length === 0) return out;
  const seen = new Set<string>();
  for (const a of anomalies) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    const rule = ANOMALY_RULES[a.id];
    if (!rule || rule.paranoia > s.paranoia || s.disabled_rules.includes(a.id)) continue;
    const oversize = a.id === OVERSIZE || a.id === OVERSIZE_IN_FILE;
    const policy = s.oversize ?? "score";
    if (oversize && policy === "inspect-prefix") {
      out.notes.push(
        `only the first ${a.snippet} bytes of the body were inspected (oversize=inspect-prefix)`,
      );
      continue;
    }
    if (oversize && policy === "block") out.forceBlock = true;
    else out.score += SEVERITY_SCORE[rule.severity];
    out.matches.push({
      id: a.id,
      source: "managed",
      category: rule.category,
      severity: rule.severity,
      location: a.location,
      snippet: a.snippet,
      ...(oversize ? { note: `oversize=${policy}` } : {}),
    });
  }
  return out;
}

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
}

/** Ids of findings that other code names (the oversize policy, the body decoders). */
export const OVERSIZE = "920904";
export const OVERSIZE_IN_FILE = "920905";
export const NOT_AS_DECLARED = "920909";

/** Several rules of one paranoia, severity and category; a comment above each id says what it finds. */
function rules(
  paranoia: AnomalyRule["paranoia"],
  severity: Severity,
  category: AnomalyRule["category"],
  ids: readonly string[],
): Record<string, AnomalyRule> {
  const out: Record<string, AnomalyRule> = {};
  for (const id of ids) out[id] = { paranoia, severity, category };
  return out;
}

/**
 * Our own numbering inside CRS's 920 (protocol enforcement) and 921 (protocol attack) families: 9208xx for
 * the request line and headers, 9209xx for bodies, 9218xx for smuggling, splitting and injection markers. The
 * CRS rules each corresponds to are listed in docs/waf.md.
 */
export const ANOMALY_RULES: Readonly<Record<string, AnomalyRule>> = {
  // --- request line and headers (CRS 911/920 counterparts in docs/waf.md)
  ...rules(1, "critical", "protocol", [
    // Method outside waf.managed.allowed_methods
    "920800",
    // GET or HEAD request with a body (Content-Length above 0, or Transfer-Encoding)
    "920801",
    // Content-Length that is not a number
    "920802",
    // Content-Type that does not parse as type/subtype; parameters (or several Content-Type headers)
    "920812",
    // Content-Type outside waf.managed.allowed_content_types
    "920813",
    // Charset outside waf.managed.allowed_charsets, or more than one charset parameter
    "920814",
    // Header that no ordinary client sends and that changes how a server reads the request (Proxy,
    // X-HTTP-Method-Override, X-Middleware-Subrequest, Content-Range, Lock-Token, If)
    "920816",
    // Accept-Encoding longer than 100 characters
    "920817",
    // Accept header asking for a charset outside the allowed ones
    "920818",
    // \uXXXX escape in the query or a header of a request whose body is not JSON
    "920819",
    // Path ending in a backup, configuration, log or database file extension, or in ~
    "920820",
  ]),
  ...rules(1, "warning", "protocol", [
    // Content-Length and Transfer-Encoding together
    "920803",
    // Range with its last byte before its first, a malformed range, or the obsolete Request-Range header
    "920804",
    // Connection header with both keep-alive and close
    "920805",
    // Host header is an IP address
    "920810",
  ]),
  ...rules(1, "notice", "protocol", [
    // A notice, as in CRS: many API clients and scripts post bodies without one; the body is still inspected.
    // Request body without a Content-Type
    "920811",
    // Empty Accept header (not for OPTIONS, nor clients known to send one)
    "920806",
    // Empty User-Agent header
    "920807",
  ]),
  ...rules(2, "notice", "protocol", [
    // No User-Agent header
    "920808",
  ]),
  ...rules(2, "warning", "protocol", [
    // Range with more than 5 ranges (62 for a PDF)
    "920815",
  ]),
  ...rules(2, "critical", "protocol", [
    // _method argument overriding the request method
    "920823",
  ]),
  ...rules(3, "notice", "protocol", [
    // No Accept header (not for OPTIONS or CONNECT)
    "920809",
  ]),
  ...rules(3, "critical", "protocol", [
    // Cache-Control request value with a directive other than the standard request directives
    "920821",
    // Accept-Encoding naming no known content coding
    "920822",
    // x-up-devcap-post-charset header with a User-Agent starting with UP (ASP.NET charset switch)
    "920824",
  ]),
  // --- bodies
  "920900": {
    paranoia: 1,
    severity: "warning",
    category: "body",
    // JSON nested deeper than the parser inspects (32 levels); the raw text is inspected instead
  },
  "920901": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Content-Encoding the WAF cannot decode, so the body cannot be inspected
  },
  "920902": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Compressed body that expands past the size or ratio cap (decompression bomb)
  },
  "920903": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Compressed body that is corrupt or truncated
  },
  [OVERSIZE]: {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Body longer than body_limit: its end is not inspected (oversize = score)
  },
  [OVERSIZE_IN_FILE]: {
    paranoia: 1,
    severity: "notice",
    category: "body",
    // Body longer than body_limit, cut inside an uploaded file part (oversize = score)
  },
  "920906": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Multipart body that does not parse: no boundary, no closing delimiter, or a part without
    // Content-Disposition form-data
  },
  "920907": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Multipart part header with an unknown parameter, a duplicate name/filename, or junk after a quoted
    // value
  },
  "920908": {
    paranoia: 2,
    severity: "warning",
    category: "body",
    // Multipart nested deeper than 2 levels or more than 1000 parts
  },
  [NOT_AS_DECLARED]: {
    paranoia: 1,
    severity: "error",
    category: "body",
    // Body declared as JSON that does not parse (its text is inspected as it is)
  },
  "920911": {
    paranoia: 1,
    severity: "critical",
    category: "body",
    // Multipart file name, or the field name of a file, with a quote, semicolon, equals sign or backslash
  },
  "920910": {
    paranoia: 1,
    severity: "error",
    category: "body",
    // XML with a DOCTYPE or ENTITY declaration (external entities, entity expansion)
  },
  // --- smuggling, splitting, header injection (CRS 921 counterparts in docs/waf.md)
  ...rules(1, "critical", "protocol-attack", [
    // Transfer-Encoding other than chunked
    "921800",
    // An HTTP request line (method, target, HTTP/n) inside an argument or the body: request smuggling
    "921801",
    // CR or LF followed by a response header or status line in an argument or cookie: response splitting
    "921802",
    // CR or LF (raw or URL-encoded) in a header name or value: header injection
    "921803",
    // CR or LF in an argument name
    "921804",
    // CR or LF in the path
    "921805",
    // Content-Type carrying a second media type (JSON or XML) after the first
    "921806",
    // unix: socket path followed by | in the URL (mod_proxy, CVE-2021-40438)
    "921807",
    // Cookie $Version=1 (RFC 2109 cookies, cookie sandwich)
    "921808",
    // LDAP filter injection: a closing parenthesis followed by a new filter term
    "921809",
  ]),
  ...rules(2, "critical", "protocol-attack", [
    // CR or LF in a query argument value
    "921810",
    // Content-Type carrying any second media type after the first
    "921811",
  ]),
  ...rules(3, "critical", "protocol-attack", [
    // The same argument name more than once (parameter pollution), or text after an array index in a name
    "921812",
  ]),
  ...rules(4, "critical", "protocol-attack", [
    // Array notation ([) in an argument name
    "921813",
  ]),
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

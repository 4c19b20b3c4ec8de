// Protocol enforcement (CRS family 920) and protocol attacks (921) on what a Worker is handed: the method, the
// headers, the path and the arguments. The checks are our own logic; which CRS rule each stands for, and the
// CRS rules that cannot apply behind Cloudflare's edge, are listed in docs/waf.md. Ids and scores: anomalies.ts.
import type { Anomaly } from "./anomalies.ts";
import { parseHeaderParams } from "./body/params.ts";
import type { Target } from "./inspect.ts";

export interface ProtocolPolicy {
  allowedMethods: ReadonlySet<string>;
  /** "type/subtype", "type/*" or "*\/*+suffix", lower case. */
  allowedContentTypes: readonly string[];
  allowedCharsets: ReadonlySet<string>;
}

export const DEFAULT_ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/**
 * CRS allows form, multipart, XML and JSON types only; API clients and browsers also send text/plain (fetch with
 * a string, sendBeacon), octet-stream and media uploads, GraphQL, NDJSON and protobuf, so those are allowed too.
 */
export const DEFAULT_ALLOWED_CONTENT_TYPES = [
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/related",
  "multipart/mixed",
  "application/json",
  "*/*+json",
  "application/x-ndjson",
  "application/xml",
  "text/xml",
  "*/*+xml",
  "application/graphql",
  "text/plain",
  "text/csv",
  "application/octet-stream",
  "application/x-protobuf",
  "application/protobuf",
  "application/grpc",
  "application/grpc-web",
  "application/pdf",
  "application/zip",
  "application/gzip",
  "image/*",
  "audio/*",
  "video/*",
  "font/*",
];
export const DEFAULT_ALLOWED_CHARSETS = [
  "utf-8",
  "iso-8859-1",
  "iso-8859-15",
  "windows-1252",
  "utf-16",
  "utf-16le",
  "utf-16be",
  "us-ascii",
];

export function protocolPolicy(o: {
  allowed_methods?: readonly string[];
  allowed_content_types?: readonly string[];
  allowed_charsets?: readonly string[];
}): ProtocolPolicy {
  return {
    allowedMethods: new Set((o.allowed_methods ?? DEFAULT_ALLOWED_METHODS).map((m) => m.toUpperCase())),
    allowedContentTypes: (o.allowed_content_types ?? DEFAULT_ALLOWED_CONTENT_TYPES).map((t) =>
      t.toLowerCase(),
    ),
    allowedCharsets: new Set((o.allowed_charsets ?? DEFAULT_ALLOWED_CHARSETS).map((c) => c.toLowerCase())),
  };
}

export const DEFAULT_PROTOCOL = protocolPolicy({});

function typeAllowed(type: string, allowed: readonly string[]): boolean {
  for (const a of allowed) {
    if (a === type) return true;
    if (a.endsWith("/*") && type.startsWith(a.slice(0, -1))) return true;
    if (a.startsWith("*/*+") && type.endsWith(a.slice(3))) return true;
  }
  return false;
}

/** Headers no ordinary client sends that change how some server reads the request. */
const RESTRICTED_HEADERS = new Set([
  "proxy",
  "lock-token",
  "content-range",
  "if",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-middleware-subrequest",
]);

/** File extensions of backups, configuration, logs, databases, keys and server-side code not meant to be fetched. */
const RESTRICTED_EXTENSIONS = new Set(
  (
    "asa asax ascx backup bak bat cdx cer cfg cmd com config conf cs csproj csr dat db dbf dll dos htr htw ida " +
    "idc idq inc ini key licx lnk log mdb old orig pass pdb pem pfx p12 pol printer pwd rdb resources resx save " +
    "sql sqlite sqlite3 swo swp sys tmp temp vb vbs vbproj vsdisco webinfo"
  ).split(" "),
);

const CACHE_DIRECTIVES = new Set(["no-cache", "no-store", "no-transform", "only-if-cached", "max-stale"]);
const CODINGS =
  /\b(?:br|compress|deflate|gzip|x-gzip|x-compress|identity|zstd|aes128gcm|exi|pack200-gzip|dcb|dcz)\b|\*/;
/** Methods and the HTTP version are case-sensitive on the wire, so only upper case makes a smuggled request
 * (and "forget it, http/2 …" in prose is not one); no word boundary before the method: "barGET / HTTP/1.1". */
const SMUGGLED_REQUEST =
  /(?:GET|POST|HEAD|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE|TRACK|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK)[ \t]+[^\s]{1,2048}[ \t]+HTTP\/\d/;
/** After a line break: a response header, a status line, or a response body's first tag. */
const SPLIT_RESPONSE =
  /[\r\n][ \t]{0,8}(?:content-(?:type|length|disposition)|set-cookie|location|refresh|x-xss-protection|access-control-[a-z-]{1,32})[ \t]{0,8}:|[\r\n][ \t]{0,8}http\/\d(?:\.\d)?[ \t]+\d{3}|[\r\n][ \t\r\n]{0,8}<(?:html|meta|head|body|!doctype)\b/i;
const LDAP_INJECTION = /\)[ \t]{0,8}\([ \t]{0,8}(?:[|&!]|[\w.;-]{1,64}[ \t]{0,8}[<>~]?=)|\*\)[ \t]{0,8}\(/;
/** What every argument check below needs, raw or URL-encoded once: CR, LF, ")" or "http/". */
const NEEDS_A_LOOK = /[\r\n)]|%0[ad]|%29|http(?:\/|%2f)/i;

/** URL-decodes as a server would ("+" as space in arguments), tolerating malformed escapes. */
export function urlDecode(s: string, plus: boolean): string {
  const t = plus && s.includes("+") ? s.replace(/\+/g, " ") : s;
  if (!t.includes("%")) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return t.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  }
}

/** CR or LF in a value, raw or URL-encoded (%0d, %0a). */
const hasLineBreak = (v: string) =>
  v.includes("\n") || v.includes("\r") || (v.includes("%0") && /%0[ad]/i.test(v));

const isIp = (host: string) => {
  const h = host.replace(/:\d+$/, "");
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(h) || /^\[[0-9a-f:.]+\]$/i.test(h);
};

export interface ProtocolInput {
  method: string;
  path: string;
  query: string;
  host?: string;
  /** Header names (lower case) and values. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** There is a body (Content-Length above 0, Transfer-Encoding, or bytes read). */
  hasBody: boolean;
  /** The body was parsed as JSON (its \uXXXX escapes are ordinary). */
  jsonBody: boolean;
  /** The body's Content-Type when the caller has it apart from the headers. */
  bodyContentType?: string;
}

/** The headers the checks read, picked out in one pass over the headers. */
interface Picked {
  contentLength?: string;
  transferEncoding?: string;
  userAgent?: string;
  accept?: string;
  contentType?: string;
  range?: string;
  requestRange?: string;
  connection?: string;
  acceptEncoding?: string;
  cacheControl?: string;
  devcap?: string;
  cookie?: string;
  host?: string;
}

function finding(out: Anomaly[], id: string, location: string, snippet: string): void {
  out.push({ id, location, snippet });
}

/** Request line and header findings; argument findings come from argumentAnomalies. */
export function requestAnomalies(input: ProtocolInput, policy: ProtocolPolicy, out: Anomaly[]): void {
  const method = input.method.toUpperCase();
  if (!policy.allowedMethods.has(method)) finding(out, "920800", "method", method);
  const h: Picked = {};
  let unicodeEscape = "";
  for (const [name, value] of input.headers) {
    switch (name) {
      case "content-length":
        h.contentLength = value;
        break;
      case "transfer-encoding":
        h.transferEncoding = value;
        break;
      case "user-agent":
        h.userAgent = value;
        break;
      case "accept":
        h.accept = value;
        break;
      case "content-type":
        h.contentType = value;
        break;
      case "range":
        h.range = value;
        break;
      case "request-range":
        h.requestRange = value;
        break;
      case "connection":
        h.connection = value;
        break;
      case "accept-encoding":
        h.acceptEncoding = value;
        break;
      case "cache-control":
        h.cacheControl = value;
        break;
      case "x-up-devcap-post-charset":
        h.devcap = value;
        break;
      case "cookie":
        h.cookie = value;
        break;
      case "host":
        h.host = value;
        break;
      default:
        if (RESTRICTED_HEADERS.has(name)) finding(out, "920816", `header:${name}`, value);
    }
    if (name !== "referer" && hasLineBreak(value)) finding(out, "921803", `header:${name}`, value);
    if (unicodeEscape === "" && !input.jsonBody && value.includes("\\") && /\\u[0-9a-f]{4}/i.test(value)) {
      unicodeEscape = `header:${name}`;
      finding(out, "920819", unicodeEscape, value);
    }
  }
  if (!input.jsonBody && (input.query.includes("\\") || /%5c/i.test(input.query))) {
    const q = urlDecode(input.query, true);
    if (/\\u[0-9a-f]{4}/i.test(q)) finding(out, "920819", "query", q);
  }
  const { contentLength: cl, transferEncoding: te, userAgent: ua, accept } = h;
  const ct = h.contentType ?? input.bodyContentType;
  const hasBody = input.hasBody || (cl !== undefined && cl !== "0") || te !== undefined;
  if (
    (method === "GET" || method === "HEAD") &&
    ((cl !== undefined && !/^0*$/.test(cl)) || te !== undefined)
  ) {
    const what = te !== undefined ? "Transfer-Encoding" : `Content-Length ${cl}`;
    finding(out, "920801", "method", `${method} with ${what}`);
  }
  if (cl !== undefined && !/^\d+$/.test(cl)) finding(out, "920802", "header:content-length", cl);
  if (te !== undefined) {
    if (cl !== undefined) finding(out, "920803", "header:transfer-encoding", `${te} + Content-Length ${cl}`);
    if (te.trim().toLowerCase() !== "chunked") finding(out, "921800", "header:transfer-encoding", te);
  }
  if (h.requestRange !== undefined) finding(out, "920804", "header:request-range", h.requestRange);
  if (h.range !== undefined) rangeChecks(h.range, input.path, out);
  const connection = h.connection?.toLowerCase();
  if (connection?.includes("keep-alive") && connection.includes("close")) {
    finding(out, "920805", "header:connection", connection);
  }
  // Clients CRS knows to send an empty or no Accept are let be.
  if (
    accept === "" &&
    method !== "OPTIONS" &&
    !/AppleWebKit|Android|Business|Enterprise|Entreprise/.test(ua ?? "")
  ) {
    finding(out, "920806", "header:accept", "");
  }
  if (
    accept === undefined &&
    method !== "OPTIONS" &&
    method !== "CONNECT" &&
    !/AppleWebKit|Android/.test(ua ?? "")
  ) {
    finding(out, "920809", "header:accept", "(none)");
  }
  if (ua === "") finding(out, "920807", "header:user-agent", "");
  if (ua === undefined) finding(out, "920808", "header:user-agent", "(none)");
  const host = h.host ?? input.host;
  if (host !== undefined && /^[\d[]/.test(host) && isIp(host)) finding(out, "920810", "header:host", host);
  if (hasBody && ct === undefined) finding(out, "920811", "header:content-type", "(none)");
  if (ct !== undefined) contentTypeChecks(ct, policy, out);
  if (accept?.includes("charset")) {
    for (const m of accept.matchAll(/charset\s*=\s*"?([^",;\s]+)/gi)) {
      if (!policy.allowedCharsets.has(m[1]!.toLowerCase())) {
        finding(out, "920818", "header:accept", accept);
        break;
      }
    }
  }
  const ae = h.acceptEncoding;
  if (ae !== undefined) {
    if (ae.length > 100) finding(out, "920817", "header:accept-encoding", ae);
    if (ae.trim() !== "" && !CODINGS.test(ae.toLowerCase()))
      finding(out, "920822", "header:accept-encoding", ae);
  }
  if (h.cacheControl !== undefined && !cacheControlOk(h.cacheControl)) {
    finding(out, "920821", "header:cache-control", h.cacheControl);
  }
  if (h.devcap !== undefined && /^up/i.test(ua ?? ""))
    finding(out, "920824", "header:x-up-devcap-post-charset", h.devcap);
  const cookie = h.cookie;
  if (cookie?.includes("$") && /(?:^|[;,]\s*)"?\$version"?\s*=\s*"?1/i.test(cookie)) {
    finding(out, "921808", "cookie:$Version", cookie);
  }
  pathChecks(input, out);
}

function pathChecks(input: ProtocolInput, out: Anomaly[]): void {
  const path = input.path.includes("%") ? urlDecode(input.path, false) : input.path;
  if (hasLineBreak(path)) finding(out, "921805", "path", path);
  const basename = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = basename.lastIndexOf(".");
  if (basename.endsWith("~") || (dot !== -1 && RESTRICTED_EXTENSIONS.has(basename.slice(dot + 1)))) {
    finding(out, "920820", "path", basename);
  }
  if (
    (input.path.includes("nix") || input.query.includes("nix")) &&
    /unix(?::|%3a)/i.test(input.path + input.query)
  ) {
    const uri = urlDecode(`${input.path}?${input.query}`, false).toLowerCase();
    const at = uri.indexOf("unix:");
    if (at !== -1 && uri.indexOf("|", at) !== -1) finding(out, "921807", "path", uri.slice(at));
  }
}

function rangeChecks(range: string, path: string, out: Anomaly[]): void {
  const eq = range.indexOf("=");
  const specs = (eq === -1 ? "" : range.slice(eq + 1)).split(",");
  let bad = eq === -1;
  for (const spec of specs) {
    const m = /^\s*(\d*)-(\d*)\s*$/.exec(spec);
    if (!m || (m[1] === "" && m[2] === "")) bad = true;
    else if (m[1] !== "" && m[2] !== "" && Number(m[2]) < Number(m[1])) bad = true;
  }
  if (bad) finding(out, "920804", "header:range", range);
  if (specs.length > (/\.pdf$/i.test(path) ? 62 : 5)) finding(out, "920815", "header:range", range);
}

function contentTypeChecks(ct: string, policy: ProtocolPolicy, out: Anomaly[]): void {
  const add = (id: string, location: string, snippet: string) => finding(out, id, location, snippet);
  const { type, params, problems } = parseHeaderParams(ct);
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(type) || problems.length > 0)
    add("920812", "header:content-type", ct);
  else if (!typeAllowed(type, policy.allowedContentTypes)) add("920813", "header:content-type", type);
  const charset = params.get("charset");
  const charsets = ct.toLowerCase().split("charset").length - 1;
  if (charsets > 1 || (charset !== undefined && !policy.allowedCharsets.has(charset.toLowerCase()))) {
    add("920814", "header:content-type", ct);
  }
  // A JSON or XML media type after the first one: a parser keyed on a substring would pick it.
  const rest = ct.slice(Math.max(0, ct.search(/[\s,;]/)));
  if (
    ct.search(/[\s,;]/) !== -1 &&
    /application\/(?:[\w.-]+\+)?json|(?:application\/(?:soap\+)?|text\/)xml/i.test(rest)
  ) {
    add("921806", "header:content-type", ct);
  }
}

function cacheControlOk(cc: string): boolean {
  const parts = cc.split(",");
  if (parts.length > 7) return false;
  for (const raw of parts) {
    const d = raw.trim().toLowerCase();
    const eq = d.indexOf("=");
    const name = eq === -1 ? d : d.slice(0, eq);
    const arg = eq === -1 ? undefined : d.slice(eq + 1);
    if (name === "max-age" || name === "min-fresh") {
      if (arg === undefined || !/^\d+$/.test(arg)) return false;
    } else if (
      !CACHE_DIRECTIVES.has(name) ||
      (arg !== undefined && (name !== "max-stale" || !/^\d+$/.test(arg)))
    ) {
      return false;
    }
  }
  return true;
}

/** Findings in argument names and values (query, body, cookies): smuggling, splitting, injection, pollution. */
export interface ArgumentScope {
  /** The request method, for the _method check. */
  method: string;
  /** The query, the body text and the Cookie header, read once for "_method" before looking at each name. */
  texts: readonly string[];
  /** The highest paranoia level whose checks count (the engine's); checks above it are skipped. */
  paranoia: number;
}

/**
 * The checks that look at every argument name, value and cookie together: _method overriding the method
 * (paranoia 2) and parameter pollution and array names (paranoia 3 and 4). What one value's content says
 * (smuggling, splitting, CR/LF, LDAP) is argumentValueAnomalies', which the managed engine runs per value.
 */
export function argumentAnomalies(targets: readonly Target[], scope: ArgumentScope, out: Anomaly[]): void {
  const names_ = scope.paranoia >= 3;
  const override = scope.paranoia >= 2 && scope.texts.some((t) => t.includes("_method"));
  if (!names_ && !override) return;
  const method = scope.method;
  // Each id scores once per request, so only its first place is recorded (a form of 30,000 repeated names
  // would otherwise make 30,000 findings).
  const fired = new Set<string>();
  const add = (id: string, t: Target, s: string) => {
    if (fired.has(id)) return;
    fired.add(id);
    out.push({ id, location: t.location, snippet: s });
  };
  const names = new Set<string>();
  const arrays = new Set<string>();
  // The value after a "_method" name (names come just before their values).
  let methodValue = false;
  for (const t of targets) {
    const p = t.part;
    if (p !== "names" && p !== "values" && p !== "cookies") continue;
    const raw = t.raw;
    if (override && methodValue && p === "values") {
      const v = urlDecode(raw, true);
      if (/^[a-z]{3,10}$/i.test(v) && v.toUpperCase() !== method.toUpperCase()) add("920823", t, v);
    }
    methodValue = p === "names" && raw === "_method";
    if (names_ && p === "names" && t.location !== "json_names") {
      const bracket = raw.indexOf("[");
      if (bracket !== -1) {
        add("921813", t, raw);
        if (/\][^[\]]/.test(raw)) add("921812", t, raw);
        arrays.add(raw.slice(0, bracket));
      } else {
        // Pollution: the same plain name twice, or a plain name next to its array form (a=1&a[]=2).
        if (names.has(raw) || (arrays.size > 0 && arrays.has(raw))) add("921812", t, raw);
        names.add(raw);
      }
    }
  }
}

/**
 * The characters without which argumentValueAnomalies finds nothing, raw or once URL-decoded (CR, LF, ")" and
 * the "/" of "http/"): the engine's character scan tells which values need the NEEDS_A_LOOK test.
 */
export const ARGUMENT_LOOK_CHARS = "\r\n)/";

/** Whether an argument name, value or cookie may hold what argumentValueAnomalies looks for. */
export const needsALook = (raw: string): boolean => NEEDS_A_LOOK.test(raw);

/**
 * One argument name, value or cookie's content, for a value needsALook() passed: CR/LF in a name or a query
 * value, a request line (smuggling), a response header or status line after a line break (splitting), an LDAP
 * filter, a query _method with a line break. Each id is recorded once in `out`.
 */
export function argumentValueAnomalies(t: Target, method: string, out: Anomaly[]): void {
  const p = t.part;
  const v = urlDecode(t.raw, true);
  const add = (id: string) => {
    if (!out.some((a) => a.id === id)) out.push({ id, location: t.location, snippet: v });
  };
  if (p === "names" && /[\r\n]/.test(v)) add("921804");
  if (p === "values" && t.location.startsWith("args:") && /[\r\n]/.test(v)) add("921810");
  if (
    p === "values" &&
    t.location === "args:_method" &&
    /^[a-z]{3,10}$/i.test(v) &&
    v.toUpperCase() !== method
  ) {
    add("920823");
  }
  if (SMUGGLED_REQUEST.test(v)) add("921801");
  if (SPLIT_RESPONSE.test(v)) add("921802");
  if (v.includes(")") && LDAP_INJECTION.test(v)) add("921809");
}

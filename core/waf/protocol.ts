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
const SMUGGLED_REQUEST =
  /\b(?:get|post|head|put|patch|delete|options|connect|trace|track|propfind|proppatch|mkcol|copy|move|lock|unlock)[ \t]+[^\s]{1,2048}[ \t]+http\/\d/i;
const SPLIT_RESPONSE =
  /[\r\n][ \t]{0,8}(?:content-(?:type|length|disposition)|set-cookie|location|refresh|x-xss-protection|access-control-[a-z-]{1,32})[ \t]{0,8}:|[\r\n][ \t]{0,8}http\/\d(?:\.\d)?[ \t]+\d{3}/i;
const LDAP_INJECTION = /\)[ \t]{0,8}\([ \t]{0,8}(?:[|&!]|[\w.;-]{1,64}[ \t]{0,8}[<>~]?=)|\*\)[ \t]{0,8}\(/;
const NEEDS_A_LOOK = /[\r\n)%]|http\//i;

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

const isIp = (host: string) => {
  const h = host.replace(/:\d+$/, "");
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(h) || /^\[[0-9a-f:.]+\]$/i.test(h);
};

export interface ProtocolInput {
  method: string;
  path: string;
  query: string;
  host?: string;
  headers: { forEach(cb: (value: string, name: string) => void): void };
  /** There is a body (Content-Length above 0, Transfer-Encoding, or bytes read). */
  hasBody: boolean;
  /** The body was parsed as JSON (its \uXXXX escapes are ordinary). */
  jsonBody: boolean;
  /** The body's Content-Type when the caller has it apart from the headers. */
  bodyContentType?: string;
}

/** Request line and header findings; argument findings come from argumentAnomalies. */
export function requestAnomalies(input: ProtocolInput, policy: ProtocolPolicy, out: Anomaly[]): void {
  const add = (id: string, location: string, snippet: string) => out.push({ id, location, snippet });
  const method = input.method.toUpperCase();
  if (!policy.allowedMethods.has(method)) add("920800", "method", method);
  const h = new Map<string, string>();
  let unicodeEscape = "";
  input.headers.forEach((value, name) => {
    const n = name.toLowerCase();
    h.set(n, value);
    if (RESTRICTED_HEADERS.has(n)) add("920816", `header:${n}`, value);
    if (n !== "referer" && /%0[ad]|[\r\n]/i.test(value)) add("921803", `header:${n}`, value);
    if (unicodeEscape === "" && !input.jsonBody && value.includes("\\") && /\\u[0-9a-f]{4}/i.test(value)) {
      unicodeEscape = n;
    }
  });
  if (unicodeEscape !== "") add("920819", `header:${unicodeEscape}`, h.get(unicodeEscape)!);
  if (!input.jsonBody && /\\|%5c/i.test(input.query)) {
    const q = urlDecode(input.query, true);
    if (/\\u[0-9a-f]{4}/i.test(q)) add("920819", "query", q);
  }
  const cl = h.get("content-length");
  const te = h.get("transfer-encoding");
  const ua = h.get("user-agent");
  const accept = h.get("accept");
  const ct = h.get("content-type") ?? input.bodyContentType;
  const hasBody = input.hasBody || (cl !== undefined && cl !== "0") || te !== undefined;
  if (
    (method === "GET" || method === "HEAD") &&
    ((cl !== undefined && !/^0*$/.test(cl)) || te !== undefined)
  ) {
    add(
      "920801",
      "method",
      `${method} with ${te !== undefined ? "Transfer-Encoding" : `Content-Length ${cl}`}`,
    );
  }
  if (cl !== undefined && !/^\d+$/.test(cl)) add("920802", "header:content-length", cl);
  if (te !== undefined) {
    if (cl !== undefined) add("920803", "header:transfer-encoding", `${te} + Content-Length ${cl}`);
    if (te.trim().toLowerCase() !== "chunked") add("921800", "header:transfer-encoding", te);
  }
  rangeChecks(h, input.path, add);
  const connection = h.get("connection")?.toLowerCase();
  if (connection?.includes("keep-alive") && connection.includes("close")) {
    add("920805", "header:connection", connection);
  }
  const knownEmptyAccept = ua !== undefined && /AppleWebKit|Android|Business|Enterprise|Entreprise/.test(ua);
  if (accept === "" && method !== "OPTIONS" && !knownEmptyAccept) add("920806", "header:accept", "");
  if (
    accept === undefined &&
    method !== "OPTIONS" &&
    method !== "CONNECT" &&
    !/AppleWebKit|Android/.test(ua ?? "")
  ) {
    add("920809", "header:accept", "(none)");
  }
  if (ua === "") add("920807", "header:user-agent", "");
  if (ua === undefined) add("920808", "header:user-agent", "(none)");
  const host = h.get("host") ?? input.host;
  if (host !== undefined && isIp(host)) add("920810", "header:host", host);
  if (hasBody && ct === undefined) add("920811", "header:content-type", "(none)");
  if (ct !== undefined) contentTypeChecks(ct, policy, add);
  if (accept?.includes("charset")) {
    for (const m of accept.matchAll(/charset\s*=\s*"?([^",;\s]+)/gi)) {
      if (!policy.allowedCharsets.has(m[1]!.toLowerCase())) {
        add("920818", "header:accept", accept);
        break;
      }
    }
  }
  const ae = h.get("accept-encoding");
  if (ae !== undefined) {
    if (ae.length > 100) add("920817", "header:accept-encoding", ae);
    if (ae.trim() !== "" && !CODINGS.test(ae.toLowerCase())) add("920822", "header:accept-encoding", ae);
  }
  const cc = h.get("cache-control");
  if (cc !== undefined && !cacheControlOk(cc)) add("920821", "header:cache-control", cc);
  if (h.has("x-up-devcap-post-charset") && /^up/i.test(ua ?? "")) {
    add("920824", "header:x-up-devcap-post-charset", h.get("x-up-devcap-post-charset")!);
  }
  const cookie = h.get("cookie");
  if (cookie?.includes("$") && /(?:^|[;,]\s*)"?\$version"?\s*=\s*"?1/i.test(cookie)) {
    add("921808", "cookie:$Version", cookie);
  }
  const path = urlDecode(input.path, false);
  if (/[\r\n]/.test(path)) add("921805", "path", path);
  const basename = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = basename.lastIndexOf(".");
  if (basename.endsWith("~") || (dot !== -1 && RESTRICTED_EXTENSIONS.has(basename.slice(dot + 1)))) {
    add("920820", "path", basename);
  }
  if (/unix(?::|%3a)/i.test(input.path + input.query)) {
    const uri = urlDecode(`${input.path}?${input.query}`, false).toLowerCase();
    const at = uri.indexOf("unix:");
    if (at !== -1 && uri.indexOf("|", at) !== -1) add("921807", "path", uri.slice(at));
  }
}

function rangeChecks(h: Map<string, string>, path: string, add: (id: string, l: string, s: string) => void) {
  if (h.has("request-range")) add("920804", "header:request-range", h.get("request-range")!);
  const range = h.get("range");
  if (range === undefined) return;
  const eq = range.indexOf("=");
  const specs = (eq === -1 ? "" : range.slice(eq + 1)).split(",");
  let bad = eq === -1;
  for (const spec of specs) {
    const m = /^\s*(\d*)-(\d*)\s*$/.exec(spec);
    if (!m || (m[1] === "" && m[2] === "")) bad = true;
    else if (m[1] !== "" && m[2] !== "" && Number(m[2]) < Number(m[1])) bad = true;
  }
  if (bad) add("920804", "header:range", range);
  if (specs.length > (/\.pdf$/i.test(path) ? 62 : 5)) add("920815", "header:range", range);
}

function contentTypeChecks(
  ct: string,
  policy: ProtocolPolicy,
  add: (id: string, l: string, s: string) => void,
) {
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
export function argumentAnomalies(targets: readonly Target[], method: string, out: Anomaly[]): void {
  const add = (id: string, t: Target, s: string) => out.push({ id, location: t.location, snippet: s });
  const names = new Set<string>();
  const arrays = new Map<string, boolean>();
  // The value after a "_method" name (names come just before their values).
  let methodValue = false;
  for (const t of targets) {
    const p = t.part;
    if (p !== "names" && p !== "values" && p !== "cookies") continue;
    const raw = t.raw;
    if (methodValue && p === "values") {
      const v = urlDecode(raw, true);
      if (/^[a-z]{3,10}$/i.test(v) && v.toUpperCase() !== method.toUpperCase()) add("920823", t, v);
    }
    methodValue = p === "names" && raw === "_method";
    if (p === "names" && t.location !== "json_names") {
      const base = raw.replace(/\[.*$/s, "");
      if (raw.includes("[")) {
        add("921813", t, raw);
        if (/\][^[\]]/.test(raw)) add("921812", t, raw);
        arrays.set(base, true);
      } else {
        // Pollution: the same plain name twice, or a plain name next to its array form (a=1&a[]=2).
        if (names.has(raw) || arrays.has(base)) add("921812", t, raw);
        names.add(raw);
      }
    }
    if (!NEEDS_A_LOOK.test(raw)) continue;
    const v = urlDecode(raw, true);
    if (p === "names" && /[\r\n]/.test(v)) add("921804", t, v);
    if (p === "values" && t.location.startsWith("args:") && /[\r\n]/.test(v)) add("921810", t, v);
    if (
      p === "values" &&
      t.location === "args:_method" &&
      /^[a-z]{3,10}$/i.test(v) &&
      v.toUpperCase() !== method
    ) {
      add("920823", t, v);
    }
    if (SMUGGLED_REQUEST.test(v)) add("921801", t, v);
    if (SPLIT_RESPONSE.test(v)) add("921802", t, v);
    if (v.includes(")") && LDAP_INJECTION.test(v)) add("921809", t, v);
  }
}

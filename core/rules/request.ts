// The request an expression reads: a small runtime-neutral interface, and a per-request view that
// derives each field lazily and caches it, so cookies and query args are only parsed when a rule asks.
import { type Ip, parseIp } from "./ip.ts";

/** Header access both a Web `Headers` and a plain map can provide. Names are looked up in lower case. */
export interface RuleHeaders {
  get(name: string): string | null;
  forEach(callback: (value: string, name: string) => void): void;
}

/**
 * What the rules language needs from a request. The worker builds it from a `Request` (see
 * `ruleRequestFrom`); the L4 sidecar knows only the client address and fills `clientIp` alone.
 */
export interface RuleRequest {
  /** The client address as text (CF-Connecting-IP in the worker, the socket peer in the sidecar). */
  clientIp: string;
  /** Upper-case method, e.g. "GET". */
  method?: string;
  /** The absolute request URL as received, e.g. "https://example.com/a?b=1". */
  url?: string;
  /** The normalised path (core/routing/normalize-path.ts); absent: the path of `url`, as received. */
  path?: string;
  headers?: RuleHeaders;
  /** Two-letter country code (request.cf.country). */
  country?: string;
  /** Autonomous system number (request.cf.asn). */
  asn?: number;
}

/** Minimal shape of a Fetch `Request` (with Cloudflare's `cf`) so core/ needs no runtime types. */
export interface FetchLikeRequest {
  method: string;
  url: string;
  headers: RuleHeaders;
  /** Read for `country` and `asn` only; any other shape (a subrequest's init properties) yields neither. */
  cf?: object | undefined;
}

/**
 * Builds the rules view of a Fetch request. The client IP comes from the caller (never X-Forwarded-For);
 * `headers` and `method` may be a cheaper view of the same request's (the worker passes what it read once).
 */
export function ruleRequestFrom(
  req: FetchLikeRequest,
  clientIp: string,
  path?: string,
  headers: RuleHeaders = req.headers,
  method: string = req.method,
): RuleRequest {
  return new FetchRuleRequest(req, clientIp, path, headers, method);
}

/** What the view reads of request.cf. */
type CfFields = { country?: unknown; asn?: unknown };

/**
 * A class, not object literals with getters: V8 builds such literals on a slow path, and the two a request made
 * (this view and the worker's Request view inside it) cost 12-18k instructions a request in workerd.
 */
class FetchRuleRequest implements RuleRequest {
  readonly clientIp: string;
  readonly method: string;
  readonly url: string;
  readonly path: string | undefined;
  readonly headers: RuleHeaders;
  private readonly source: FetchLikeRequest;
  private cf: CfFields | undefined | null = null;

  constructor(
    req: FetchLikeRequest,
    clientIp: string,
    path: string | undefined,
    headers: RuleHeaders,
    method: string,
  ) {
    this.source = req;
    this.clientIp = clientIp;
    this.method = method;
    this.url = req.url;
    this.path = path;
    this.headers = headers;
  }

  // request.cf is read only when a rule asks for country or asn: workerd builds the object anew on every read,
  // which costs more than the rest of this view.
  private cfObject(): CfFields | undefined {
    if (this.cf === null) this.cf = this.source.cf;
    return this.cf;
  }

  get country(): string | undefined {
    const v = this.cfObject()?.country;
    return typeof v === "string" ? v : undefined;
  }

  get asn(): number | undefined {
    const v = this.cfObject()?.asn;
    return typeof v === "number" ? v : undefined;
  }
}

type MultiMap = ReadonlyMap<string, string[]>;
const EMPTY_MAP: MultiMap = new Map();

/** Lazily derived, cached fields of one request. One instance per request, shared by every rule. */
export class RequestFields {
  readonly req: RuleRequest;
  private _split?: { host: string; path: string; query: string; hasQuery: boolean; scheme: string };
  private _args?: MultiMap;
  private _argNames?: string[];
  private _cookies?: MultiMap;
  private _headers?: MultiMap;
  private _ip?: Ip | null;

  constructor(req: RuleRequest) {
    this.req = req;
  }

  /** Slices the URL by hand: cheaper than `new URL()` and keeps the path exactly as received. */
  private split() {
    if (this._split) return this._split;
    const url = this.req.url ?? "";
    const schemeEnd = url.indexOf("://");
    const hostStart = schemeEnd === -1 ? 0 : schemeEnd + 3;
    let pathStart = url.indexOf("/", hostStart);
    const q0 = url.indexOf("?", hostStart);
    if (pathStart === -1 || (q0 !== -1 && q0 < pathStart)) pathStart = q0 === -1 ? url.length : q0;
    let end = url.indexOf("#", pathStart);
    if (end === -1) end = url.length;
    const q = url.indexOf("?", pathStart);
    const hasQuery = q !== -1 && q < end;
    let authority = url.slice(hostStart, pathStart);
    const at = authority.lastIndexOf("@");
    if (at !== -1) authority = authority.slice(at + 1);
    const host = authority.startsWith("[")
      ? authority.slice(0, authority.indexOf("]") + 1)
      : authority.split(":")[0]!;
    this._split = {
      scheme: schemeEnd === -1 ? "" : url.slice(0, schemeEnd),
      host,
      path: url.slice(pathStart, hasQuery ? q : end) || "/",
      query: hasQuery ? url.slice(q + 1, end) : "",
      hasQuery,
    };
    return this._split;
  }

  host(): string {
    return this.split().host;
  }
  /** The normalised path (Cloudflare's http.request.uri.path); the raw one when none was given. */
  path(): string {
    return this.req.path ?? this.split().path;
  }
  /** The path exactly as received (raw.http.request.uri.path). */
  rawPath(): string {
    return this.split().path;
  }
  query(): string {
    return this.split().query;
  }
  /** Path and query: "/a/b?c=1"; the raw path with `raw`. */
  uri(raw = false): string {
    const s = this.split();
    const path = raw ? s.path : this.path();
    return s.hasQuery ? `${path}?${s.query}` : path;
  }
  fullUri(raw = false): string {
    const s = this.split();
    return `${s.scheme}://${s.host}${this.uri(raw)}`;
  }
  ssl(): boolean {
    return this.split().scheme === "https";
  }
  method(): string {
    return this.req.method ?? "";
  }

  header(name: string): string | null {
    return this.req.headers?.get(name) ?? null;
  }

  /** Header values keyed by lower-case name. Fetch joins repeated headers with ", ", so arrays hold one value. */
  headers(): MultiMap {
    if (this._headers) return this._headers;
    const m = new Map<string, string[]>();
    this.req.headers?.forEach((value, name) => {
      const k = name.toLowerCase();
      const list = m.get(k);
      if (list) list.push(value);
      else m.set(k, [value]);
    });
    this._headers = m;
    return m;
  }

  /** Query arguments as sent: not decoded, in order, repeated names collected (Cloudflare's semantics). */
  args(): MultiMap {
    if (this._args) return this._args;
    const q = this.query();
    if (q === "") {
      this._args = EMPTY_MAP;
      return EMPTY_MAP;
    }
    const m = new Map<string, string[]>();
    const names: string[] = [];
    for (const part of q.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const k = eq === -1 ? part : part.slice(0, eq);
      const v = eq === -1 ? "" : part.slice(eq + 1);
      names.push(k);
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    }
    this._argNames = names;
    this._args = m;
    return m;
  }

  argNames(): string[] {
    this.args();
    return this._argNames ?? [];
  }

  argValues(): string[] {
    const out: string[] = [];
    for (const list of this.args().values()) out.push(...list);
    return out;
  }

  cookieHeader(): string {
    return this.header("cookie") ?? "";
  }

  /** Cookies by URL-decoded name; values as sent. Same-named cookies merge, as on Cloudflare. */
  cookies(): MultiMap {
    if (this._cookies) return this._cookies;
    const raw = this.cookieHeader();
    if (raw === "") {
      this._cookies = EMPTY_MAP;
      return EMPTY_MAP;
    }
    const m = new Map<string, string[]>();
    for (const part of raw.split(";")) {
      const eq = part.indexOf("=");
      if (eq === -1) continue;
      const k = safeDecode(part.slice(0, eq).trim());
      const v = part.slice(eq + 1).trim();
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    }
    this._cookies = m;
    return m;
  }

  ip(): Ip | undefined {
    if (this._ip === undefined) this._ip = parseIp(this.req.clientIp) ?? null;
    return this._ip ?? undefined;
  }
}

function safeDecode(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

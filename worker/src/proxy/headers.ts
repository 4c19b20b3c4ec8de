// Header hygiene between client and backend: hop-by-hop headers never cross the proxy (RFC 9110 §7.6.1),
// internal headers are stripped both ways, and the forwarding headers are written from what the edge saw.
//
// Built for the request path's cost under workerd, where every Headers call crosses into C++ (a delete of an
// absent name costs about as much as a set, ~4k instructions): the client's headers, read once in one iteration,
// are checked against name sets compiled with the config, and the upstream request gets a copy of the client's
// Headers (copied inside workerd) with only the edits made. (A plain record of every header, which fetch() then
// converts, cost ~65k instructions for a dozen headers; an array of pairs goes through the iterator protocol
// and costs ~230k.)
//
// workerd's own HTTP layer drops the connection-level headers (Connection, Keep-Alive, TE, Trailer,
// Transfer-Encoding, Upgrade) from what fetch() sends and from the responses a worker returns, but passes on
// the names a Connection header lists and Proxy-Connection/-Authenticate/-Authorization: a response loses
// those here; a request drops the whole list, which costs nothing extra while its headers are read anyway.
import type { RequestHeaders } from "../request-headers.ts";

/** Headers written on a response: name, value. */
export type HeaderPairs = [string, string][];

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
/** Hop-by-hop names workerd's HTTP layer passes on in responses (it drops the rest of HOP_BY_HOP itself). */
const PASSED_ON = ["proxy-connection", "proxy-authenticate"];
/** Connection options that name nothing workerd passes on: "close", and the hop-by-hop headers it drops. */
const DROPPED_BY_RUNTIME = new Set(["close", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]);

/** A Connection header names a header workerd would pass on to the client (so a copy must remove it). */
function namesPassedOn(connection: string): boolean {
  for (const listed of connection.split(",")) {
    const n = listed.trim().toLowerCase();
    if (n && !DROPPED_BY_RUNTIME.has(n)) return true;
  }
  return false;
}

/**
 * What one forwarding setup removes from and writes into a request, compiled once per config (and per attempt
 * header name): the names never forwarded, for trusted and for untrusted clients.
 */
export interface ForwardPolicy {
  /** Names dropped from a trusted proxy's request (X-Forwarded-For and Forwarded are then extended). */
  readonly dropTrusted: ReadonlySet<string>;
  /** Names dropped from anyone else's request: the above plus the client-identity ones. */
  readonly dropUntrusted: ReadonlySet<string>;
  /** Also write RFC 7239 Forwarded. */
  readonly forwarded: boolean;
}

/**
 * `internal`: lower-case names stripped both ways; `untrusted`: lower-case names stripped from untrusted
 * clients; `attemptHeader`: the retry attempt header, which each attempt sets itself.
 */
export function forwardPolicy(
  internal: readonly string[],
  untrusted: readonly string[],
  forwarded: boolean,
  attemptHeader?: string,
): ForwardPolicy {
  // Written by the proxy on every request (their incoming values are read while dropping them).
  const rewritten = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id", "forwarded"];
  const base = [...HOP_BY_HOP, ...internal, ...rewritten];
  if (attemptHeader) base.push(attemptHeader.toLowerCase());
  return {
    dropTrusted: new Set(base),
    dropUntrusted: new Set([...base, ...untrusted]),
    forwarded,
  };
}

export interface ForwardFacts {
  /** The client IP from CF-Connecting-IP; "" when unknown. */
  clientIp: string;
  /** The client is a trusted proxy: extend its X-Forwarded-For instead of replacing it. */
  trusted: boolean;
  /** "http" or "https", as the client connected to the edge. */
  proto: string;
  /** The Host the client asked for, port included. */
  host: string;
  requestId: string;
}

/** RFC 7239 node: IPv6 addresses are quoted and bracketed. */
const forwardedNode = (ip: string) => (ip.includes(":") ? `"[${ip}]"` : ip);

/**
 * Dropped names that are not deleted from the copy: workerd's HTTP layer leaves them out of what fetch() sends
 * (a WebSocket upgrade's Connection and Upgrade excepted, which it needs), so a delete would only cost.
 */
const DROPPED_ON_SEND = new Set(["connection", ...DROPPED_BY_RUNTIME]);

/**
 * The headers a backend receives: the client's, minus hop-by-hop (and any the Connection header names) and
 * internal ones, plus the forwarding headers. A WebSocket upgrade keeps its Upgrade and Connection headers:
 * workerd needs them to perform the handshake with the backend.
 *
 * Built as a copy of the client's Headers (incoming.native; copied inside workerd, no header crosses into
 * JavaScript) with only the edits made: a delete for each dropped name the request has (incoming's entries, the
 * same headers read once, say which), and the forwarding headers set. The copy costs ~1k instructions a header,
 * where a record of every header cost ~4.5k an entry for fetch() to convert; the four or five sets cost ~7k
 * each, so a request with the bench's half-dozen headers costs the same either way, and a browser's two dozen
 * ~50k less.
 */
export function upstreamRequestHeaders(
  incoming: RequestHeaders,
  policy: ForwardPolicy,
  facts: ForwardFacts,
): Headers {
  const trusted = facts.trusted;
  const drop = trusted ? policy.dropTrusted : policy.dropUntrusted;
  const present: string[] = [];
  let connection: string | undefined;
  let upgrade: string | undefined;
  let priorFor: string | undefined;
  let priorForwarded: string | undefined;
  for (const [name, value] of incoming.entries()) {
    if (!drop.has(name)) continue;
    if (name === "connection") connection = value;
    else if (name === "upgrade") upgrade = value;
    else if (name === "x-forwarded-for") priorFor = value;
    else if (name === "forwarded") priorForwarded = value;
    if (!DROPPED_ON_SEND.has(name)) present.push(name);
  }
  const out = new Headers(incoming.native);
  const websocket = upgrade?.toLowerCase() === "websocket";
  if (connection !== undefined) {
    for (const listed of connection.split(",")) {
      const n = listed.trim().toLowerCase();
      // Only names the request has: deleting an absent one costs as much as a set.
      if (n !== "" && !DROPPED_ON_SEND.has(n) && incoming.get(n) !== null) out.delete(n);
    }
  }
  // Rare, and removed here rather than left to the runtime: no upgrade other than a WebSocket is attempted.
  if (!websocket && upgrade !== undefined) out.delete("upgrade");

  const { clientIp, proto, host } = facts;
  let xff: string | undefined;
  if (clientIp) xff = trusted && priorFor ? `${priorFor}, ${clientIp}` : clientIp;
  else if (trusted && priorFor !== undefined) xff = priorFor;
  let forwarded: string | undefined;
  if (policy.forwarded) {
    let element = clientIp ? `for=${forwardedNode(clientIp)};proto=${proto}` : `proto=${proto}`;
    if (host) element += `;host="${host}"`;
    const before = trusted ? priorForwarded : undefined;
    forwarded = before ? `${before}, ${element}` : element;
  } else if (trusted && priorForwarded !== undefined) {
    forwarded = priorForwarded;
  }
  for (const name of present) {
    // A name set below is replaced by the set.
    if (name === "x-forwarded-proto" || name === "x-request-id") continue;
    if (name === "x-forwarded-for" && xff !== undefined) continue;
    if ((name === "x-forwarded-host" && host) || (name === "forwarded" && forwarded !== undefined)) continue;
    out.delete(name);
  }
  if (xff !== undefined) out.set("x-forwarded-for", xff);
  out.set("x-forwarded-proto", proto);
  if (host) out.set("x-forwarded-host", host);
  out.set("x-request-id", facts.requestId);
  if (forwarded !== undefined) out.set("forwarded", forwarded);
  return out;
}

/**
 * What the client gets for a backend's response: the response itself when nothing about it must change (no
 * header to write, no hop-by-hop header the runtime passes on, its own body), else one copy of its status and
 * headers (fetched headers are immutable; ~25k instructions, and as much again for the header calls around it)
 * with the hop-by-hop ones removed and `set` written. `body`: a stream that replaces the backend's.
 */
export function downstreamResponse(
  res: Response,
  body: ReadableStream<Uint8Array> | undefined,
  set: HeaderPairs,
): Response {
  const upstream = res.headers;
  const connection = upstream.get("connection");
  const passed = PASSED_ON.filter((name) => upstream.has(name));
  const unchanged =
    body === undefined &&
    set.length === 0 &&
    passed.length === 0 &&
    (connection === null || !namesPassedOn(connection));
  if (unchanged) return res;
  const out = new Response(body ?? res.body, res);
  finishDownstream(out.headers, connection, passed, set);
  return out;
}

/** The headers of a backend response as downstreamResponse() leaves them, for a response built by hand. */
export function downstreamHeaders(upstream: Headers, set: HeaderPairs): Headers {
  const headers = new Headers(upstream);
  finishDownstream(headers, upstream.get("connection"), PASSED_ON, set);
  return headers;
}

/**
 * Removes the hop-by-hop headers the runtime passes on (those the Connection header lists, and the proxy ones
 * in `passed`), then writes `set`. A handful of calls: a loop over every name would cost more than it saves.
 */
function finishDownstream(
  headers: Headers,
  connection: string | null,
  passed: readonly string[],
  set: HeaderPairs,
): void {
  if (connection !== null) {
    for (const listed of connection.split(",")) {
      const n = listed.trim().toLowerCase();
      if (n) headers.delete(n);
    }
    headers.delete("connection");
  }
  for (const name of passed) headers.delete(name);
  for (const [name, value] of set) headers.set(name, value);
}

/**
 * The URL to fetch: `base` is the backend's URL without a trailing slash (compiled once per backend), `path`
 * the request path (already a valid URL path, as parsed by the URL parser) and `search` the query with its "?".
 */
export function upstreamUrl(base: string, path: string, search: string): string {
  // A rewritten path may hold "?" or "#", which belong to the path here (as URL's pathname setter takes them).
  const safe =
    path.includes("?") || path.includes("#") ? path.replace(/\?/g, "%3F").replace(/#/g, "%23") : path;
  return base + safe + search;
}

/** A backend URL as the prefix upstreamUrl() appends paths to: origin and path, no trailing slash. */
export function backendBase(url: URL): string {
  const path = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  return url.origin + path;
}

// Header hygiene between client and backend: hop-by-hop headers never cross the proxy (RFC 9110 §7.6.1),
// internal headers are stripped both ways, and the forwarding headers are written from what the edge saw.

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

/**
 * Removes hop-by-hop headers, including any the Connection header names. A WebSocket upgrade keeps its
 * Upgrade and Connection headers: workerd needs them to perform the handshake with the backend.
 * Mutates and returns `headers`.
 */
export function stripHopByHop(headers: Headers, keepUpgrade = false): Headers {
  const listed = headers.get("connection");
  if (listed) {
    for (const name of listed.split(",")) {
      const n = name.trim().toLowerCase();
      if (n && !(keepUpgrade && n === "upgrade")) headers.delete(n);
    }
  }
  for (const name of HOP_BY_HOP) {
    if (keepUpgrade && (name === "upgrade" || name === "connection")) continue;
    headers.delete(name);
  }
  return headers;
}

export function isWebSocketUpgrade(headers: Headers): boolean {
  return headers.get("upgrade")?.toLowerCase() === "websocket";
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
  /** Also write RFC 7239 Forwarded. */
  forwarded: boolean;
  /** Lower-case names stripped from requests and responses. */
  internal: readonly string[];
  /** Lower-case client-identity and original-URL names stripped when the client is not trusted. */
  untrusted: readonly string[];
}

/** RFC 7239 node: IPv6 addresses are quoted and bracketed. */
const forwardedNode = (ip: string) => (ip.includes(":") ? `"[${ip}]"` : ip);

/** The headers a backend receives: the client's, minus hop-by-hop and internal ones, plus forwarding headers. */
export function upstreamRequestHeaders(incoming: Headers, facts: ForwardFacts): Headers {
  const headers = stripHopByHop(new Headers(incoming), isWebSocketUpgrade(incoming));
  for (const name of facts.internal) headers.delete(name);
  if (!facts.trusted) for (const name of facts.untrusted) headers.delete(name);
  const prior = facts.trusted ? incoming.get("x-forwarded-for") : null;
  if (facts.clientIp) headers.set("x-forwarded-for", prior ? `${prior}, ${facts.clientIp}` : facts.clientIp);
  else if (!facts.trusted) headers.delete("x-forwarded-for");
  headers.set("x-forwarded-proto", facts.proto);
  if (facts.host) headers.set("x-forwarded-host", facts.host);
  headers.set("x-request-id", facts.requestId);
  if (facts.forwarded) {
    const parts = [];
    if (facts.clientIp) parts.push(`for=${forwardedNode(facts.clientIp)}`);
    parts.push(`proto=${facts.proto}`);
    if (facts.host) parts.push(`host="${facts.host}"`);
    const element = parts.join(";");
    const priorForwarded = facts.trusted ? incoming.get("forwarded") : null;
    headers.set("forwarded", priorForwarded ? `${priorForwarded}, ${element}` : element);
  } else if (!facts.trusted) {
    headers.delete("forwarded");
  }
  return headers;
}

/** The headers a client receives from a backend response, minus hop-by-hop. */
export function downstreamResponseHeaders(upstream: Headers): Headers {
  return stripHopByHop(new Headers(upstream));
}

/** The URL to fetch: the backend's base URL with the request path appended (no doubled slash) and the query. */
export function upstreamUrl(base: URL, path: string, search: string): URL {
  const url = new URL(base);
  const basePath = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = basePath + path;
  url.search = search;
  return url;
}

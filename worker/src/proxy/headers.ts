// Header hygiene between client and backend: hop-by-hop headers never cross the proxy (RFC 9110 §7.6.1), and
// the X-Forwarded-* trio is written from what the edge saw, never copied from the client.

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

/** Removes hop-by-hop headers, including any the Connection header names. Mutates and returns `headers`. */
export function stripHopByHop(headers: Headers): Headers {
  const listed = headers.get("connection");
  if (listed) {
    for (const name of listed.split(",")) {
      const n = name.trim().toLowerCase();
      if (n) headers.delete(n);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
  return headers;
}

export interface ForwardFacts {
  /** The client IP from CF-Connecting-IP; "" when unknown. */
  clientIp: string;
  /** "http" or "https", as the client connected to the edge. */
  proto: string;
  /** The Host the client asked for, port included. */
  host: string;
}

/** The headers a backend receives: the client's, minus hop-by-hop, plus X-Forwarded-For/-Proto/-Host. */
export function upstreamRequestHeaders(incoming: Headers, facts: ForwardFacts): Headers {
  const headers = stripHopByHop(new Headers(incoming));
  if (facts.clientIp) headers.set("x-forwarded-for", facts.clientIp);
  else headers.delete("x-forwarded-for");
  headers.set("x-forwarded-proto", facts.proto);
  if (facts.host) headers.set("x-forwarded-host", facts.host);
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

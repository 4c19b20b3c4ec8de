// The value types of the rules language and the fields it knows, each with its type and how to read it.
import type { RequestFields } from "./request.ts";

export type Type =
  | { k: "bool" }
  | { k: "int" }
  | { k: "string" }
  | { k: "ip" }
  | { k: "array"; of: Type }
  | { k: "map"; of: Type };

export const T = {
  bool: { k: "bool" } as Type,
  int: { k: "int" } as Type,
  string: { k: "string" } as Type,
  ip: { k: "ip" } as Type,
  array: (of: Type): Type => ({ k: "array", of }),
  map: (of: Type): Type => ({ k: "map", of }),
};

export function typeName(t: Type): string {
  switch (t.k) {
    case "bool":
      return "Boolean";
    case "int":
      return "Integer";
    case "string":
      return "String";
    case "ip":
      return "IP address";
    case "array":
      return `Array<${typeName(t.of)}>`;
    case "map":
      return `Map<${typeName(t.of)}>`;
  }
}

/** The type name with its article: "a String", "an IP address", "an Array<String>". */
export function aType(t: Type): string {
  const n = typeName(t);
  return /^[AEIOU]/.test(n) ? `an ${n}` : `a ${n}`;
}

export function sameType(a: Type, b: Type): boolean {
  if (a.k !== b.k) return false;
  if ((a.k === "array" || a.k === "map") && (b.k === "array" || b.k === "map")) return sameType(a.of, b.of);
  return true;
}

export interface FieldDef {
  type: Type;
  /** Reads the value; `undefined` is Cloudflare's "missing value" (comparisons with it are false). */
  read: (f: RequestFields) => unknown;
  /** True when the L4 sidecar can provide it (it sees only the client address). */
  l4?: boolean;
  description: string;
}

const strArrMap = T.map(T.array(T.string));
const strArr = T.array(T.string);

const headerString = (name: string) => (f: RequestFields) => f.header(name) ?? "";

export const FIELDS: Readonly<Record<string, FieldDef>> = {
  "http.host": { type: T.string, read: (f) => f.host(), description: "Host name of the request URL." },
  "http.request.method": { type: T.string, read: (f) => f.method(), description: "Method in upper case." },
  "http.request.uri": { type: T.string, read: (f) => f.uri(), description: 'Path and query, e.g. "/a?b=1".' },
  "http.request.uri.path": {
    type: T.string,
    read: (f) => f.path(),
    description: "Path, without the query, normalised (forwarding.normalize_path).",
  },
  "raw.http.request.uri.path": {
    type: T.string,
    read: (f) => f.rawPath(),
    description: "Path, without the query, exactly as received.",
  },
  "raw.http.request.uri": {
    type: T.string,
    read: (f) => f.uri(true),
    description: "Path and query as received.",
  },
  "raw.http.request.full_uri": {
    type: T.string,
    read: (f) => f.fullUri(true),
    description: "Scheme, host, path and query as received.",
  },
  "http.request.uri.query": { type: T.string, read: (f) => f.query(), description: "Query, without the ?." },
  "http.request.uri.args": {
    type: strArrMap,
    read: (f) => f.args(),
    description: "Query arguments by name, values not decoded.",
  },
  "http.request.uri.args.names": { type: strArr, read: (f) => f.argNames(), description: "Argument names." },
  "http.request.uri.args.values": {
    type: strArr,
    read: (f) => f.argValues(),
    description: "Argument values.",
  },
  "http.request.full_uri": {
    type: T.string,
    read: (f) => f.fullUri(),
    description: "Scheme, host, path, query.",
  },
  "http.request.headers": {
    type: strArrMap,
    read: (f) => f.headers(),
    description: "Headers by lower-case name.",
  },
  "http.request.headers.names": {
    type: strArr,
    read: (f) => [...f.headers().keys()],
    description: "Header names, lower case.",
  },
  "http.request.headers.values": {
    type: strArr,
    read: (f) => [...f.headers().values()].flat(),
    description: "Header values.",
  },
  "http.request.cookies": {
    type: strArrMap,
    read: (f) => f.cookies(),
    description: "Cookies by decoded name.",
  },
  "http.cookie": { type: T.string, read: (f) => f.cookieHeader(), description: "The whole Cookie header." },
  "http.user_agent": {
    type: T.string,
    read: headerString("user-agent"),
    description: "The User-Agent header.",
  },
  "http.referer": { type: T.string, read: headerString("referer"), description: "The Referer header." },
  "http.x_forwarded_for": {
    type: T.string,
    read: headerString("x-forwarded-for"),
    description: "The X-Forwarded-For header (as sent; not trusted for ip.src).",
  },
  ssl: { type: T.bool, read: (f) => f.ssl(), description: "True when the request URL is https." },
  "ip.src": { type: T.ip, read: (f) => f.ip(), l4: true, description: "The client address." },
  "ip.src.country": {
    type: T.string,
    read: (f) => f.req.country,
    description: "Two-letter country code of the client (request.cf.country).",
  },
  "ip.src.asnum": { type: T.int, read: (f) => f.req.asn, description: "Client AS number (request.cf.asn)." },
};

/** Cloudflare's older names for the same fields. */
export const FIELD_ALIASES: Readonly<Record<string, string>> = {
  "ip.geoip.country": "ip.src.country",
  "ip.geoip.asnum": "ip.src.asnum",
};

// Reads the server name (SNI) from the start of a TLS connection, the ClientHello, without terminating TLS, and
// matches it against a tls listener's `sni` table. Pure: bytes in, a verdict out.

/** The most ClientHello bytes the sidecar buffers before giving up (records are at most 16 KiB). */
export const MAX_HELLO_BYTES = 16 * 1024 + 5;

export type HelloResult =
  | { status: "need-more" }
  | { status: "done"; value: { serverName?: string } }
  | { status: "invalid"; reason: string };

/**
 * Parses the ClientHello at the start of `data` (TLS records may split it). "need-more" until a whole
 * ClientHello is there; "done" with the server name, if the client sent one; "invalid" for anything else.
 */
export function parseClientHello(data: Uint8Array): HelloResult {
  // Reassemble the handshake message from consecutive handshake records.
  const parts: Uint8Array[] = [];
  let have = 0;
  let need = -1; // handshake bytes needed: 4 (header) + length, once the header is known
  let off = 0;
  while (need < 0 || have < need) {
    if (data.length < off + 5) return { status: "need-more" };
    if (data[off] !== 0x16) return { status: "invalid", reason: "not a TLS handshake record" };
    if (data[off + 1] !== 0x03) return { status: "invalid", reason: "unknown TLS record version" };
    const len = (data[off + 3]! << 8) | data[off + 4]!;
    if (len === 0 || len > 16384 + 2048) return { status: "invalid", reason: "bad TLS record length" };
    if (data.length < off + 5 + len) return { status: "need-more" };
    parts.push(data.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const head = concat(parts, 4);
      if (head[0] !== 0x01)
        return { status: "invalid", reason: "the first handshake message is not a ClientHello" };
      need = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
      if (need > MAX_HELLO_BYTES) return { status: "invalid", reason: "ClientHello too large" };
    }
  }
  const hello = concat(parts, need).subarray(4);
  return readServerName(hello);
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0]!.subarray(0, n);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    if (at >= n) break;
    const take = p.subarray(0, Math.min(p.length, n - at));
    out.set(take, at);
    at += take.length;
  }
  return out;
}

function readServerName(h: Uint8Array): HelloResult {
  const bad = { status: "invalid", reason: "malformed ClientHello" } as const;
  let p = 2 + 32; // client_version, random
  if (p >= h.length) return bad;
  p += 1 + h[p]!; // session_id
  if (p + 2 > h.length) return bad;
  p += 2 + ((h[p]! << 8) | h[p + 1]!); // cipher_suites
  if (p >= h.length) return bad;
  p += 1 + h[p]!; // compression_methods
  if (p === h.length) return { status: "done", value: {} }; // no extensions at all
  if (p + 2 > h.length) return bad;
  const end = p + 2 + ((h[p]! << 8) | h[p + 1]!);
  if (end > h.length) return bad;
  p += 2;
  while (p + 4 <= end) {
    const type = (h[p]! << 8) | h[p + 1]!;
    const len = (h[p + 2]! << 8) | h[p + 3]!;
    p += 4;
    if (p + len > end) return bad;
    if (type === 0) {
      // server_name: list length, then entries of (type, length, name); host_name is type 0.
      let q = p + 2;
      while (q + 3 <= p + len) {
        const nameType = h[q]!;
        const nameLen = (h[q + 1]! << 8) | h[q + 2]!;
        q += 3;
        if (q + nameLen > p + len) return bad;
        if (nameType === 0) {
          const name = new TextDecoder().decode(h.subarray(q, q + nameLen)).toLowerCase();
          return { status: "done", value: { serverName: name.endsWith(".") ? name.slice(0, -1) : name } };
        }
        q += nameLen;
      }
      return { status: "done", value: {} };
    }
    p += len;
  }
  return { status: "done", value: {} };
}

/** A compiled `sni` table: exact names first, then the longest matching wildcard suffix. */
export class SniTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcards: { suffix: string; value: T }[] = [];

  constructor(entries: Iterable<[string, T]>) {
    for (const [pattern, value] of entries) {
      const p = pattern.toLowerCase().replace(/\.$/, "");
      if (p.startsWith("*.")) this.wildcards.push({ suffix: p.slice(1), value });
      else this.exact.set(p, value);
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  match(serverName: string | undefined): T | undefined {
    if (serverName === undefined) return undefined;
    const exact = this.exact.get(serverName);
    if (exact !== undefined) return exact;
    // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com".
    for (const w of this.wildcards)
      if (serverName.endsWith(w.suffix) && serverName.length > w.suffix.length) return w.value;
    return undefined;
  }
}

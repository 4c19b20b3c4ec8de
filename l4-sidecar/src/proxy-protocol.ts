// PROXY protocol headers (HAProxy's spec, v1 text and v2 binary) that tell a backend the client's address.
// Written to the backend right after connect, before any client byte.
import net from "node:net";

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export interface Endpoints {
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
}

/** "::ffff:10.0.0.1" (a dual-stack listener's view of an IPv4 client) → "10.0.0.1". */
function unmap(address: string): string {
  return address.startsWith("::ffff:") && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function proxyHeader(version: "v1" | "v2", e: Endpoints): Buffer {
  let src = unmap(e.srcAddress);
  let dst = unmap(e.dstAddress);
  // Both addresses must be of one family; a v4 client on a v6 listener address is sent as v6 (mapped).
  const v4 = net.isIPv4(src) && net.isIPv4(dst);
  if (!v4) {
    if (net.isIPv4(src)) src = `::ffff:${src}`;
    if (net.isIPv4(dst)) dst = `::ffff:${dst}`;
  }
  if (version === "v1") {
    return Buffer.from(`PROXY ${v4 ? "TCP4" : "TCP6"} ${src} ${dst} ${e.srcPort} ${e.dstPort}\r\n`, "latin1");
  }
  const addrLen = v4 ? 12 : 36;
  const out = Buffer.alloc(16 + addrLen);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, command PROXY
  out[13] = v4 ? 0x11 : 0x21; // AF_INET or AF_INET6, over STREAM
  out.writeUInt16BE(addrLen, 14);
  const ipBytes = (ip: string) => (v4 ? ip.split(".").map(Number) : ipv6Bytes(ip));
  Buffer.from(ipBytes(src)).copy(out, 16);
  Buffer.from(ipBytes(dst)).copy(out, v4 ? 20 : 32);
  out.writeUInt16BE(e.srcPort, v4 ? 24 : 48);
  out.writeUInt16BE(e.dstPort, v4 ? 26 : 50);
  return out;
}

function ipv6Bytes(ip: string): number[] {
  // Expand "::", and an embedded IPv4 tail ("::ffff:1.2.3.4"), into eight 16-bit groups.
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g || "0", 16);
    return [n >> 8, n & 0xff];
  });
}

export interface ProxySource {
  /** Size of the header; the client's own bytes follow it. */
  length: number;
  /** The client the load balancer speaks for; absent for LOCAL / UNKNOWN (its own connections). */
  source?: { address: string; port: number };
}

export type ProxyParse =
  | { status: "need-more" }
  | { status: "done"; value: ProxySource }
  | { status: "invalid"; reason: string };

/**
 * Reads a PROXY protocol header (v1 or v2) at the start of `data`, as a load balancer in front sends it.
 * `length` is the header's size (the client's own bytes follow); `source` is the client it speaks for
 * (absent for LOCAL / UNKNOWN headers: the load balancer's own connections, e.g. its health checks).
 */
/** The most a listener reads looking for a PROXY header: a v2 header with TLVs fits; more is not one. */
export const PROXY_HEADER_MAX = 4096;

export function parseProxyHeader(data: Buffer): ProxyParse {
  if (data.length === 0) return { status: "need-more" };
  if (data[0] === 0x0d) {
    const sigLen = Math.min(data.length, 12);
    if (!data.subarray(0, sigLen).equals(V2_SIGNATURE.subarray(0, sigLen)))
      return bad("not a PROXY v2 signature");
    if (data.length < 16) return { status: "need-more" };
    if (data[12]! >> 4 !== 2) return bad("unsupported PROXY v2 version");
    const length = 16 + data.readUInt16BE(14);
    if (data.length < length) return { status: "need-more" };
    const command = data[12]! & 0x0f;
    const family = data[13]!;
    if (command === 0) return { status: "done", value: { length } }; // LOCAL
    if (command !== 1) return bad("unknown PROXY v2 command");
    if (family === 0x11 && length >= 16 + 12) {
      const address = [...data.subarray(16, 20)].join(".");
      return { status: "done", value: { length, source: { address, port: data.readUInt16BE(24) } } };
    }
    if (family === 0x21 && length >= 16 + 36) {
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(16 + i * 2).toString(16));
      const address = compressV6(groups);
      return { status: "done", value: { length, source: { address, port: data.readUInt16BE(48) } } };
    }
    return { status: "done", value: { length } }; // another family (UNIX, UDP): keep the peer address
  }
  const prefix = "PROXY ";
  const head = data.subarray(0, Math.min(data.length, prefix.length)).toString("latin1");
  if (!prefix.startsWith(head)) return bad("no PROXY header");
  const end = data.indexOf("\r\n");
  if (end < 0) return data.length < 107 ? { status: "need-more" } : bad("PROXY v1 line too long");
  const parts = data.subarray(0, end).toString("latin1").split(" ");
  if (parts[1] === "UNKNOWN") return { status: "done", value: { length: end + 2 } };
  const [, proto, src, , sport] = parts;
  const port = Number(sport);
  if (
    parts.length !== 6 ||
    (proto !== "TCP4" && proto !== "TCP6") ||
    !net.isIP(src ?? "") ||
    !(port > 0 && port < 65536)
  ) {
    return bad("malformed PROXY v1 line");
  }
  return { status: "done", value: { length: end + 2, source: { address: src!, port } } };
}

const bad = (reason: string): ProxyParse => ({ status: "invalid", reason });

/** Eight hex groups → the canonical short IPv6 text (longest run of zero groups as "::"). */
function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(":");
  const text = `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
  // IPv4-mapped addresses read better (and match allow lists) as plain IPv4.
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (m) {
    const hi = Number.parseInt(m[1]!, 16);
    const lo = Number.parseInt(m[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return text;
}

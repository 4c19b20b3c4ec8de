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

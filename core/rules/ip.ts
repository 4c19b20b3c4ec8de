// Pure IPv4/IPv6 parsing and address-set matching (single addresses, CIDRs, explicit a..b ranges).
// Shared by the rules language (`ip.src in {…}`) and the sidecar's allow/deny lists.

/** An IP address. IPv4 is a 32-bit unsigned number; IPv6 a 128-bit bigint. IPv4-mapped IPv6 becomes IPv4. */
export type Ip = { readonly v6: false; readonly n: number } | { readonly v6: true; readonly n: bigint };

/**
 * Dotted-quad IPv4. Leading zeros are rejected: some stacks read them as octal, so "010.0.0.1" is ambiguous (and
 * so every address accepted here is already in canonical form). A loop over the characters rather than a split
 * and a regex per part: it runs for every request whose rules or keys read ip.src (~5k instructions → ~0.3k).
 */
function parseV4(text: string): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + octet;
}

function parseV6(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  let tail = "";
  const dbl = text.indexOf("::");
  if (dbl !== -1) {
    if (text.indexOf("::", dbl + 1) !== -1) return undefined;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseV4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        out.push(Number.parseInt(p, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === undefined || t === undefined) return undefined;
  // An embedded IPv4 is only allowed at the very end.
  if (dbl !== -1 && tail === "" && head.includes(".")) return undefined;
  const missing = 8 - h.length - t.length;
  if (dbl === -1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...new Array<number>(dbl === -1 ? 0 : missing).fill(0), ...t];
  let n = 0n;
  for (const g of all) n = (n << 16n) | BigInt(g);
  return n;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = ~0xffffffffn & ((1n << 128n) - 1n);

/** Parses an IPv4 or IPv6 address (no brackets, no zone id, no port). IPv4-mapped IPv6 (::ffff:a.b.c.d) is IPv4. */
export function parseIp(text: string): Ip | undefined {
  if (text.includes(":")) {
    const n = parseV6(text);
    if (n === undefined) return undefined;
    if ((n & V4_MAPPED_MASK) === V4_MAPPED_PREFIX) return { v6: false, n: Number(n & 0xffffffffn) };
    return { v6: true, n };
  }
  const n = parseV4(text);
  return n === undefined ? undefined : { v6: false, n };
}

/** The network of `ip` with the given prefix length (host bits cleared): 2001:db8:1:2:3::4 /64 → 2001:db8:1:2::. */
export function ipNetwork(ip: Ip, prefix: number): Ip {
  if (ip.v6) {
    const host = (1n << BigInt(128 - Math.max(0, Math.min(128, prefix)))) - 1n;
    return { v6: true, n: ip.n & ~host & ((1n << 128n) - 1n) };
  }
  const bits = Math.max(0, Math.min(32, prefix));
  return { v6: false, n: bits === 0 ? 0 : (ip.n - (ip.n % 2 ** (32 - bits))) >>> 0 };
}

/** Dotted quad of an IPv4 address given as a 32-bit unsigned number. */
export const formatV4 = (n: number): string =>
  `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** Canonical text: dotted quad for IPv4, RFC 5952 compressed form for IPv6. */
export function formatIp(ip: Ip): string {
  if (!ip.v6) return formatV4(ip.n);
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export function ipEquals(a: Ip, b: Ip): boolean {
  return a.v6 === b.v6 && a.n === b.n;
}

/** An inclusive range of addresses of one family. */
export type IpRange = { v6: false; lo: number; hi: number } | { v6: true; lo: bigint; hi: bigint };

/**
 * Parses one set entry: "192.0.2.1", "192.0.2.0/24", "2001:db8::/32" or "198.51.100.3..198.51.100.7".
 * A CIDR with host bits set ("10.1.2.3/8") means its network, as in Cloudflare's inline lists.
 * Returns a message for the user when the entry is not valid.
 */
export function parseIpRange(text: string): IpRange | string {
  const dots = text.indexOf("..");
  if (dots !== -1) {
    const a = parseIp(text.slice(0, dots));
    const b = parseIp(text.slice(dots + 2));
    if (!a || !b) return `"${text}" is not an IP range; write it like "198.51.100.3..198.51.100.7"`;
    if (a.v6 !== b.v6) return `"${text}" mixes IPv4 and IPv6; a range's ends must be of one family`;
    if (a.n > b.n) return `"${text}" is an empty range: its start is after its end`;
    return a.v6 ? { v6: true, lo: a.n, hi: b.n as bigint } : { v6: false, lo: a.n, hi: b.n as number };
  }
  const slash = text.indexOf("/");
  if (slash === -1) {
    const ip = parseIp(text);
    if (!ip) return `"${text}" is not an IP address`;
    return ip.v6 ? { v6: true, lo: ip.n, hi: ip.n } : { v6: false, lo: ip.n, hi: ip.n };
  }
  const addrText = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  // The family is decided by how the address is written: "::ffff:10.0.0.0/104" is an IPv6 prefix.
  const written6 = addrText.includes(":");
  const ip = written6 ? parseV6(addrText) : parseV4(addrText);
  const max = written6 ? 128 : 32;
  if (ip === undefined || !/^(?:0|[1-9][0-9]{0,2})$/.test(bitsText) || Number(bitsText) > max) {
    return `"${text}" is not a CIDR block; write it like "10.0.0.0/8" or "2001:db8::/32" (prefix 0-${max})`;
  }
  const bits = Number(bitsText);
  if (!written6) {
    const size = 2 ** (32 - bits);
    const lo = Math.floor((ip as number) / size) * size;
    return { v6: false, lo, hi: lo + size - 1 };
  }
  const hostMask = (1n << BigInt(128 - bits)) - 1n;
  const lo = (ip as bigint) & ~hostMask & ((1n << 128n) - 1n);
  const range: IpRange = { v6: true, lo, hi: lo | hostMask };
  // A prefix that lies inside ::ffff:0:0/96 matches IPv4 clients, which parseIp reports as IPv4.
  if (bits >= 96 && (lo & V4_MAPPED_MASK) === V4_MAPPED_PREFIX) {
    return { v6: false, lo: Number(lo & 0xffffffffn), hi: Number(range.hi & 0xffffffffn) };
  }
  return range;
}

export class IpSetError extends Error {
  readonly index: number;
  readonly entry: string;
  constructor(index: number, entry: string, message: string) {
    super(message);
    this.name = "IpSetError";
    this.index = index;
    this.entry = entry;
  }
}

/** Sorts and merges overlapping or adjacent ranges so lookups can binary-search. */
function merge<T extends number | bigint>(
  ranges: Array<{ lo: T; hi: T }>,
  next: (x: T) => T,
): { lo: T[]; hi: T[] } {
  ranges.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const lo: T[] = [];
  const hi: T[] = [];
  for (const r of ranges) {
    const last = hi.length - 1;
    if (last >= 0 && r.lo <= next(hi[last]!)) {
      if (r.hi > hi[last]!) hi[last] = r.hi;
    } else {
      lo.push(r.lo);
      hi.push(r.hi);
    }
  }
  return { lo, hi };
}

function search<T extends number | bigint>(lo: readonly T[], hi: readonly T[], n: T): boolean {
  let a = 0;
  let b = lo.length - 1;
  while (a <= b) {
    const mid = (a + b) >> 1;
    if (n < lo[mid]!) b = mid - 1;
    else if (n > hi[mid]!) a = mid + 1;
    else return true;
  }
  return false;
}

/** A compiled set of addresses: built once at config load, O(log n) per lookup. */
export class IpSet {
  private readonly v4lo: number[];
  private readonly v4hi: number[];
  private readonly v6lo: bigint[];
  private readonly v6hi: bigint[];
  readonly size: number;

  private constructor(ranges: readonly IpRange[]) {
    const v4: Array<{ lo: number; hi: number }> = [];
    const v6: Array<{ lo: bigint; hi: bigint }> = [];
    for (const r of ranges) (r.v6 ? v6 : v4).push(r as never);
    const m4 = merge(v4, (x) => x + 1);
    const m6 = merge(v6, (x) => x + 1n);
    this.v4lo = m4.lo;
    this.v4hi = m4.hi;
    this.v6lo = m6.lo;
    this.v6hi = m6.hi;
    this.size = ranges.length;
  }

  static fromRanges(ranges: readonly IpRange[]): IpSet {
    return new IpSet(ranges);
  }

  /** Builds a set from entry strings; throws IpSetError naming the first bad entry. */
  static parse(entries: readonly string[]): IpSet {
    const ranges: IpRange[] = [];
    entries.forEach((entry, index) => {
      const r = parseIpRange(entry.trim());
      if (typeof r === "string") throw new IpSetError(index, entry, r);
      ranges.push(r);
    });
    return new IpSet(ranges);
  }

  has(ip: Ip): boolean {
    return ip.v6 ? search(this.v6lo, this.v6hi, ip.n) : search(this.v4lo, this.v4hi, ip.n);
  }

  /** Parses `text` and looks it up; an unparsable address is in no set. */
  hasText(text: string): boolean {
    const ip = parseIp(text);
    return ip !== undefined && this.has(ip);
  }
}

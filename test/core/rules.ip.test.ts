// The CIDR/IP matcher the rules language and the sidecar's allow/deny lists share.
import { describe, expect, it } from "vitest";
import { formatIp, IpSet, IpSetError, ipNetwork, parseIp, parseIpRange } from "../../core/rules/ip.ts";

describe("parseIp", () => {
  it.each([
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["192.0.2.1", "192.0.2.1"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8::1", "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["fe80:0:0:1:0:0:0:0", "fe80:0:0:1::"],
    ["fe80::1:0:0:0", "fe80::1:0:0:0"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["10.0.100.255", "10.0.100.255"],
    ["1.20.0.9", "1.20.0.9"],
  ])("%s → %s", (text, canonical) => {
    const ip = parseIp(text);
    expect(ip).toBeDefined();
    expect(formatIp(ip!)).toBe(canonical);
  });

  it.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.04",
    "0.0.0.00",
    "1..2.3",
    ".1.2.3",
    "1.2.3.",
    "1.2.3.4 ",
    "+1.2.3.4",
    "1.2.3.1e1",
    "1.2.3.256",
    "999.1.1.1",
    "1.2.3.-1",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "g::1",
    "::1.2.3.4:5",
    "fe80::1%eth0",
    "[::1]",
    "1.2.3.4/24",
  ])("rejects %j", (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe("parseIpRange", () => {
  it("masks host bits of a CIDR", () => {
    expect(parseIpRange("10.1.2.3/8")).toEqual({ v6: false, lo: 0x0a000000, hi: 0x0affffff });
  });
  it("treats /0 as every address of the family", () => {
    expect(parseIpRange("0.0.0.0/0")).toEqual({ v6: false, lo: 0, hi: 0xffffffff });
    expect(parseIpRange("::/0")).toEqual({ v6: true, lo: 0n, hi: (1n << 128n) - 1n });
  });
  it("explains bad entries", () => {
    expect(parseIpRange("10.0.0.0/33")).toMatch(/not a CIDR block.*0-32/);
    expect(parseIpRange("1.2.3.9..1.2.3.4")).toMatch(/start is after its end/);
    expect(parseIpRange("1.2.3.4..::1")).toMatch(/mixes IPv4 and IPv6/);
    expect(parseIpRange("example.com")).toMatch(/not an IP address/);
  });
});

describe("IpSet", () => {
  const set = IpSet.parse([
    "10.0.0.0/8",
    "192.0.2.1",
    "198.51.100.3..198.51.100.7",
    "2001:db8::/32",
    "::1",
    "::ffff:203.0.113.0/120",
  ]);
  it.each([
    ["10.0.0.0", true],
    ["10.255.255.255", true],
    ["11.0.0.0", false],
    ["9.255.255.255", false],
    ["192.0.2.1", true],
    ["192.0.2.2", false],
    ["198.51.100.2", false],
    ["198.51.100.3", true],
    ["198.51.100.7", true],
    ["198.51.100.8", false],
    ["2001:db8::", true],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db9::", false],
    ["::1", true],
    ["::2", false],
    ["203.0.113.9", true],
    ["::ffff:10.1.1.1", true],
    ["not-an-ip", false],
  ])("%s → %s", (text, expected) => {
    expect(set.hasText(text)).toBe(expected);
  });

  it("merges overlapping and adjacent ranges without losing members", () => {
    const s = IpSet.parse(["10.0.0.0/25", "10.0.0.128/25", "10.0.0.5..10.0.1.3", "10.0.0.0/24"]);
    for (const last of [0, 127, 128, 255]) expect(s.hasText(`10.0.0.${last}`)).toBe(true);
    expect(s.hasText("10.0.1.3")).toBe(true);
    expect(s.hasText("10.0.1.4")).toBe(false);
  });

  it("names the first bad entry", () => {
    try {
      IpSet.parse(["10.0.0.0/8", "10.0.0.0/99"]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(IpSetError);
      expect((e as IpSetError).index).toBe(1);
      expect((e as IpSetError).entry).toBe("10.0.0.0/99");
    }
  });

  it("matches large sets by binary search", () => {
    const entries = Array.from({ length: 2000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const s = IpSet.parse(entries);
    expect(s.hasText("10.7.207.9")).toBe(true);
    expect(s.hasText("10.8.0.1")).toBe(false);
  });
});

describe("ipNetwork", () => {
  it("clears host bits for IPv6 and IPv4 prefixes", () => {
    const net = (ip: string, p: number) => formatIp(ipNetwork(parseIp(ip)!, p));
    expect(net("2001:db8:1:2:3:4:5:6", 64)).toBe("2001:db8:1:2::");
    expect(net("2001:db8:1:2:3:4:5:6", 128)).toBe("2001:db8:1:2:3:4:5:6");
    expect(net("2001:db8::1", 0)).toBe("::");
    expect(net("198.51.100.200", 24)).toBe("198.51.100.0");
    expect(net("255.255.255.255", 1)).toBe("128.0.0.0");
    expect(net("198.51.100.7", 32)).toBe("198.51.100.7");
  });
});

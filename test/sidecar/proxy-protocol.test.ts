// PROXY protocol towards backends: the header bytes (v1 text, v2 binary) and, over real sockets, that the
// backend gets the header with the client's real address before the client's bytes.

import net from "node:net";
import { describe, expect, it } from "vitest";
import { parseProxyHeader, proxyHeader } from "../../l4-sidecar/src/proxy-protocol.ts";
import { backend, connect, startSidecar, tcpConfig, useDataPath, waitFor } from "./helpers.ts";

const SIG = "0d0a0d0a000d0a515549540a";

describe("PROXY protocol header", () => {
  it("v1: TCP4 for IPv4 (also when seen through a dual-stack socket), TCP6 otherwise", () => {
    const e = { srcAddress: "192.0.2.7", srcPort: 51000, dstAddress: "10.0.0.1", dstPort: 6379 };
    expect(proxyHeader("v1", e).toString()).toBe("PROXY TCP4 192.0.2.7 10.0.0.1 51000 6379\r\n");
    expect(
      proxyHeader("v1", { ...e, srcAddress: "::ffff:192.0.2.7", dstAddress: "::ffff:10.0.0.1" }).toString(),
    ).toBe("PROXY TCP4 192.0.2.7 10.0.0.1 51000 6379\r\n");
    expect(proxyHeader("v1", { ...e, srcAddress: "2001:db8::7", dstAddress: "::1" }).toString()).toBe(
      "PROXY TCP6 2001:db8::7 ::1 51000 6379\r\n",
    );
  });

  it("v2: signature, PROXY command, family, length, addresses and ports in network order", () => {
    const v4 = proxyHeader("v2", {
      srcAddress: "192.0.2.7",
      srcPort: 51000,
      dstAddress: "10.0.0.1",
      dstPort: 6379,
    });
    expect(v4.toString("hex")).toBe(`${SIG}2111000cc00002070a000001c7381 8eb`.replace(/ /g, ""));
    const v6 = proxyHeader("v2", {
      srcAddress: "2001:db8::7",
      srcPort: 1,
      dstAddress: "::ffff:10.0.0.1",
      dstPort: 2,
    });
    expect(v6.length).toBe(16 + 36);
    expect(v6.subarray(12, 16).toString("hex")).toBe("21210024");
    expect(v6.subarray(16, 32).toString("hex")).toBe("20010db8000000000000000000000007");
    expect(v6.subarray(32, 48).toString("hex")).toBe("00000000000000000000ffff0a000001");
    expect(v6.readUInt16BE(48)).toBe(1);
    expect(v6.readUInt16BE(50)).toBe(2);
  });
});

describe("PROXY protocol through the sidecar", () => {
  it.each(["v1", "v2"] as const)(
    "%s: the backend reads the header, then the client's bytes",
    async (version) => {
      const received: Buffer[] = [];
      const b = await backend((s) => {
        s.on("data", (d: Buffer) => received.push(d));
        s.on("end", () => s.end());
      });
      const { port } = await startSidecar(tcpConfig([b.address], { proxy_protocol: version }));
      const c = await connect(port);
      const clientPort = c.localPort!; // read now: a closed socket no longer knows it
      c.end("hello");
      await waitFor(() => Buffer.concat(received).toString("latin1").endsWith("hello"));
      const all = Buffer.concat(received);
      const header =
        version === "v1"
          ? Buffer.from(`PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${port}\r\n`)
          : proxyHeader("v2", {
              srcAddress: "127.0.0.1",
              srcPort: clientPort,
              dstAddress: "127.0.0.1",
              dstPort: port,
            });
      expect(all.subarray(0, header.length).equals(header)).toBe(true);
      expect(all.subarray(header.length).toString()).toBe("hello");
    },
  );
});

describe.each(["native", "raw", "socket"])(
  "PROXY protocol from a load balancer in front (%s data path)",
  (mode) => {
    useDataPath(mode);

    it("parses v1 and v2 headers, LOCAL/UNKNOWN ones, partial ones, and rejects others", () => {
      const e = { srcAddress: "192.0.2.7", srcPort: 51000, dstAddress: "10.0.0.1", dstPort: 6379 };
      const v1 = proxyHeader("v1", e);
      expect(parseProxyHeader(Buffer.concat([v1, Buffer.from("rest")]))).toEqual({
        status: "done",
        value: { length: v1.length, source: { address: "192.0.2.7", port: 51000 } },
      });
      const v2 = proxyHeader("v2", e);
      expect(parseProxyHeader(v2)).toEqual({
        status: "done",
        value: { length: 28, source: { address: "192.0.2.7", port: 51000 } },
      });
      const v6 = proxyHeader("v2", { ...e, srcAddress: "2001:db8::7", dstAddress: "::1" });
      expect(parseProxyHeader(v6)).toEqual({
        status: "done",
        value: { length: 52, source: { address: "2001:db8::7", port: 51000 } },
      });
      const local = Buffer.from(v2);
      local[12] = 0x20;
      expect(parseProxyHeader(local)).toEqual({ status: "done", value: { length: 28 } });
      expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"))).toEqual({
        status: "done",
        value: { length: 15 },
      });
      expect(parseProxyHeader(v1.subarray(0, 10)).status).toBe("need-more");
      expect(parseProxyHeader(v2.subarray(0, 20)).status).toBe("need-more");
      expect(parseProxyHeader(Buffer.from("GET / HTTP/1.1\r\n")).status).toBe("invalid");
      expect(parseProxyHeader(Buffer.from("PROXY TCP4 nope 10.0.0.1 1 2\r\n")).status).toBe("invalid");
    });

    it("uses the client the header names for allow/deny, logs and the header sent on", async () => {
      const received: Buffer[] = [];
      const b = await backend((s) => {
        s.on("data", (d: Buffer) => received.push(d));
        s.on("end", () => s.end());
      });
      const { port, connections } = await startSidecar(
        tcpConfig([b.address], {
          accept_proxy_protocol: true,
          proxy_protocol_from: ["127.0.0.1"],
          proxy_protocol: "v1",
          allow: ["192.0.2.0/24"],
        }),
      );
      const send = (bytes: string | Buffer) =>
        new Promise<void>((resolve) => {
          const c = net.connect(port, "127.0.0.1", () => c.end(bytes));
          c.on("error", () => {});
          c.on("data", () => {});
          c.on("close", () => resolve());
        });
      await send("PROXY TCP4 192.0.2.9 10.0.0.1 5555 6379\r\nhello");
      await waitFor(() => Buffer.concat(received).toString().endsWith("hello"));
      expect(Buffer.concat(received).toString()).toBe(`PROXY TCP4 192.0.2.9 127.0.0.1 5555 ${port}\r\nhello`);
      await send("PROXY TCP4 198.51.100.1 10.0.0.1 5555 6379\r\nsneaky"); // not in allow
      await send("hello without a header");
      await waitFor(() => connections().length === 3);
      expect(connections().map((l) => [l.client, l.closed_by])).toEqual([
        ["192.0.2.9:5555", "client"],
        ["198.51.100.1:5555", "denied"],
        [expect.stringMatching(/^127\.0\.0\.1:/), "bad-proxy-header"],
      ]);
      expect(connections()[0]!.via).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(Buffer.concat(received).toString()).not.toContain("sneaky");
    });
  },
);

// PROXY protocol towards backends: the header bytes (v1 text, v2 binary) and, over real sockets, that the
// backend gets the header with the client's real address before the client's bytes.
import { describe, expect, it } from "vitest";
import { proxyHeader } from "../../l4-sidecar/src/proxy-protocol.ts";
import { backend, connect, startSidecar, tcpConfig, waitFor } from "./helpers.ts";

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

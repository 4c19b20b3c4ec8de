// Property tests (fast-check) for what the sidecar reads from untrusted clients: the PROXY v1/v2 and ClientHello
// parsers never throw (a bad prelude is an "invalid" verdict, their one error form) and always answer, on any
// bytes; well-formed input round-trips; and the decision machine keeps its books on any order of events.
// 2,000 cases per property; SWITCHYARD_FUZZ_RUNS=100000 runs longer.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/index.ts";
import { IpSet } from "../../core/rules/ip.ts";
import { type Action, ListenerPolicy } from "../../l4-sidecar/src/connection.ts";
import { ServicePool } from "../../l4-sidecar/src/pool.ts";
import { parseProxyHeader, proxyHeader } from "../../l4-sidecar/src/proxy-protocol.ts";
import { parseClientHello } from "../../l4-sidecar/src/sni.ts";
import { ListenerStats } from "../../l4-sidecar/src/stats.ts";
import { clientHello } from "./helpers.ts";

const numRuns = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? 2000);
const STATUSES = ["need-more", "done", "invalid"];

const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
/** Valid input with a few bytes flipped, cut short or extended: where parsers' bounds checks are tried. */
function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      bytes,
    )
    .map(([b, flips, cut, tail]) => {
      const out = Buffer.from(b);
      for (const [at, v] of flips) if (out.length) out[at % out.length] = v;
      return Buffer.concat([
        out.subarray(0, out.length ? cut % (out.length + 1) : 0),
        tail.subarray(0, cut % 8),
      ]);
    });
}

const ipv4 = fc.ipV4();
const endpoints = fc.record({
  srcAddress: fc.oneof(ipv4, fc.ipV6()),
  srcPort: fc.integer({ min: 1, max: 65535 }),
  dstAddress: ipv4,
  dstPort: fc.integer({ min: 1, max: 65535 }),
});
const header = fc
  .tuple(fc.constantFrom("v1" as const, "v2" as const), endpoints)
  .map(([v, e]) => proxyHeader(v, e));
const hostname = fc.domain();
const hello = fc.option(hostname, { nil: undefined }).map((n) => clientHello(n));

describe("prelude parsers on any bytes", () => {
  it.each([
    { name: "PROXY", parse: parseProxyHeader, valid: header },
    { name: "ClientHello", parse: parseClientHello, valid: hello },
  ])("$name: any bytes, or mutated valid input, get a verdict and never a throw", ({ parse, valid }) => {
    fc.assert(
      fc.property(fc.oneof(bytes, mutated(valid)), (data) => {
        expect(STATUSES).toContain(parse(data).status);
      }),
      { numRuns },
    );
  });

  it("PROXY: a header the sidecar writes is read back with its source, whatever follows it", () => {
    fc.assert(
      fc.property(fc.constantFrom("v1" as const, "v2" as const), endpoints, bytes, (v, e, rest) => {
        const h = proxyHeader(v, e);
        const r = parseProxyHeader(Buffer.concat([h, rest]));
        expect(r.status).toBe("done");
        if (r.status !== "done") return;
        expect(r.value.length).toBe(h.length);
        expect(r.value.source!.port).toBe(e.srcPort);
        // Addresses come back canonical: the same set of bytes.
        expect(IpSet.parse([r.value.source!.address]).hasText(e.srcAddress.replace(/^::ffff:/, ""))).toBe(
          true,
        );
        // Every proper prefix asks for more.
        for (const cut of [1, Math.floor(h.length / 2), h.length - 1])
          expect(parseProxyHeader(h.subarray(0, cut)).status).toBe("need-more");
      }),
      { numRuns },
    );
  });

  it("ClientHello: the server name of a well-formed hello is found, in lower case, also when records split it", () => {
    fc.assert(
      fc.property(hostname, fc.integer({ min: 1, max: 40 }), (name, split) => {
        const h = clientHello(name);
        expect(parseClientHello(h)).toEqual({ status: "done", value: { serverName: name.toLowerCase() } });
        // The same handshake in two records.
        const body = h.subarray(5);
        const at = Math.min(split, body.length - 1);
        const rec = (b: Buffer) =>
          Buffer.concat([Buffer.from([0x16, 3, 1, b.length >> 8, b.length & 255]), b]);
        const two = Buffer.concat([rec(body.subarray(0, at)), rec(body.subarray(at))]);
        expect(parseClientHello(two)).toEqual({ status: "done", value: { serverName: name.toLowerCase() } });
        expect(parseClientHello(two.subarray(0, two.length - 1)).status).toBe("need-more");
      }),
      { numRuns },
    );
  });
});

describe("the decision machine under any order of events", () => {
  const config = parseConfig({
    services: [
      {
        name: "svc",
        backends: ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"].map((address) => ({ address })),
        passive: { failures: 2, eject: "1s" },
      },
    ],
    listeners: [
      {
        name: "l",
        listen: "127.0.0.1:0",
        service: "svc",
        protocol: "tls",
        accept_proxy_protocol: true,
        proxy_protocol_from: ["127.0.0.0/8"],
        max_connections: 5,
        max_prelude_per_source: 3,
        max_prelude_connections: 4,
      },
    ],
  });
  const event = fc.oneof(
    fc.record({
      e: fc.constant("accept" as const),
      ip: fc.constantFrom("127.0.0.1", "127.0.0.2", "10.9.9.9"),
    }),
    fc.record({
      e: fc.constant("prelude" as const),
      k: fc.nat(),
      data: fc.oneof(
        bytes,
        header,
        fc.tuple(header, hello).map(([a, b]) => Buffer.concat([a, b])),
      ),
      ended: fc.boolean(),
    }),
    fc.record({ e: fc.constant("timeout" as const), k: fc.nat() }),
    fc.record({ e: fc.constant("connected" as const), k: fc.nat() }),
    fc.record({
      e: fc.constant("failed" as const),
      k: fc.nat(),
      code: fc.constantFrom("SY_CONNECT_REFUSED" as const, "SY_CONNECT_TIMEOUT" as const),
    }),
    fc.record({ e: fc.constant("closed" as const), k: fc.nat() }),
  );

  it("never throws; open, prelude and backend counts return to zero once every connection is over", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const pool = new ServicePool(config.services[0]!, new Map());
        const l = config.listeners[0]!;
        const stats = new ListenerStats();
        const policy = new ListenerPolicy(
          { listener: l, pool, proxyFrom: IpSet.parse(l.proxy_protocol_from!) },
          stats,
        );
        const conns: ReturnType<ListenerPolicy["accepted"]>["conn"][] = [];
        const pick = (k: number) => conns[k % Math.max(1, conns.length)];
        for (const ev of events) {
          let a: Action | undefined;
          if (ev.e === "accept") {
            const r = policy.accepted({ address: ev.ip, port: 1000 });
            conns.push(r.conn);
            a = r.action;
          } else if (conns.length === 0) continue;
          else if (ev.e === "prelude") a = pick(ev.k)!.prelude(ev.data, ev.ended);
          else if (ev.e === "timeout") a = pick(ev.k)!.preludeTimedOut();
          else if (ev.e === "connected") a = pick(ev.k)!.connected();
          else if (ev.e === "failed") a = pick(ev.k)!.connectFailed(ev.code);
          else a = pick(ev.k)!.closed(1, 1, "client");
          expect(["refuse", "read", "connect", "splice", "close", "log", "drop"]).toContain(a.do);
          expect(policy.open).toBeLessThanOrEqual(l.max_connections);
          expect(policy.inPrelude).toBeLessThanOrEqual(l.max_prelude_connections);
        }
        for (const c of conns) c.closed(0, 0, "shutdown");
        expect(policy.open).toBe(0);
        expect(policy.inPrelude).toBe(0);
        expect(policy.preludeBySource.size).toBe(0);
        expect(stats.active).toBe(0);
        expect(pool.backends.map((b) => b.state.active)).toEqual([0, 0, 0]);
      }),
      { numRuns },
    );
  });
});

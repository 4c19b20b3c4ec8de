// listeners: the sidecar's L4 ports, the TCP service each one balances, and its connection limits.
import * as z from "zod/mini";
import { IpSet, IpSetError } from "../../rules/ip.ts";
import { DEFAULTS } from "../defaults.ts";
import { type Describe, nameDescription } from "../describe.ts";
import { duration, hostname, hostPort, name } from "../fields.ts";

export const LISTENER_PROTOCOLS = ["tcp", "tls", "udp"] as const;

const ipList = () =>
  z.optional(
    z.array(z.string()).check(
      z.superRefine((entries: string[], ctx) => {
        try {
          IpSet.parse(entries);
        } catch (e) {
          if (!(e instanceof IpSetError)) throw e;
          ctx.addIssue({
            code: "custom",
            path: [e.index],
            message: `${JSON.stringify(e.entry)}: ${e.message}`,
          });
        }
      }),
    ),
  );

const L = DEFAULTS.listener;

export const listenerSchema = z
  .strictObject({
    name: name("listener"),
    listen: hostPort(),
    protocol: z._default(z.enum(LISTENER_PROTOCOLS), L.protocol),
    service: z.string(),
    sni: z.optional(z.record(hostname, z.string())),
    connect_timeout: z.prefault(duration(), L.connectTimeout),
    connect_attempts: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(100)), L.connectAttempts),
    idle_timeout: z.prefault(duration(), L.idleTimeout),
    max_connections: z._default(z.number().check(z.int(), z.minimum(1)), L.maxConnections),
    max_prelude_connections: z._default(z.number().check(z.int(), z.minimum(1)), L.maxPreludeConnections),
    max_prelude_per_source: z._default(z.number().check(z.int(), z.minimum(1)), L.maxPreludePerSource),
    allow: ipList(),
    deny: ipList(),
    tcp_keepalive: z.prefault(duration(), L.tcpKeepalive),
    no_delay: z._default(z.boolean(), L.noDelay),
    accept_proxy_protocol: z._default(z.boolean(), false),
    proxy_protocol_from: ipList(),
    proxy_protocol: z.optional(z.enum(["v1", "v2"])),
  })
  .check(
    z.superRefine((l, ctx) => {
      if (l.sni !== undefined && l.protocol !== "tls") {
        ctx.addIssue({
          code: "custom",
          path: ["sni"],
          message: '"sni" needs protocol = "tls" (it routes by the TLS server name)',
        });
      }
      if (l.accept_proxy_protocol && l.proxy_protocol_from === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["proxy_protocol_from"],
          message:
            'accept_proxy_protocol needs proxy_protocol_from: the addresses of the load balancers allowed to send PROXY headers (e.g. ["10.0.1.0/24"]); without it any client could name itself',
        });
      }
      if (!l.accept_proxy_protocol && l.proxy_protocol_from !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["proxy_protocol_from"],
          message:
            "proxy_protocol_from needs accept_proxy_protocol = true (it names who may send PROXY headers)",
        });
      }
    }),
  );

export type Listener = z.output<typeof listenerSchema>;

export function listenerDescriptions(d: Describe): void {
  d(listenerSchema, "An L4 listener of the sidecar.");
  d.fields(listenerSchema, {
    name: nameDescription("listener"),
    listen: 'Address the sidecar listens on, e.g. "0.0.0.0:6379" or "127.0.0.1:15432".',
    protocol:
      'Transport: "tcp"; "tls" for TLS passthrough (the sidecar reads the server name (SNI) from the ClientHello to pick a service from `sni`, and pipes the encrypted bytes untouched); or "udp" (a session per client address, ended after idle_timeout). Default "tcp".',
    service:
      "Name of the TCP service whose backends receive the connections (for tls listeners: when no `sni` entry matches).",
    sni: 'tls listeners: server name → service, e.g. { "db.example.com" = "db", "*.example.com" = "web" } (a wildcard matches one or more labels, not the apex). Exact names win over wildcards, longer wildcards over shorter.',
    connect_timeout:
      'How long a connect to one backend may take before the next backend is tried. Default "5s".',
    connect_attempts:
      "Most backends tried per connection when connects fail (each a different backend; nothing was sent yet). Default 3.",
    idle_timeout:
      'A connection with no bytes either way for this long is closed; "0s" never closes idle connections. Default "1h".',
    max_connections:
      "Most open client connections on this listener; more are refused at once (and counted). Default 10000.",
    max_prelude_connections: `Listeners that read a prelude (tls, accept_proxy_protocol): most connections still sending it (a PROXY header, a ClientHello) at once; more are refused. Separate from max_connections, so slow clients cannot fill it. Default ${L.maxPreludeConnections}.`,
    max_prelude_per_source: `Listeners that read a prelude: most connections still sending it from one client address (the load balancer's until its PROXY header names the client). Default ${L.maxPreludePerSource}.`,
    allow:
      'Client addresses allowed to connect: IPs, CIDRs ("10.0.0.0/8", "2001:db8::/32") or ranges. Default: everyone.',
    deny: "Client addresses refused even when allowed, e.g. a bad subnet inside an allowed range.",
    tcp_keepalive:
      'TCP keep-alive idle time on both sides (client and backend); "0s" turns keep-alive off. Default "60s".',
    no_delay: "Disable Nagle's algorithm on both sides (TCP_NODELAY), for latency. Default true.",
    accept_proxy_protocol:
      "Expect a PROXY protocol header (v1 or v2) from a load balancer in front at the start of every connection: the client it names is used for allow/deny, balancing, logs and an outgoing proxy_protocol header. Needs proxy_protocol_from. Default false.",
    proxy_protocol_from:
      'With accept_proxy_protocol (required then): the load balancers allowed to send PROXY headers, e.g. ["10.0.1.0/24"]. A connection from any other address is refused before its header is read.',
    proxy_protocol:
      'Send a PROXY protocol header ("v1" text or "v2" binary) to the backend before the client\'s bytes, so it sees the client address. The backend must expect it. Default: none.',
  });
}

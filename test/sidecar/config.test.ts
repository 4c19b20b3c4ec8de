// The sidecar's config fields as users get them wrong: each problem reported with its path, in a sentence.
import { describe, expect, it } from "vitest";
import { checkConfig, renderProblem } from "../../core/config/index.ts";

const svc = { name: "db", backends: [{ address: "127.0.0.1:5432" }] };
const problems = (listener: Record<string, unknown>, services: unknown[] = [svc]) =>
  checkConfig({ services, listeners: [{ name: "l", listen: "127.0.0.1:6000", service: "db", ...listener }] })
    .problems.map(renderProblem)
    .sort();

describe("sidecar config checks", () => {
  it("fills the listener defaults", () => {
    const { config } = checkConfig({
      services: [svc],
      listeners: [{ name: "l", listen: "127.0.0.1:6000", service: "db" }],
    });
    expect(config!.listeners[0]).toMatchObject({
      protocol: "tcp",
      connect_timeout: 5000,
      connect_attempts: 3,
      idle_timeout: 3_600_000,
      max_connections: 10_000,
      tcp_keepalive: 60_000,
      no_delay: true,
    });
  });

  it("names a bad CIDR in allow/deny by its index", () => {
    const out = problems({ allow: ["10.0.0.0/8", "10.0.0.0/33"], deny: ["not-an-ip"] });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^listeners\[0\]\.allow\[1\]: "10\.0\.0\.0\/33"/);
    expect(out[1]).toMatch(/^listeners\[0\]\.deny\[0\]: "not-an-ip"/);
  });

  it("checks sni: only on tls listeners, and every service it names must exist with TCP backends", () => {
    expect(problems({ sni: { "a.example.com": "db" } })).toEqual([
      'listeners[0].sni: "sni" needs protocol = "tls" (it routes by the TLS server name)',
    ]);
    const web = { name: "web", backends: [{ url: "http://127.0.0.1:8080" }] };
    expect(
      problems({ protocol: "tls", sni: { "a.example.com": "nope", "*.example.org": "web" } }, [svc, web]),
    ).toEqual([
      'listeners[0].sni["*.example.org"]: service "web" has HTTP backends (url); a listener needs a service with TCP backends (address)',
      'listeners[0].sni["a.example.com"]: no service named "nope" (services: db, web)',
    ]);
    expect(problems({ protocol: "tls", sni: { "*.example.org": "db" } })).toEqual([]);
  });

  it("rejects unknown proxy_protocol versions and balance algorithms", () => {
    expect(problems({ proxy_protocol: "v3" })[0]).toMatch(/^listeners\[0\]\.proxy_protocol: .*"v1", "v2"/);
    expect(problems({}, [{ ...svc, balance: "fastest" }])[0]).toMatch(/^services\[0\]\.balance: .*"maglev"/);
  });

  it("lets a UDP and a TCP listener share a port, not two of the same transport", () => {
    const two = (p1: string, p2: string) =>
      checkConfig({
        services: [svc],
        listeners: [
          { name: "a", listen: "0.0.0.0:53", protocol: p1, service: "db" },
          { name: "b", listen: "127.0.0.1:53", protocol: p2, service: "db" },
        ],
      }).problems.map(renderProblem);
    expect(two("udp", "tcp")).toEqual([]);
    expect(two("udp", "udp")).toEqual([
      'listeners[1].listen: "127.0.0.1:53" is already used by listeners[0]; two listeners cannot share an address',
    ]);
    expect(two("tls", "tcp")).toHaveLength(1);
  });
});

// ip.src rate-limit keys group IPv6 clients by their /64 (and IPv4 by a prefix when asked), through the real
// rate-limit stage and RateLimiter objects inside workerd: rotating addresses inside a /64 gets no new quota.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { createApp } from "../../worker/src/app.ts";
import { upstreams, url } from "./helpers.ts";

let seq = 0;
function setup(policy: Record<string, unknown> = {}) {
  const name = `prefix-${Date.now()}-${seq++}`;
  const config = {
    services: [{ name: "web", backends: [{ url: url(upstreams.a) }] }],
    routes: [{ name: "limited", service: "web", rate_limit: name }],
    rate_limits: [{ name, key: "ip.src", limit: 1, period: "1m", deadline: "5s", ...policy }],
  } as ConfigInput;
  const app = createApp({ log: () => {} });
  return async (ip: string) => {
    const res = await app.fetch(new Request("http://rl.test/x", { headers: { "cf-connecting-ip": ip } }), {
      ...env,
      SWITCHYARD: config,
    });
    await res.arrayBuffer();
    return res.status;
  };
}

describe("rate-limit keys by network", () => {
  it("counts IPv6 addresses of one /64 as one client by default", async () => {
    const call = setup();
    expect(await call("2001:db8:1:2::1")).toBe(200);
    expect(await call("2001:db8:1:2:ffff::9")).toBe(429);
    expect(await call("2001:db8:1:3::1")).toBe(200);
  });

  it("counts each IPv6 address with ipv6_prefix = 128, and IPv4 networks with ipv4_prefix", async () => {
    const each = setup({ ipv6_prefix: 128 });
    expect(await each("2001:db8:9::1")).toBe(200);
    expect(await each("2001:db8:9::2")).toBe(200);
    const v4 = setup({ ipv4_prefix: 24 });
    expect(await v4("198.51.100.7")).toBe(200);
    expect(await v4("198.51.100.200")).toBe(429);
    expect(await v4("198.51.101.7")).toBe(200);
    const plain = setup();
    expect(await plain("198.51.100.7")).toBe(200);
    expect(await plain("198.51.100.8")).toBe(200);
  });
});

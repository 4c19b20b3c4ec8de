// Every balancer in core/balance, driven through the worker with real requests: each spreads load, hash
// balancers keep a key on one backend (key from a header, cookie, query param or the client IP), and
// least-request avoids a backend with a request in flight.
import { describe, expect, it } from "vitest";
import { HASH_ALGORITHMS, SELECTORS } from "../../core/balance/index.ts";
import type { ConfigInput } from "../../core/config/index.ts";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const backends = [{ url: url(upstreams.a) }, { url: url(upstreams.b) }, { url: url(upstreams.c) }];
const serviceFor = (balance: string, hash?: unknown) =>
  ({
    services: [{ name: "s", backends, balance, ...(hash ? { hash } : {}) }],
    routes: [{ name: "r", service: "s" }],
  }) as unknown as ConfigInput;
const backendOf = async (res: Response) => ((await res.json()) as Echo).backend;

describe.each(Object.keys(SELECTORS))("balance = %s", (algorithm) => {
  const hashed = HASH_ALGORITHMS.has(algorithm);

  it("uses every backend over many requests (many keys for hash balancers)", async () => {
    const { call } = makeCaller(serviceFor(algorithm, hashed ? { header: "x-user" } : undefined));
    const seen = new Map<string, number>();
    for (let i = 0; i < 90; i++) {
      const b = await backendOf(await call("http://h.test/", { headers: { "x-user": `user-${i}` } }));
      seen.set(b, (seen.get(b) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(["a", "b", "c"]);
    for (const n of seen.values()) expect(n).toBeGreaterThan(10);
  });
});

describe.each([...HASH_ALGORITHMS])("balance = %s with a hash key", (algorithm) => {
  it("keeps one key on one backend, for every kind of hash key", async () => {
    const kinds: Array<[unknown, RequestInit | undefined, string]> = [
      [{ header: "x-user" }, { headers: { "x-user": "ann" } }, ""],
      [{ cookie: "uid" }, { headers: { cookie: "uid=ann" } }, ""],
      [{ query: "u" }, undefined, "?u=ann"],
      ["client-ip", { headers: { "cf-connecting-ip": "198.51.100.23" } }, ""],
    ];
    for (const [hash, init, search] of kinds) {
      const { call } = makeCaller(serviceFor(algorithm, hash));
      const first = await backendOf(await call(`http://h.test/${search}`, init));
      for (let i = 0; i < 5; i++)
        expect(await backendOf(await call(`http://h.test/${search}`, init))).toBe(first);
    }
  });
});

describe("least-request through the worker", () => {
  it("avoids a backend whose response is still streaming", async () => {
    const { call } = makeCaller(serviceFor("least-request"));
    // Hold one request in flight: /slow answers at once and keeps its body open for a while.
    const held = await call("http://h.test/slow?ms=3000");
    const busy = held.headers.get("x-backend");
    expect(busy).toMatch(/^[abc]$/);
    const others: string[] = [];
    for (let i = 0; i < 6; i++) others.push(await backendOf(await call("http://h.test/")));
    expect(others).not.toContain(busy);
    await held.text();
    const after = new Set<string>();
    for (let i = 0; i < 6; i++) after.add(await backendOf(await call("http://h.test/")));
    expect(after.has(busy!)).toBe(true);
  });
});

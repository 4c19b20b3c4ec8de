// Routes' `when`: a rules-language expression that must also hold for the route to match; when it does not,
// matching falls through to the next candidate, and a `when` wins over an otherwise equal route without one.
import { describe, expect, it } from "vitest";
import type { ConfigInput } from "../../core/config/index.ts";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const config = {
  services: [
    { name: "a", backends: [{ url: url(upstreams.a) }] },
    { name: "b", backends: [{ url: url(upstreams.b) }] },
  ],
  routes: [
    { name: "fallback", match: { path: { prefix: "/api" } }, service: "a" },
    {
      name: "beta",
      match: { path: { prefix: "/api" } },
      when: 'any(http.request.cookies["beta"][*] eq "1") or ip.src in {192.0.2.0/24}',
      service: "b",
    },
    {
      name: "reads",
      match: { path: { prefix: "/r" } },
      when: 'http.request.method in {"GET" "HEAD"}',
      service: "b",
    },
  ],
  waf: { managed: { enabled: false } },
} satisfies ConfigInput;

const { call, logs } = makeCaller(config);
const backend = async (res: Response) => {
  expect(res.status).toBe(200);
  return ((await res.json()) as Echo).backend;
};

describe("route when", () => {
  it("takes the route when the expression holds, and falls through when it does not", async () => {
    expect(await backend(await call("http://x.test/api/v1", { headers: { cookie: "beta=1" } }))).toBe("b");
    expect(await backend(await call("http://x.test/api/v1", { headers: { cookie: "beta=0" } }))).toBe("a");
    expect(await backend(await call("http://x.test/api/v1"))).toBe("a");
  });

  it("reads the client IP from CF-Connecting-IP", async () => {
    expect(
      await backend(await call("http://x.test/api", { headers: { "cf-connecting-ip": "192.0.2.9" } })),
    ).toBe("b");
    expect(
      await backend(await call("http://x.test/api", { headers: { "cf-connecting-ip": "192.0.3.9" } })),
    ).toBe("a");
  });

  it("is 404 when the only candidate's `when` is false", async () => {
    expect(await backend(await call("http://x.test/r/1"))).toBe("b");
    const res = await call("http://x.test/r/1", { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({ status: 404, error: "SY_NO_ROUTE" });
  });

  it("rejects a config whose `when` does not compile, naming the route and the column", async () => {
    const bad = makeCaller({ ...config, routes: [{ name: "x", when: "ip.src eq", service: "a" }] });
    const res = await bad.call("http://x.test/");
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; problems: string[] } };
    expect(body.error.code).toBe("SY_CONFIG_INVALID");
    expect(body.error.problems[0]).toMatch(
      /^routes\[0\]\.when: syntax error at column 10: expected a value after "eq"/,
    );
  });
});

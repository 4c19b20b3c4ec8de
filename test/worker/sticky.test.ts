// Sticky sessions through real requests: the signed cookie is set, honoured, ignored when forged, expired or
// naming a removed backend, and re-issued when the pinned backend fails.
import { describe, expect, it, vi } from "vitest";
import { backendId } from "../../worker/src/runtime.ts";
import { signAffinity, stickyKey, verifyAffinity } from "../../worker/src/sticky.ts";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

const SECRET = "test-secret-0123456789";
const env = { STICKY_SECRET: SECRET };
const config = {
  services: [
    {
      name: "app",
      backends: [{ url: url(upstreams.a) }, { url: url(upstreams.b) }, { url: url(upstreams.c) }],
      sticky: { cookie: "aff", ttl: "1h" },
    },
    { name: "flaky", backends: [{ url: url(upstreams.dead) }, { url: url(upstreams.a) }], sticky: {} },
  ],
  routes: [
    { name: "flaky", match: { host: "flaky.test" }, service: "flaky" },
    { name: "app", service: "app" },
  ],
};
const cookieValue = (setCookie: string | null) => setCookie?.split(";")[0]?.split("=").slice(1).join("=");

describe("sticky sessions", () => {
  it("sets a signed cookie with the configured attributes", async () => {
    const { call } = makeCaller(config, {}, env);
    const res = await call("https://h.test/");
    const set = res.headers.get("set-cookie")!;
    expect(set).toMatch(
      /^aff=[0-9a-f]{8}\.[0-9]+\.[A-Za-z0-9_-]+; Max-Age=3600; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
    );
  });

  it("sends a client with a valid cookie to the same backend every time, without re-issuing", async () => {
    const { call } = makeCaller(config, {}, env);
    const first = await call("http://h.test/");
    const pinned = ((await first.json()) as Echo).backend;
    const cookie = `aff=${cookieValue(first.headers.get("set-cookie"))}`;
    for (let i = 0; i < 6; i++) {
      const res = await call("http://h.test/", { headers: { cookie } });
      expect(((await res.json()) as Echo).backend).toBe(pinned);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("ignores a forged cookie (edited backend id or signature) and issues a real one", async () => {
    const { call } = makeCaller(config, {}, env);
    const first = await call("http://h.test/");
    const [id, exp, mac] = cookieValue(first.headers.get("set-cookie"))!.split(".");
    const otherId =
      backendId(url(upstreams.c)) === id ? backendId(url(upstreams.b)) : backendId(url(upstreams.c));
    for (const forged of [
      `${otherId}.${exp}.${mac}`,
      `${id}.${exp}.${mac!.slice(0, -2)}AA`,
      `${id}.${Number(exp) + 9999}.${mac}`,
    ]) {
      const res = await call("http://h.test/", { headers: { cookie: `aff=${forged}` } });
      expect(res.headers.get("set-cookie")).toMatch(/^aff=/);
    }
  });

  it("ignores an expired cookie", async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const early = makeCaller(config, { now: () => t0 }, env);
    const set = (await early.call("http://h.test/")).headers.get("set-cookie");
    const late = makeCaller(config, { now: () => t0 + 2 * 3600_000 }, env);
    const res = await late.call("http://h.test/", { headers: { cookie: `aff=${cookieValue(set)}` } });
    expect(res.headers.get("set-cookie")).toMatch(/^aff=/);
  });

  it("fails over from a pinned backend that is down and re-issues the cookie", async () => {
    const { call } = makeCaller(config, {}, env);
    const key = await stickyKey(SECRET);
    const deadId = backendId(url(upstreams.dead));
    const pinnedToDead = await signAffinity(key, "flaky", deadId, Math.floor(Date.now() / 1000) + 600);
    const res = await call("http://flaky.test/", { headers: { cookie: `sy_aff=${pinnedToDead}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echo).backend).toBe("a");
    const reissued = cookieValue(res.headers.get("set-cookie"))!;
    expect(reissued.split(".")[0]).toBe(backendId(url(upstreams.a)));
  });

  it("re-pins a client whose backend was removed from the service", async () => {
    const { call } = makeCaller(config, {}, env);
    const key = await stickyKey(SECRET);
    const gone = await signAffinity(
      key,
      "app",
      backendId("http://10.9.9.9:1/"),
      Math.floor(Date.now() / 1000) + 600,
    );
    const res = await call("http://h.test/", { headers: { cookie: `aff=${gone}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/^aff=/);
  });

  it("serves without affinity, and says so once, when the secret is missing", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { call } = makeCaller(config);
    const res = await call("http://h.test/");
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBeNull();
    errors.mockRestore();
  });
});

describe("verifying affinity cookies", () => {
  it("remembers a value that verified, yet still refuses it expired, for another service, or edited", async () => {
    const key = await stickyKey("memo-test-secret");
    const value = await signAffinity(key, "web", "abcd1234", 2000);
    expect(await verifyAffinity(key, "web", value, 1000)).toBe("abcd1234");
    expect(await verifyAffinity(key, "web", value, 1500)).toBe("abcd1234");
    expect(await verifyAffinity(key, "web", value, 2000)).toBeUndefined();
    expect(await verifyAffinity(key, "api", value, 1000)).toBeUndefined();
    const [id, exp, mac] = value.split(".");
    expect(await verifyAffinity(key, "web", `ffff0000.${exp}.${mac}`, 1000)).toBeUndefined();
    expect(await verifyAffinity(key, "web", `${id}.3000.${mac}`, 1000)).toBeUndefined();
    const other = await stickyKey("another-secret");
    expect(await verifyAffinity(other, "web", value, 1000)).toBeUndefined();
  });
});

// The config path: a bad or missing env.SWITCHYARD is a 500 JSON naming every problem, a JSON string works
// like a table, and the compiled config is reused across requests.
import { describe, expect, it, vi } from "vitest";
import { type Echo, makeCaller, upstreams, url } from "./helpers.ts";

interface ErrorBody {
  error: { code: string; message: string; problems?: string[] };
  request_id: string;
}

describe("config", () => {
  it("answers 500 SY_CONFIG_INVALID listing every problem with its path, and logs it", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { call } = makeCaller({
      services: [{ name: "web", backends: [{ url: "not a url" }] }],
      routes: [{ name: "r", service: "ap1" }],
    });
    const res = await call("http://x.test/");
    expect(res.status).toBe(500);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("SY_CONFIG_INVALID");
    expect([...body.error.problems!].sort()).toEqual([
      'routes[0].service: no service named "ap1" (services: web)',
      'services[0].backends[0].url: "not a url" is not an http:// or https:// URL',
    ]);
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(errors.mock.calls.some(([line]) => String(line).includes("SY_CONFIG_INVALID"))).toBe(true);
    errors.mockRestore();
  });

  it("answers 500 SY_CONFIG_MISSING without a config", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { call } = makeCaller(undefined as unknown as string);
    const res = await call("http://x.test/");
    expect(res.status).toBe(500);
    expect(((await res.json()) as ErrorBody).error.code).toBe("SY_CONFIG_MISSING");
    errors.mockRestore();
  });

  it("accepts the config as a JSON string", async () => {
    const { call } = makeCaller(
      JSON.stringify({
        services: [{ name: "a", backends: [{ url: url(upstreams.a) }] }],
        routes: [{ name: "r", service: "a" }],
      }),
    );
    expect(((await (await call("http://x.test/")).json()) as Echo).backend).toBe("a");
  });

  it("keeps balancer state across requests (the config is compiled once, not per request)", async () => {
    const config = {
      services: [{ name: "p", backends: [{ url: url(upstreams.a) }, { url: url(upstreams.b) }] }],
      routes: [{ name: "r", service: "p" }],
    };
    const { call } = makeCaller(config);
    const one = ((await (await call("http://x.test/")).json()) as Echo).backend;
    const two = ((await (await call("http://x.test/")).json()) as Echo).backend;
    expect(new Set([one, two])).toEqual(new Set(["a", "b"]));
  });

  it("logs routes that can never match as warnings, once, and still serves", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { call } = makeCaller({
      services: [{ name: "a", backends: [{ url: url(upstreams.a) }] }],
      routes: [
        { name: "first", match: { path: { prefix: "/x" } }, service: "a" },
        { name: "again", match: { path: { prefix: "/x/" } }, service: "a" },
      ],
    });
    expect((await call("http://x.test/x")).status).toBe(200);
    expect((await call("http://x.test/x")).status).toBe(200);
    const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(lines).toHaveLength(1);
    expect(lines[0].warnings).toEqual([
      'routes[1].match: can never match: routes[0] (route "first") matches every request it would and takes precedence; remove one or make this one more specific',
    ]);
    warn.mockRestore();
  });

  it("writes one structured JSON log line per request", async () => {
    const config = {
      services: [{ name: "a", backends: [{ url: url(upstreams.a) }] }],
      routes: [{ name: "r", service: "a" }],
    };
    const { call, logs } = makeCaller(config);
    const res = await call("http://x.test/logged?q=1", { headers: { "cf-connecting-ip": "198.51.100.4" } });
    await res.text();
    expect(logs).toHaveLength(1);
    const line = JSON.parse(logs[0]!);
    expect(line).toMatchObject({
      level: "info",
      request_id: res.headers.get("x-request-id"),
      client: "198.51.100.4",
      method: "GET",
      host: "x.test",
      path: "/logged",
      route: "r",
      service: "a",
      status: 200,
      msg: "request",
    });
    // The sidecar's vocabulary: ISO 8601 time, duration in ms; the old names are gone.
    expect(new Date(line.time).toISOString()).toBe(line.time);
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    expect(Object.keys(line)).not.toContain("ts");
    expect(Object.keys(line)).not.toContain("client_ip");
    expect(Object.keys(line)).not.toContain("ms");
    // Fixed order: the line always starts the same way and ends with duration_ms, msg.
    expect(Object.keys(line).slice(0, 3)).toEqual(["level", "time", "request_id"]);
    expect(Object.keys(line).slice(-2)).toEqual(["duration_ms", "msg"]);
  });

  it("logs Switchyard's errors and 5xx answers at level warn, with the error code", async () => {
    const config = {
      services: [{ name: "a", backends: [{ url: url(upstreams.a) }] }],
      routes: [{ name: "r", match: { host: "x.test" }, service: "a" }],
    };
    const { call, logs } = makeCaller(config);
    await (await call("http://elsewhere.test/")).text();
    const line = JSON.parse(logs[0]!);
    expect(line).toMatchObject({ level: "warn", status: 404, error: "SY_NO_ROUTE", msg: "request" });
  });

  it("escapes what the client sent in the log line (quotes, backslashes, control characters)", async () => {
    const config = {
      services: [{ name: "a", backends: [{ url: url(upstreams.a) }] }],
      routes: [{ name: "r", service: "a" }],
    };
    const { call, logs } = makeCaller(config);
    const res = await call('http://x.test/a"b\\c', { headers: { "cf-connecting-ip": 'a"b\\c\td' } });
    await res.text();
    const line = JSON.parse(logs[0]!);
    expect(line.client).toBe('a"b\\c\td');
    expect(line.path).toBe(new URL('http://x.test/a"b\\c').pathname);
  });
});

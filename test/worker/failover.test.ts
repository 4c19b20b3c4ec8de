// Failures: dead backends are skipped, all-dead is a 502 JSON, a maybe-sent non-idempotent request is not
// retried, and the body replay window lets an idempotent request with a body move to the next backend.
import { describe, expect, it } from "vitest";
import { type Echo, generatedBody, makeCaller, sha256Hex, upstreams, url } from "./helpers.ts";

const config = {
  services: [
    { name: "half-dead", backends: [{ url: url(upstreams.dead) }, { url: url(upstreams.a) }] },
    { name: "reset-first", backends: [{ url: url(upstreams.reset) }, { url: url(upstreams.b) }] },
    { name: "all-dead", backends: [{ url: url(upstreams.dead) }, { url: url(upstreams.reset) }] },
    { name: "drained", backends: [{ url: url(upstreams.a), weight: 0 }] },
  ],
  routes: [
    { name: "half-dead", match: { host: "half.test" }, service: "half-dead" },
    { name: "reset-first", match: { host: "reset.test" }, service: "reset-first" },
    { name: "all-dead", match: { host: "dead.test" }, service: "all-dead" },
    { name: "drained", match: { host: "drained.test" }, service: "drained" },
  ],
};

interface ErrorBody {
  error: { code: string; message: string };
  request_id: string;
}

describe("failover", () => {
  it("moves a GET to the next backend when one refuses connections", async () => {
    const { call, logs } = makeCaller(config);
    for (let i = 0; i < 4; i++) {
      const res = await call("http://half.test/x");
      expect(res.status).toBe(200);
      expect(((await res.json()) as Echo).backend).toBe("a");
    }
    const first = JSON.parse(logs[0]!);
    expect(first.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["reset", "response"]);
  });

  it("replays a PUT body within the replay window on the next backend", async () => {
    const { call } = makeCaller(config);
    const size = 40 * 1024;
    for (let i = 0; i < 2; i++) {
      const [forHash, forSend] = generatedBody(size, 11).tee();
      const [expected, res] = await Promise.all([
        sha256Hex(forHash),
        call("http://half.test/put", { method: "PUT", body: forSend }),
      ]);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Echo).body).toEqual({ length: size, sha256: expected.hex });
    }
  });

  it("does not retry a POST that may have reached a backend that then dropped it", async () => {
    const { call } = makeCaller(config);
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await call("http://reset.test/p", { method: "POST", body: "x" });
      statuses.push(res.status);
      if (res.status === 502) expect(((await res.json()) as ErrorBody).error.code).toBe("SY_UPSTREAM_FAILED");
    }
    expect(statuses.sort()).toEqual([200, 502]);
  });

  it("answers 502 SY_UPSTREAM_UNAVAILABLE with the request id when every backend fails", async () => {
    const { call, logs } = makeCaller(config);
    const res = await call("http://dead.test/x");
    expect(res.status).toBe(502);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("SY_UPSTREAM_UNAVAILABLE");
    expect(body.error.message).toContain('"all-dead"');
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
    expect(JSON.parse(logs[0]!)).toMatchObject({
      status: 502,
      error: "SY_UPSTREAM_UNAVAILABLE",
      route: "all-dead",
    });
    // retry.attempts (default 3): both backends once, then one of them again since no untried one is left.
    const attempts = JSON.parse(logs[0]!).attempts as { backend: string }[];
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.slice(0, 2).map((a) => a.backend)).size).toBe(2);
  });

  it("answers 503 SY_NO_BACKEND when every backend is drained (weight 0)", async () => {
    const { call } = makeCaller(config);
    const res = await call("http://drained.test/");
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error.code).toBe("SY_NO_BACKEND");
  });
});

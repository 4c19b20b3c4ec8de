// The deployed entry point (worker/src/index.ts via wrangler.toml) with its env binding, called as workerd calls it.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Echo } from "./helpers.ts";

describe("worker entry", () => {
  it("loads env.SWITCHYARD from the binding and proxies", async () => {
    expect((env as { SWITCHYARD?: unknown }).SWITCHYARD).toBeTypeOf("object");
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await exports.default.fetch("http://entry.test/hello");
      expect(res.status).toBe(200);
      seen.add(((await res.json()) as Echo).backend);
    }
    expect(seen).toEqual(new Set(["a", "b"]));
  });

  it("answers 404 JSON for an unrouted host", async () => {
    const res = await exports.default.fetch("http://elsewhere.test/");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("SY_NO_ROUTE");
  });
});

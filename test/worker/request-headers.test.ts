// RequestHeaders: the client's headers read from workerd once, then looked up in JavaScript with Headers.get's
// answers (case-insensitive names, repeated names joined, null when absent).
import { describe, expect, it } from "vitest";
import { RequestHeaders } from "../../worker/src/request-headers.ts";

describe("RequestHeaders", () => {
  const native = new Headers([
    ["X-Tenant", "acme"],
    ["accept", "text/html"],
    ["accept", "application/json"],
    ["CF-Ray", "8c1f4e2a9b3d5f70-AMS"],
  ]);
  const headers = new RequestHeaders(native);

  it("answers get() as workerd's Headers does", () => {
    for (const name of ["x-tenant", "X-TENANT", "accept", "cf-ray", "missing"])
      expect(headers.get(name)).toBe(native.get(name));
    expect(headers.get("accept")).toBe("text/html, application/json");
  });

  it("lists every header once, lower-case, in workerd's order, and walks them with forEach", () => {
    expect(headers.entries()).toEqual([...(native as unknown as Iterable<[string, string]>)]);
    const seen: string[] = [];
    headers.forEach((value, name) => {
      seen.push(`${name}=${value}`);
    });
    expect(seen).toEqual(headers.entries().map(([n, v]) => `${n}=${v}`));
  });
});

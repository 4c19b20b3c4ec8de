// The pure health state machines: rise/fall hysteresis for active checks, and passive ejection.
import { describe, expect, it } from "vitest";
import { ejection, hysteresis } from "../../core/health/index.ts";

describe("hysteresis (active checks)", () => {
  it("starts up and goes down only after `fall` consecutive failures", () => {
    const h = hysteresis({ rise: 2, fall: 3 });
    expect(h.healthy).toBe(true);
    expect([h.observe(false), h.observe(false)]).toEqual([false, false]);
    expect(h.healthy).toBe(true);
    expect(h.observe(false)).toBe(true);
    expect(h.healthy).toBe(false);
  });

  it("a pass in between resets the failure streak", () => {
    const h = hysteresis({ rise: 2, fall: 3 });
    for (const ok of [false, false, true, false, false]) expect(h.observe(ok)).toBe(false);
    expect(h.healthy).toBe(true);
  });

  it("comes back up only after `rise` consecutive passes, and reports the flip once", () => {
    const h = hysteresis({ rise: 2, fall: 1, initial: false });
    expect(h.observe(true)).toBe(false);
    expect(h.observe(false)).toBe(false);
    expect(h.observe(true)).toBe(false);
    expect(h.observe(true)).toBe(true);
    expect(h.healthy).toBe(true);
    expect(h.observe(true)).toBe(false);
  });
});

describe("ejection (passive health)", () => {
  it("ejects after N consecutive failures, for the configured time", () => {
    const e = ejection({ failures: 3, ejectMs: 1000 });
    expect(e.observe(false, 0)).toBe(false);
    expect(e.observe(false, 10)).toBe(false);
    expect(e.observe(false, 20)).toBe(true);
    expect(e.ejected(500)).toBe(true);
    expect(e.ejected(1020)).toBe(false);
  });

  it("a success resets the count; failures during an ejection do not extend it", () => {
    const e = ejection({ failures: 2, ejectMs: 100 });
    e.observe(false, 0);
    e.observe(true, 1);
    expect(e.observe(false, 2)).toBe(false);
    expect(e.observe(false, 3)).toBe(true);
    expect(e.observe(false, 50)).toBe(false);
    expect(e.until).toBe(103);
  });
});

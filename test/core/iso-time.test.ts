// The log lines' "time" field: isoTime caches the date and time of day per second, and must still print what
// Date.prototype.toISOString prints for every millisecond, in any order of calls.
import { describe, expect, it } from "vitest";
import { isoTime } from "../../core/iso-time.ts";

describe("isoTime", () => {
  it("matches toISOString across second, minute, day and year boundaries, in and out of order", () => {
    const points = [
      Date.UTC(2026, 11, 3, 17, 2, 27, 0),
      Date.UTC(2026, 11, 3, 17, 2, 27, 5),
      Date.UTC(2026, 11, 3, 17, 2, 27, 45),
      Date.UTC(2026, 11, 3, 17, 2, 27, 999),
      Date.UTC(2026, 11, 3, 17, 2, 28, 0),
      Date.UTC(2026, 11, 3, 17, 2, 27, 500), // back into the previous second
      Date.UTC(2026, 11, 3, 17, 59, 59, 999),
      Date.UTC(2026, 11, 3, 18, 0, 0, 1),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1, 0, 0, 0, 0),
      Date.UTC(2024, 1, 29, 12, 0, 0, 10), // a leap day
    ];
    for (let ms = points[0]!; ms < points[0]! + 2500; ms += 7) points.push(ms);
    for (const ms of points) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});

// normal()'s single-pass decoder (simpleNormal) against the general path it stands in for: wherever it answers,
// it must answer exactly what the general path (decodeURIComponent rounds, entities, escapes, NFKC) would.
import { describe, expect, it } from "vitest";
import { generalNormal, normal, simpleNormal } from "../../core/waf/normalize.ts";

// [raw, taken by the single pass, normal form]. The flag keeps the table honest: a row meant for the decoder
// that silently fell back would compare the general path with itself.
const rows: Array<[string, boolean, string]> = [
  ["", true, ""],
  ["abc", true, "abc"],
  ["a+b", true, "a b"],
  ["%3Cscript%3E", true, "<script>"],
  ["%3cSCRIPT%3e", true, "<script>"],
  ["A%3d1", true, "a=1"],
  ["%7F", true, "\u007f"],
  ["%7f", true, "\u007f"],
  ["%0A", true, "\n"],
  ["%0a%0a", true, "\n\n"],
  ["a b", true, "a b"],
  // An encoded + or % asks for a second decoding round: %2B is a + and then a space, %2541 is %41 and then A.
  ["%2B", false, " "],
  ["%2b", false, " "],
  ["a%2Bb", false, "a b"],
  ["%25", false, "%"],
  ["100%25", false, "100%"],
  ["%2541", false, "a"],
  ["%00", false, ""],
  ["a%00b", false, "ab"],
  ["%0D", false, "\n"],
  ["%09", false, " "],
  ["%4", false, "%4"],
  ["a%4", false, "a%4"],
  ["%4g", false, "%4g"],
  ["%zz", false, "%zz"],
  ["a%zzb", false, "a%zzb"],
  ["%u0041", false, "a"],
  ["a  b", false, "a b"],
  ["a++b", false, "a b"],
  ["a+%20b", false, "a b"],
  ["%20%20", false, " "],
  ["café", false, "café"],
  ["caf%C3%A9", false, "café"],
  ["%c3%a9", false, "é"],
  ["ＡＢ", false, "ab"],
  ["%26lt;", false, "<"],
  ["A%3d1%26b", false, "a=1&b"],
  ["%5Cx3c", false, "<"],
  // The single pass stops at 1 KiB of raw value; longer values take the general path.
  [`${"%41".repeat(341)}x`, true, `${"a".repeat(341)}x`],
  [`${"%41".repeat(341)}xy`, false, `${"a".repeat(341)}xy`],
  ["Ab".repeat(512), true, "ab".repeat(512)],
  [`${"Ab".repeat(512)}c`, false, `${"ab".repeat(512)}c`],
];

describe("single-pass decoder", () => {
  // Long rows are named by their start and length, so a failure's title stays readable.
  const named = rows.map(([raw, single, want]) => {
    const name = raw.length > 32 ? `${raw.slice(0, 12)}… (${raw.length} chars)` : raw;
    return { name, raw, single, want };
  });
  it.each(named)("$name (single pass: $single), as the general path", ({ raw, single, want }) => {
    expect(simpleNormal(raw) !== undefined).toBe(single);
    expect(generalNormal(raw)).toBe(want);
    expect(normal(raw)).toBe(want);
  });

  it("agrees with the general path on 50,000 generated values wherever it answers", () => {
    const pieces = [
      ..."aZ09 ~'=;<>\n\\&%+",
      ...["%2B", "%2b", "%25", "%7F", "%7f", "%00", "%20", "%0A", "%0d", "%09", "%0b", "%0C", "%1F", "%4"],
      ...["%zz", "%41", "%3C", "%3c", "%C3%A9", "é", "%80", "%26", "%5C", "%u0041", "%2520", "%7E", "++"],
    ];
    // A fixed LCG: the same values on every run, so a failure reproduces.
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let single = 0;
    const wrong: string[] = [];
    for (let k = 0; k < 50_000; k++) {
      let raw = "";
      for (let j = next(7); j > 0; j--) raw += pieces[next(pieces.length)];
      const fast = simpleNormal(raw);
      if (fast === undefined) continue;
      single++;
      if (fast !== generalNormal(raw)) wrong.push(raw);
    }
    expect(wrong).toEqual([]);
    // Enough of them took the single pass for the comparison to mean something.
    expect(single).toBeGreaterThan(10_000);
  });

  it("agrees with the general path for every escape %00-%FF and every raw character below 256", () => {
    for (let c = 0; c < 256; c++) {
      const hex = c.toString(16).padStart(2, "0");
      for (const raw of [`a%${hex}b`, `a%${hex.toUpperCase()}b`, `a${String.fromCharCode(c)}b`]) {
        const fast = simpleNormal(raw);
        if (fast !== undefined) expect([raw, fast]).toEqual([raw, generalNormal(raw)]);
      }
    }
  });
});

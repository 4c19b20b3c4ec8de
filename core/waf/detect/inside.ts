// Finds a keyword inside an expression that an opener starts (${…}, %{…}, {{…}}) without a regex that tries a
// bounded window at every position (quadratic in the window): keywords are found in one scan, and only the
// window before each is searched for the opener.
import type { Hit } from "./hit.ts";

/** The first keyword (a global regex) preceded within `window` characters by an opener and no "}" between. */
export function keywordInside(
  text: string,
  keywords: RegExp,
  openers: readonly string[],
  window = 256,
): Hit | undefined {
  keywords.lastIndex = 0;
  for (let m = keywords.exec(text); m !== null; m = keywords.exec(text)) {
    const from = Math.max(0, m.index - window);
    const before = text.slice(from, m.index);
    const close = before.lastIndexOf("}");
    for (const o of openers) {
      const at = before.lastIndexOf(o);
      if (at !== -1 && at > close) {
        keywords.lastIndex = 0;
        return { at: from + at, end: m.index + m[0].length };
      }
    }
    if (m[0].length === 0) keywords.lastIndex++;
  }
  return undefined;
}

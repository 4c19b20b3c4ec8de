// Gateway API HTTPRoute precedence among rules that all match a request: the most specific host (exact, then
// the longest wildcard, then none), then an exact path over a prefix, the longest prefix, then a method match,
// the most header matches, the most query matches; remaining ties go to the earlier rule. Host and path
// order is the table's walk order (table.ts); the rest is this comparator.
import type { Entry } from "./compile.ts";

/** Sorts candidates that share a host and path key: higher secondary rank first, then config order. */
export function bySecondaryRank(a: Entry, b: Entry): number {
  for (let i = 0; i < a.rank.length; i++) {
    const d = b.rank[i]! - a.rank[i]!;
    if (d !== 0) return d;
  }
  return a.index - b.index || a.block - b.block;
}

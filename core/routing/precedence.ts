// Gateway API HTTPRoute precedence among rules that all match a request:
//   1. host: exact, then the longest wildcard, then rules without a host
//   2. path: exact, then template (static segments before parameters, left to right), then regex (their
//      specificity cannot be compared, so steps 3–7 order them), then the longest prefix ("no path" is prefix "/")
//   3. a method match, 4. the most header matches, 5. the most query matches, 6. the most cookie matches
//   7. the earlier rule (route order, then match block order)
// Steps 1–2 are the table's walk order (table.ts); 3–7 are this comparator, applied to rules that share a
// host and path key.
import type { Entry } from "./compile.ts";

export function bySecondaryRank(a: Entry, b: Entry): number {
  for (let i = 0; i < a.rank.length; i++) {
    const d = b.rank[i]! - a.rank[i]!;
    if (d !== 0) return d;
  }
  return a.index - b.index || a.block - b.block;
}

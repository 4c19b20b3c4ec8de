// `npm run waf:corpus`: detection per attack family and false positives of the managed ruleset at paranoia 1
// to 4, on the generated corpus (test/waf-corpus) and, separately, on the held-out set written before tuning.
// Exits 1 when paranoia 1 misses the targets (≥ 95% in every family, 0 false positives on ordinary traffic).
import { formatMisses, formatTable, HELD_OUT, runCorpus } from "../test/waf-corpus/run.ts";

const levels = [1, 2, 3, 4];
const corpus = levels.map((p) => runCorpus(p));
const heldOut = levels.map((p) => runCorpus(p, 5, HELD_OUT));
console.log(
  formatTable("Generated corpus (attacks by family; false positives on ordinary requests)", corpus),
);
console.log(formatMisses(corpus[0]!));
console.log();
console.log(formatTable("Held-out set (written before tuning)", heldOut));
console.log(formatMisses(heldOut[0]!));
const p1 = corpus[0]!;
const ok = p1.categories.every((c) => c.rate >= 0.95) && p1.benign.falsePositives.length === 0;
if (!ok) {
  console.error("below target: at paranoia 1 every family must be ≥ 95% detected with 0 false positives");
  process.exitCode = 1;
}

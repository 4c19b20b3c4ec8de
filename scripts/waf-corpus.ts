// `npm run waf:corpus [-- --paranoia N]`: detection rate per attack category and false positives of the managed
// ruleset on test/waf-corpus. Exits 1 when paranoia 1 misses the targets (≥ 95% detected, 0 false positives).
import { formatReport, runCorpus } from "../test/waf-corpus/run.ts";

const i = process.argv.indexOf("--paranoia");
const paranoia = i === -1 ? 1 : Number(process.argv[i + 1]);
const report = runCorpus(paranoia);
console.log(formatReport(report));
const ok = report.attacks.rate >= 0.95 && report.benign.falsePositives.length === 0;
if (paranoia === 1 && !ok) {
  console.error("below target: at paranoia 1 the WAF must detect ≥ 95% of attacks with 0 false positives");
  process.exitCode = 1;
}

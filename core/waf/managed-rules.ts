// The managed ruleset, OWASP CRS style: ids in CRS's numbering families, one file per family in rules/. The big
// families (SQLi, XSS, command injection) are decided by structural detectors in detect/; patterns and word
// lists are Switchyard's own.
import { JAVA_RULES } from "./rules/java.ts";
import { LFI_RULES } from "./rules/lfi.ts";
import { NODEJS_RULES } from "./rules/nodejs.ts";
import { PHP_RULES } from "./rules/php.ts";
import { PROTOCOL_RULES } from "./rules/protocol.ts";
import { RCE_RULES } from "./rules/rce.ts";
import { RFI_RULES } from "./rules/rfi.ts";
import { SCANNERS_RULES } from "./rules/scanner.ts";
import { SESSION_RULES } from "./rules/session.ts";
import { SQLI_RULES } from "./rules/sqli.ts";
import type { ManagedRule } from "./rules/types.ts";
import { XSS_RULES } from "./rules/xss.ts";

export type { Category, ManagedRule, Part, Severity } from "./rules/types.ts";
export { SEVERITY_SCORE } from "./rules/types.ts";

export const MANAGED_RULES: readonly ManagedRule[] = [
  ...SCANNERS_RULES,
  ...PROTOCOL_RULES,
  ...LFI_RULES,
  ...RFI_RULES,
  ...RCE_RULES,
  ...PHP_RULES,
  ...NODEJS_RULES,
  ...XSS_RULES,
  ...SQLI_RULES,
  ...SESSION_RULES,
  ...JAVA_RULES,
];

export const MANAGED_IDS = new Set(MANAGED_RULES.map((r) => r.id));
if (MANAGED_IDS.size !== MANAGED_RULES.length) throw new Error("managed-rules: a rule id is used twice");
for (const r of MANAGED_RULES) {
  if ((r.re === undefined) === (r.detect === undefined))
    throw new Error(`managed rule ${r.id}: needs re or detect`);
}

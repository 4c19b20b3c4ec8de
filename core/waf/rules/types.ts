// The shape of a managed rule: its id in CRS's numbering, family, paranoia level, severity, the request parts
// it reads, the transformations its value goes through, cheap pre-filters, and a pattern or a detector. What a
// rule looks for is said in a comment in it: no code reads that text, so the worker bundle does not carry it.
import type { Hit } from "../detect/hit.ts";
import type { Transform } from "../pipelines.ts";

export type Category =
  | "sqli"
  | "xss"
  | "lfi"
  | "rfi"
  | "restricted-files"
  | "rce"
  | "php"
  | "nodejs"
  | "java"
  | "log4shell"
  | "shellshock"
  | "session-fixation"
  | "scanner"
  | "protocol";

export type Severity = "critical" | "error" | "warning" | "notice";
export const SEVERITY_SCORE: Record<Severity, number> = { critical: 5, error: 4, warning: 3, notice: 2 };

/** Parts of a request a rule reads. `values` and `names` cover query and body (form, JSON, raw) alike. */
export type Part = "path" | "names" | "values" | "cookies" | "ua" | "referer" | "headers";

export interface ManagedRule {
  id: string;
  category: Category;
  paranoia: 1 | 2 | 3 | 4;
  severity: Severity;
  on: readonly Part[];
  /** The transformations, in order, the value goes through before matching (see pipelines.ts). */
  t: readonly Transform[];
  /** Characters of which at least one must be in the value (a cheap pre-filter); empty means always run. */
  any: string;
  /** A second such group: at least one of these characters must be in the value too (a call needs its "("). */
  also?: string;
  /** Substrings of which at least one must be in the transformed value before matching (a second pre-filter). */
  needs?: readonly string[];
  /**
   * Substrings of which at least one must be in the transformed value for the detector to match, where the
   * detector checks for them itself: the engine runs no word test for them, it only skips the rule on a normal
   * form that has none of their character pairs (engine.ts PAIR_BIT).
   */
  words?: readonly string[];
  /** A pattern (linear or bounded), or a detector; exactly one. */
  re?: RegExp;
  detect?: (text: string) => Hit | undefined;
}

export const INPUT: Part[] = ["names", "values", "cookies"];
export const INPUT_PATH: Part[] = ["path", "names", "values", "cookies"];
export const EVERYWHERE: Part[] = ["path", "names", "values", "cookies", "ua", "referer", "headers"];

export const rule = (r: ManagedRule) => r;

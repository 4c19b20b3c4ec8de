// What the WAF tests, the corpus and the bench share: default managed settings and the crafted inputs that
// once made a pattern or a detector superlinear.
import type { ManagedSettings } from "../../core/waf/engine.ts";

/** The managed ruleset's defaults (paranoia 1, threshold 5, blocking), with overrides. */
export const managedSettings = (o: Partial<ManagedSettings> = {}): ManagedSettings => ({
  enabled: true,
  paranoia: 1,
  threshold: 5,
  mode: "block",
  disabled_rules: [],
  max_args: 255,
  ...o,
});

/**
 * Units that, repeated to 128 KiB, once made something quadratic: backtracking over a bounded window at every
 * position, a backward search per character, an unbounded \s* after a newline, a path read once per segment.
 */
export const CRAFTED_UNITS = [
  "<a",
  "<img src=",
  "<a onx",
  "' or a",
  "'",
  "../",
  "%2e%2e%2f",
  "${",
  "${a",
  "${${",
  "#{",
  "{{",
  "select ",
  "(",
  ";ls ",
  "`",
  "$(",
  "{a,",
  "\n",
  "/*!",
  "/etc/passwd",
  "javascript:",
  "a ",
];

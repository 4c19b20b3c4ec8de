// The WAF's pure decision logic: custom rules in order, then the managed ruleset with anomaly scoring.
// Compiled once per config (rules filtered by paranoia, patterns pre-built); per request it only normalises
// each inspected value once and runs the rules whose cheap character pre-filter passes.
import { type CompiledExpression, compileExpression, type RequestFields } from "../../../core/rules/index.ts";
import type { Inspection, Target } from "./inspect.ts";
import { type Form, MANAGED_RULES, type ManagedRule, type Part, SEVERITY_SCORE } from "./managed-rules.ts";
import { cmdForm, normal, sqlForm } from "./normalize.ts";

export interface ManagedSettings {
  enabled: boolean;
  paranoia: number;
  threshold: number;
  mode: "block" | "log";
  disabled_rules: readonly string[];
  max_args: number;
}

export interface CustomRuleConfig {
  id: string;
  expression: string;
  action: "block" | "log" | "skip" | "allow";
  status?: number;
  body?: string;
  content_type?: string;
}

export interface Match {
  id: string;
  source: "custom" | "managed";
  /** Custom: the rule's action. Managed: the category, severity and where it matched. */
  action?: string;
  category?: string;
  severity?: string;
  location?: string;
}

export interface WafDecision {
  /** pass: nothing stopped it; block; log: something matched in log mode or a log rule; skip/allow: a custom rule. */
  action: "pass" | "block" | "log" | "skip" | "allow";
  /** The custom rule that decided (block, skip or allow), if any. */
  rule?: string;
  score: number;
  threshold: number;
  /** True when the managed ruleset would have blocked but runs in log mode. */
  wouldBlock: boolean;
  matches: Match[];
  /** For a custom block: the response it asks for. */
  response?: { status: number; body?: string; contentType?: string };
}

const EXCESSIVE_ARGS_ID = "920380";

/** Characters the pre-filters use, each mapped to one bit of a 32-bit mask. */
const FILTER_CHARS = [...new Set(MANAGED_RULES.flatMap((r) => [...r.any]))];
if (FILTER_CHARS.length > 31) throw new Error("managed-rules: too many pre-filter characters for one mask");
const CHAR_BIT = new Int32Array(128);
FILTER_CHARS.forEach((c, i) => {
  const code = c.charCodeAt(0);
  if (code < 128) CHAR_BIT[code] = 1 << i;
});
const maskOf = (s: string): number => {
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) m |= CHAR_BIT[c]!;
  }
  return m;
};

const NEEDS_DECODING = /[%+&\\\r]|[^\x00-\x7f]/;

interface PreparedRule {
  rule: ManagedRule;
  mask: number;
  /** The `needs` pre-filter: one or two substrings checked with includes(), longer lists as one regex. */
  needs?: (text: string) => boolean;
}

const escapeRe = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function needsFilter(words: readonly string[] | undefined): ((text: string) => boolean) | undefined {
  if (!words || words.length === 0) return undefined;
  if (words.length === 1) {
    const w = words[0]!;
    return (t) => t.includes(w);
  }
  if (words.length === 2) {
    const [a, b] = words as [string, string];
    return (t) => t.includes(a) || t.includes(b);
  }
  const re = new RegExp(words.map(escapeRe).join("|"));
  return (t) => re.test(t);
}

/** A target with its normalised forms computed on first use. */
class Value {
  readonly t: Target;
  private _normal?: string;
  private _sql?: string;
  private _cmd?: string;
  private _mask?: number;
  constructor(t: Target) {
    this.t = t;
  }
  get normal(): string {
    if (this._normal === undefined) this._normal = normal(this.t.raw);
    return this._normal;
  }
  form(f: Form): string {
    if (f === "raw") return this.t.raw;
    if (f === "normal") return this.normal;
    if (f === "sql") {
      if (this._sql === undefined) this._sql = sqlForm(this.normal);
      return this._sql;
    }
    if (this._cmd === undefined) this._cmd = cmdForm(this.normal);
    return this._cmd;
  }
  get mask(): number {
    if (this._mask === undefined) {
      const raw = this.t.raw;
      // Decoding can only add filter characters when the raw value has escapes; otherwise one pass will do.
      this._mask = NEEDS_DECODING.test(raw) ? maskOf(raw) | maskOf(this.normal) : maskOf(raw);
    }
    return this._mask;
  }
}

/** Values up to this length that no rule matched are remembered, at most CLEAN_CACHE_SIZE of them per engine. */
const CLEAN_MAX_LENGTH = 512;
export const CLEAN_CACHE_SIZE = 4096;

export class ManagedEngine {
  readonly settings: ManagedSettings;
  private readonly byPart = new Map<Part, PreparedRule[]>();
  private readonly byMask = new Map<Part, Map<number, PreparedRule[]>>();
  /**
   * "part NUL value" of values every applicable rule was run on and none matched. Rules are pure (no /g
   * regexes), so such a value stays clean: the User-Agent, Accept and cookie values that repeat on every
   * request are then checked once per isolate instead of once per request.
   */
  private readonly clean = new Map<string, true>();
  readonly ruleCount: number;

  constructor(settings: ManagedSettings) {
    this.settings = settings;
    const disabled = new Set(settings.disabled_rules);
    const active = MANAGED_RULES.filter((r) => r.paranoia <= settings.paranoia && !disabled.has(r.id));
    this.ruleCount = active.length;
    for (const r of active) {
      const prepared = { rule: r, mask: maskOf(r.any), needs: needsFilter(r.needs) };
      for (const p of r.on) {
        const list = this.byPart.get(p);
        if (list) list.push(prepared);
        else this.byPart.set(p, [prepared]);
      }
    }
  }

  /** Rules of a part whose character pre-filter passes for values with this mask; memoised per mask. */
  private rulesFor(part: Part, mask: number): PreparedRule[] {
    let byMask = this.byMask.get(part);
    if (!byMask) {
      byMask = new Map();
      this.byMask.set(part, byMask);
    }
    let list = byMask.get(mask);
    if (!list) {
      list = (this.byPart.get(part) ?? []).filter((r) => r.mask === 0 || (r.mask & mask) !== 0);
      // Bounded: at most 2^bits masks exist, but real traffic shows a few dozen; cap memory anyway.
      if (byMask.size < 4096) byMask.set(mask, list);
    }
    return list;
  }

  /** Runs every active rule once per request: a rule scores at most once, at the first place it matches. */
  inspect(inspection: Inspection): { score: number; matches: Match[] } {
    const matches: Match[] = [];
    const hit = new Set<string>();
    let score = 0;
    if (!this.settings.enabled) return { score, matches };
    if (
      inspection.argCount > this.settings.max_args &&
      !this.settings.disabled_rules.includes(EXCESSIVE_ARGS_ID)
    ) {
      hit.add(EXCESSIVE_ARGS_ID);
      score += SEVERITY_SCORE.critical;
      matches.push({
        id: EXCESSIVE_ARGS_ID,
        source: "managed",
        category: "protocol",
        severity: "critical",
        location: `args:${inspection.argCount}>${this.settings.max_args}`,
      });
    }
    for (const target of inspection.targets) {
      if (target.raw === "") continue;
      const key = target.raw.length <= CLEAN_MAX_LENGTH ? `${target.part}\u0000${target.raw}` : undefined;
      if (key !== undefined && this.clean.has(key)) continue;
      const v = new Value(target);
      const rules = this.rulesFor(target.part, v.mask);
      // Clean only if every rule ran: one skipped because it already scored elsewhere might match here too.
      let clean = true;
      for (const { rule, needs } of rules) {
        if (hit.has(rule.id)) {
          clean = false;
          continue;
        }
        const text = v.form(rule.form);
        if (needs && !needs(text)) continue;
        if (!rule.re.test(text)) continue;
        clean = false;
        hit.add(rule.id);
        score += SEVERITY_SCORE[rule.severity];
        matches.push({
          id: rule.id,
          source: "managed",
          category: rule.category,
          severity: rule.severity,
          location: target.location,
        });
      }
      if (clean && key !== undefined) {
        if (this.clean.size >= CLEAN_CACHE_SIZE) this.clean.delete(this.clean.keys().next().value!);
        this.clean.set(key, true);
      }
    }
    return { score, matches };
  }
}

export interface CompiledCustomRule extends CustomRuleConfig {
  compiled: CompiledExpression;
}

export function compileCustomRules(rules: readonly CustomRuleConfig[], path: string): CompiledCustomRule[] {
  return rules.map((r, i) => ({
    ...r,
    compiled: compileExpression(r.expression, { name: `${path}[${i}] (${r.id})` }),
  }));
}

/** One policy as a route uses it: its custom rules and managed settings. */
export class WafPolicyEngine {
  readonly custom: readonly CompiledCustomRule[];
  readonly managed: ManagedEngine;

  constructor(custom: readonly CompiledCustomRule[], managed: ManagedSettings) {
    this.custom = custom;
    this.managed = new ManagedEngine(managed);
  }

  /** Custom rules first; a deciding rule (block, skip, allow) ends the evaluation. */
  evaluateCustom(fields: RequestFields): { decided?: WafDecision; matches: Match[] } {
    const matches: Match[] = [];
    for (const r of this.custom) {
      if (!r.compiled.test(fields)) continue;
      matches.push({ id: r.id, source: "custom", action: r.action });
      if (r.action === "log") continue;
      const decided: WafDecision = {
        action: r.action,
        rule: r.id,
        score: 0,
        threshold: this.managed.settings.threshold,
        wouldBlock: false,
        matches,
      };
      if (r.action === "block") {
        decided.response = { status: r.status ?? 403, body: r.body, contentType: r.content_type };
      }
      return { decided, matches };
    }
    return { matches };
  }

  /** The managed verdict, given the custom matches so far (log rules). */
  evaluateManaged(inspection: Inspection, customMatches: Match[]): WafDecision {
    const { score, matches } = this.managed.inspect(inspection);
    const { threshold, mode } = this.managed.settings;
    const over = score >= threshold;
    const all = [...customMatches, ...matches];
    const action = over && mode === "block" ? "block" : all.length > 0 ? "log" : "pass";
    return { action, score, threshold, wouldBlock: over && mode === "log", matches: all };
  }
}

/** `action=block; score=10/5; rules=942100,942170` — the explain header and the log use the same summary. */
export function explain(d: WafDecision): string {
  const ids = d.matches.map((m) => m.id).join(",");
  return `action=${d.action}${d.wouldBlock ? " (log mode: would block)" : ""}; score=${d.score}/${d.threshold}${ids ? `; rules=${ids}` : ""}`;
}

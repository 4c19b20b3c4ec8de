// The WAF's pure decision logic: custom rules in order, then the managed ruleset with anomaly scoring.
// Compiled once per config (rules filtered by paranoia, patterns pre-built); per request each inspected value
// goes through each transformation prefix once, and only rules whose cheap character pre-filter passes run.
import { type CompiledExpression, compileExpression, type RequestFields } from "../rules/index.ts";
import { type Anomaly, type Oversize, scoreAnomalies, snippet } from "./anomalies.ts";
import { CleanMemo, PART_BIT } from "./clean-memo.ts";
import type { Hit } from "./detect/hit.ts";
import type { Inspection } from "./inspect.ts";
import { MANAGED_RULES, type ManagedRule, type Part, SEVERITY_SCORE } from "./managed-rules.ts";
import { generalNormal, HEX, type SimpleScan, scanSimple } from "./normalize.ts";
import { NORMAL, PipelineTree, pipelineName } from "./pipelines.ts";
import { ARGUMENT_LOOK_CHARS, argumentValueAnomalies, needsALook } from "./protocol.ts";

export interface ManagedSettings {
  enabled: boolean;
  paranoia: number;
  threshold: number;
  mode: "block" | "log";
  disabled_rules: readonly string[];
  max_args: number;
  /** What a body longer than body_limit does (default "score"): see anomalies.ts (OVERSIZE). */
  oversize?: Oversize;
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
  /** Managed: the request part and the transformations of the matched form, for explanations. */
  part?: string;
  transforms?: string;
  /** Managed: a short printable extract of the value that matched. */
  snippet?: string;
  /** Anything else the explanation should say about this match (e.g. "oversize=score"). */
  note?: string;
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
  /** What else the decision should say (e.g. that only a prefix of the body was inspected). */
  notes?: string[];
  /** For a custom block: the response it asks for. */
  response?: { status: number; body?: string; contentType?: string };
}

const EXCESSIVE_ARGS_ID = "920380";

/** Characters the pre-filters use, each mapped to one bit of a 32-bit mask. */
const FILTER_CHARS = [
  ...new Set([...ARGUMENT_LOOK_CHARS, ...MANAGED_RULES.flatMap((r) => [...r.any, ...(r.also ?? "")])]),
];
if (FILTER_CHARS.length > 31) throw new Error("managed-rules: too many pre-filter characters for one mask");
// A raw value's letters are upper or lower case, its normal form's lower case only: letters would need both.
if (FILTER_CHARS.some((c) => /[a-z]/i.test(c)))
  throw new Error("managed-rules: a pre-filter character is a letter");
const CHAR_BIT = new Int32Array(128);
FILTER_CHARS.forEach((c, i) => {
  const code = c.charCodeAt(0);
  if (code < 128) CHAR_BIT[code] = 1 << i;
});
const maskOf = (chars: string): number => {
  let m = 0;
  for (const c of chars) m |= CHAR_BIT[c.charCodeAt(0)] ?? 0;
  return m;
};
/**
 * Bit 31 (free: at most 31 filter characters): decoding may turn s into characters a scan of s cannot see,
 * so its normal form has to be scanned too: a second round of URL decoding (an escaped "%", a "%" without
 * two hex digits, %uXXXX), an entity (&), a JS escape (\\), a CR (a newline in the normal form), or a
 * character outside ASCII, raw or escaped (overlong UTF-8, NFKC's ＜ → <).
 */
const DECODES = 1 << 31;
for (const c of "%&\\\r") CHAR_BIT[c.charCodeAt(0)]! |= DECODES;
/** "%" as a filter character, for a %XX escape the scan decodes itself. */
const PERCENT_BIT = CHAR_BIT[37]! & ~DECODES;
/** A value without these characters needs no argument content check (protocol.ts ARGUMENT_LOOK_CHARS). */
const LOOK_MASK = maskOf(ARGUMENT_LOOK_CHARS);
/** The parts whose values are arguments, for those checks. */
const ARGUMENT_PARTS = PART_BIT.names | PART_BIT.values | PART_BIT.cookies;

/**
 * The filter characters of s and of what its %XX escapes of ASCII characters stand for (the common value's
 * normal form is that one round of decoding and lower case, which changes no filter character), plus DECODES
 * when its normal form may hold more.
 */
const scanMask = (s: string): number => {
  let m = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < n) {
      const hi = HEX[s.charCodeAt(i + 1)] ?? -1;
      const lo = HEX[s.charCodeAt(i + 2)] ?? -1;
      if (hi >= 0 && hi < 8 && lo >= 0) {
        m |= PERCENT_BIT | CHAR_BIT[hi * 16 + lo]!;
        i += 2;
        continue;
      }
    }
    m |= c < 128 ? CHAR_BIT[c]! : DECODES;
  }
  return m;
};

interface PreparedRule {
  rule: ManagedRule;
  mask: number;
  /** rule.also as a mask (0: no second group). */
  also: number;
  /** The `needs` pre-filter: one or two substrings checked with includes(), longer lists as one regex. */
  needs?: (text: string) => boolean;
  /** The rule's bit in PAIR_BIT (0: its words are not filtered by character pairs). */
  pairs: number;
  /** The node of rule.t in PIPELINES. */
  form: number;
  /** Position among the engine's active rules, for the per-request record of rules that matched. */
  index: number;
}

/** Every rule's transformation pipeline in one prefix tree, so shared prefixes run once per value. */
const PIPELINES = new PipelineTree();
const FORM_OF = new Map(MANAGED_RULES.map((r) => [r.id, PIPELINES.intern(r.t)]));
const FORMS = PIPELINES.size;

/**
 * Character pairs. A text that contains one of a rule's `needs` (or, for a detector, `words`) contains every
 * pair of consecutive characters of that word, so a normal form without a chosen pair of each of the rule's
 * words cannot match. The single-pass scan ORs PAIR_BIT over the pairs of the normal form it builds; a rule
 * whose bit it did not set is skipped before its word test, its form's gate or its detector runs. Each word is represented by its
 * least common pair by English letter frequency (letters after "etaoinshrdlcumwfgypbvkjxqz"'s first few,
 * digits and punctuation rarer still), so the bits of ordinary text rarely meet a rule's.
 */
const PAIR_BIT = new Int32Array(128 * 128);
const LETTER_ORDER = "etaoinshrdlcumwfgypbvkjxqz";
/** How uncommon a character of a normal form is: space least, then letters by frequency, then the rest. */
const rarity = (c: number): number => {
  if (c === 32 || c === 10) return 0;
  const letter = LETTER_ORDER.indexOf(String.fromCharCode(c));
  return letter === -1 ? 30 : 1 + letter;
};
/** A rule's pair bit, or 0 when its words cannot be filtered by pairs of the normal form. */
const PAIRS_OF = new Map<string, number>();
{
  let next = 0;
  for (const r of MANAGED_RULES) {
    // Only rules that read the normal form or a form that often equals it; words that could match lower-case
    // ASCII text only.
    const words = r.needs ?? r.words;
    if (!words || !NORMAL.every((t, i) => r.t[i] === t)) continue;
    if (words.some((w) => w === "" || /[^\x00-\x7f]|[A-Z]/.test(w))) continue;
    const bit = 1 << (next++ % 32);
    PAIRS_OF.set(r.id, bit);
    for (const w of words) {
      if (w.length === 1) {
        // A one-character word: every pair that ends in it.
        for (let first = 0; first < 128; first++) PAIR_BIT[(first << 7) | w.charCodeAt(0)]! |= bit;
        continue;
      }
      const score = (k: number) => rarity(w.charCodeAt(k)) + rarity(w.charCodeAt(k + 1));
      let best = 0;
      for (let i = 1; i < w.length - 1; i++) if (score(i) > score(best)) best = i;
      PAIR_BIT[(w.charCodeAt(best) << 7) | w.charCodeAt(best + 1)]! |= bit;
    }
  }
}

/** The rules a value with a given part and character mask runs. */
interface RuleSet {
  rules: PreparedRule[];
  /**
   * Per pipeline node whose `needs` two or more of these rules check: one regex of all their words.
   * Most values contain none of them, so one test stands in for several; when it finds one, each rule's own
   * pre-filter still decides.
   */
  gates: Array<RegExp | undefined>;
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

function ruleSet(rules: PreparedRule[]): RuleSet {
  const gates = Array.from({ length: FORMS }, (_, f) => {
    const users = rules.filter((r) => r.form === f && r.needs);
    if (users.length < 2) return undefined;
    return new RegExp([...new Set(users.flatMap((r) => r.rule.needs!))].map(escapeRe).join("|"));
  });
  return { rules, gates };
}

/** The decoded form every text pipeline starts from (the fused NORMAL prefix). */
const NORMAL_FORM = PIPELINES.intern(NORMAL);

const scan: SimpleScan = { text: undefined, bits: 0, pairs: 0 };

/**
 * The filter characters of a value and of its decoded forms, with its normal form stored in `forms` and its
 * pair bits in scan.pairs (most values: one pass computes all three). Otherwise one pass over the raw value,
 * and a second over its normal form only when decoding may add characters that pass cannot see; the pair bits
 * are then all set (nothing skipped by them). `forms`: PipelineTree.text's memo.
 */
function valueMask(forms: Array<string | undefined>): number {
  const raw = forms[0]!;
  scanSimple(raw, CHAR_BIT, PERCENT_BIT, PAIR_BIT, scan);
  if (scan.text !== undefined) {
    // The single pass took it: its normal form is one round of ASCII decoding and lower case, which adds no
    // filter character the raw scan did not count (DECODES is never set for such a value).
    forms[NORMAL_FORM] = scan.text;
    scan.text = undefined;
    return scan.bits;
  }
  scan.pairs = -1;
  const m = scanMask(raw);
  if ((m & DECODES) === 0) return m;
  const normal = generalNormal(raw);
  forms[NORMAL_FORM] = normal;
  return (m | scanMask(normal)) & ~DECODES;
}

/** Where a rule matched in text, or undefined. */
function matchRule(rule: ManagedRule, text: string): Hit | undefined {
  if (rule.detect) return rule.detect(text);
  const m = rule.re!.exec(text);
  return m ? { at: m.index, end: m.index + m[0].length } : undefined;
}

export class ManagedEngine {
  readonly settings: ManagedSettings;
  private readonly byPart = new Map<Part, PreparedRule[]>();
  private readonly byMask = new Map<Part, Map<number, RuleSet>>();
  /**
   * Values every applicable rule was run on and none matched. Rules are pure (no /g regexes), so such a value
   * stays clean: the User-Agent, Accept and cookie values that repeat on every request are then checked once
   * per isolate instead of once per request.
   */
  private readonly clean = new CleanMemo();
  /** The forms of the value being inspected, reused from value to value (index: PIPELINES node). */
  private readonly forms: Array<string | undefined> = new Array(FORMS).fill(undefined);
  readonly ruleCount: number;

  constructor(settings: ManagedSettings) {
    this.settings = settings;
    const disabled = new Set(settings.disabled_rules);
    const active = MANAGED_RULES.filter((r) => r.paranoia <= settings.paranoia && !disabled.has(r.id));
    this.ruleCount = active.length;
    for (const [index, r] of active.entries()) {
      const prepared = {
        rule: r,
        mask: maskOf(r.any),
        also: maskOf(r.also ?? ""),
        needs: needsFilter(r.needs),
        pairs: PAIRS_OF.get(r.id) ?? 0,
        form: FORM_OF.get(r.id)!,
        index,
      };
      for (const p of r.on) {
        const list = this.byPart.get(p);
        if (list) list.push(prepared);
        else this.byPart.set(p, [prepared]);
      }
    }
  }

  /** Whether raw is remembered as clean in part. Read-only (no refresh): for tests of the memo. */
  knownClean(raw: string, part: Part): boolean {
    return (this.clean.peek(raw) & PART_BIT[part]) !== 0;
  }

  /** Entries in the clean-value memo; never more than CLEAN_CACHE_SIZE. */
  get cleanSize(): number {
    return this.clean.size;
  }

  /** Whether the memo only samples this part's values now (they rarely repeated). For tests of the memo. */
  memoSampled(part: Part): boolean {
    return this.clean.isSampled(part);
  }

  /** Rules of a part whose character pre-filter passes for values with this mask; memoised per mask. */
  private rulesFor(part: Part, mask: number): RuleSet {
    let byMask = this.byMask.get(part);
    if (!byMask) {
      byMask = new Map();
      this.byMask.set(part, byMask);
    }
    let set = byMask.get(mask);
    if (!set) {
      const passes = (r: PreparedRule) =>
        (r.mask === 0 || (r.mask & mask) !== 0) && (r.also === 0 || (r.also & mask) !== 0);
      set = ruleSet((this.byPart.get(part) ?? []).filter(passes));
      // Bounded: at most 2^bits masks exist, but real traffic shows a few dozen; cap memory anyway.
      if (byMask.size < 4096) byMask.set(mask, set);
    }
    return set;
  }

  /** Runs every active rule once per request: a rule scores at most once, at the first place it matches. */
  inspect(inspection: Inspection): {
    score: number;
    matches: Match[];
    forceBlock?: boolean;
    notes?: string[];
  } {
    const matches: Match[] = [];
    // 1 for each active rule that already scored (by index); a rule scores at most once per request.
    const hit = new Uint8Array(this.ruleCount);
    let score = 0;
    if (!this.settings.enabled) return { score, matches };
    // Argument content findings of the values inspected below, scored with the structural ones.
    const found: Anomaly[] = [];
    const method = inspection.method;
    for (const target of inspection.targets) {
      const raw = target.raw;
      if (raw === "") continue;
      const bit = PART_BIT[target.part];
      // -1: not looked up (and not to be remembered).
      const known = this.clean.lookup(raw, bit);
      if (known > 0 && (known & bit) !== 0) continue;
      const forms = this.forms;
      forms[0] = raw;
      for (let f = 1; f < FORMS; f++) forms[f] = undefined;
      const mask = valueMask(forms);
      const pairs = scan.pairs;
      const normal = forms[NORMAL_FORM];
      // A value whose content an argument check looked at is not remembered: what those checks find depends on
      // where the value is (a query value or a body value), which the memo does not record.
      let looked = false;
      if (
        method !== undefined &&
        (bit & ARGUMENT_PARTS) !== 0 &&
        (mask & LOOK_MASK) !== 0 &&
        needsALook(raw)
      ) {
        looked = true;
        argumentValueAnomalies(target, method, found);
      }
      const { rules, gates } = this.rulesFor(target.part, mask);
      // Clean only if every rule ran: one skipped because it already scored elsewhere might match here too.
      let clean = !looked;
      // Bits per form: its gate was tried; it found a word.
      let tried = 0;
      let open = 0;
      for (const { rule, needs, form, index, pairs: bit } of rules) {
        if (hit[index] === 1) {
          clean = false;
          continue;
        }
        const text = forms[form] ?? PIPELINES.text(form, forms);
        // None of the rule's words can be in its text (the normal form, unchanged by the rule's later steps).
        if (bit !== 0 && (pairs & bit) === 0 && text === normal) continue;
        if (needs) {
          const gate = gates[form];
          if (gate !== undefined) {
            const b = 1 << form;
            if ((tried & b) === 0) {
              tried |= b;
              if (gate.test(text)) open |= b;
            }
            if ((open & b) === 0) continue;
          }
          if (!needs(text)) continue;
        }
        const hitAt = matchRule(rule, text);
        if (!hitAt) continue;
        clean = false;
        hit[index] = 1;
        score += SEVERITY_SCORE[rule.severity];
        matches.push({
          id: rule.id,
          source: "managed",
          category: rule.category,
          severity: rule.severity,
          location: target.location,
          part: target.part,
          transforms: pipelineName(rule.t),
          snippet: snippet(text, hitAt.at - 8),
          note: hitAt.note,
        });
      }
      if (clean && known >= 0) this.clean.add(raw, known | bit);
    }
    // Structural findings first in the explanation, then the argument count, then the rules.
    const first: Match[] = [];
    const structural = scoreAnomalies(
      found.length === 0 ? inspection.anomalies : [...inspection.anomalies, ...found],
      this.settings,
    );
    score += structural.score;
    first.push(...structural.matches);
    if (
      inspection.argCount > this.settings.max_args &&
      !this.settings.disabled_rules.includes(EXCESSIVE_ARGS_ID)
    ) {
      score += SEVERITY_SCORE.critical;
      first.push({
        id: EXCESSIVE_ARGS_ID,
        source: "managed",
        category: "protocol",
        severity: "critical",
        location: `args:${inspection.argCount}>${this.settings.max_args}`,
      });
    }
    if (first.length > 0) matches.unshift(...first);
    // The forms may be slices of the body: not kept alive until the next request.
    this.forms.fill(undefined);
    return { score, matches, forceBlock: structural.forceBlock, notes: structural.notes };
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
    const { score, matches, forceBlock, notes } = this.managed.inspect(inspection);
    const { threshold, mode } = this.managed.settings;
    const over = score >= threshold || forceBlock === true;
    const all = [...customMatches, ...matches];
    const action = over && mode === "block" ? "block" : all.length > 0 ? "log" : "pass";
    const d: WafDecision = { action, score, threshold, wouldBlock: over && mode === "log", matches: all };
    if (notes && notes.length > 0) d.notes = notes;
    return d;
  }
}

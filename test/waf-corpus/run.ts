// Runs the corpus through the managed ruleset: detection rate per category and false positives.
// Used by the worker tests (inside workerd) and by `npm run waf:corpus`, which prints the table.
import { ManagedEngine, type ManagedSettings } from "../../core/waf/engine.ts";
import { collectTargets, type InspectInput } from "../../core/waf/inspect.ts";
import { ATTACKS } from "./attacks.ts";
import { BENIGN } from "./benign.ts";
import type { CorpusEntry } from "./types.ts";

export function toInput(e: CorpusEntry): InspectInput {
  const query = e.rawQuery ?? new URLSearchParams(e.args ?? {}).toString().replace(/\+/g, "%20");
  const headers = new Headers(e.headers ?? {});
  let body: InspectInput["body"];
  if (e.form) {
    body = {
      text: new URLSearchParams(e.form).toString(),
      contentType: "application/x-www-form-urlencoded",
      truncated: false,
    };
  } else if (e.json !== undefined) {
    body = { text: JSON.stringify(e.json), contentType: "application/json", truncated: false };
  } else if (e.body) {
    body = { text: e.body.text, contentType: e.body.type, truncated: false };
  }
  return { method: e.method ?? "GET", path: e.path ?? "/", query, headers, body };
}

export interface CorpusReport {
  paranoia: number;
  categories: Array<{
    category: string;
    total: number;
    detected: number;
    rate: number;
    missed: CorpusEntry[];
  }>;
  attacks: { total: number; detected: number; rate: number };
  benign: { total: number; falsePositives: Array<{ entry: CorpusEntry; rules: string[] }> };
}

export function runCorpus(paranoia = 1, threshold = 5): CorpusReport {
  const settings: ManagedSettings = {
    enabled: true,
    paranoia,
    threshold,
    mode: "block",
    disabled_rules: [],
    max_args: 255,
  };
  const engine = new ManagedEngine(settings);
  const blocked = (e: CorpusEntry) => {
    const r = engine.inspect(collectTargets(toInput(e)));
    return { blocked: r.score >= threshold, rules: r.matches.map((m) => m.id) };
  };
  const byCat = new Map<string, { total: number; detected: number; missed: CorpusEntry[] }>();
  for (const a of ATTACKS) {
    const s = byCat.get(a.c) ?? { total: 0, detected: 0, missed: [] };
    s.total++;
    if (blocked(a).blocked) s.detected++;
    else s.missed.push(a);
    byCat.set(a.c, s);
  }
  const categories = [...byCat.entries()].map(([category, s]) => ({
    category,
    ...s,
    rate: s.detected / s.total,
  }));
  const detected = categories.reduce((n, c) => n + c.detected, 0);
  const falsePositives = BENIGN.map((entry) => ({ entry, ...blocked(entry) }))
    .filter((r) => r.blocked)
    .map(({ entry, rules }) => ({ entry, rules }));
  return {
    paranoia,
    categories,
    attacks: { total: ATTACKS.length, detected, rate: detected / ATTACKS.length },
    benign: { total: BENIGN.length, falsePositives },
  };
}

export function formatReport(r: CorpusReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [`WAF corpus at paranoia ${r.paranoia}`, "category            detected  rate"];
  for (const c of r.categories) {
    lines.push(`${c.category.padEnd(20)}${`${c.detected}/${c.total}`.padEnd(10)}${pct(c.rate)}`);
  }
  lines.push(
    `${"all attacks".padEnd(20)}${`${r.attacks.detected}/${r.attacks.total}`.padEnd(10)}${pct(r.attacks.rate)}`,
  );
  lines.push(`false positives: ${r.benign.falsePositives.length}/${r.benign.total} ordinary requests`);
  for (const c of r.categories) {
    for (const m of c.missed)
      lines.push(
        `  missed ${c.category}: ${JSON.stringify(m.args ?? m.rawQuery ?? m.path ?? m.headers ?? m.form ?? m.json ?? m.body).slice(0, 120)}`,
      );
  }
  for (const fp of r.benign.falsePositives) {
    lines.push(`  false positive (${fp.rules.join(",")}): ${JSON.stringify(fp.entry).slice(0, 160)}`);
  }
  return lines.join("\n");
}

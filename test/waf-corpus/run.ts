// Runs the corpus through the managed ruleset: detection rate per attack family and false positives.
// The corpus is the generated one (generate.ts, ordinary.ts) plus the hand-written lists (attacks.ts,
// benign.ts); the held-out set (held-out.ts) is reported on its own. Used by the worker tests (inside workerd)
// and by `npm run waf:corpus`, which prints the tables.
import { ManagedEngine } from "../../core/waf/engine.ts";
import { collectTargets, type InspectInput } from "../../core/waf/inspect.ts";
import { ATTACKS as HAND_ATTACKS } from "./attacks.ts";
import { BENIGN } from "./benign.ts";
import { generateAttacks } from "./generate.ts";
import { HELD_OUT_ATTACKS, HELD_OUT_ORDINARY } from "./held-out.ts";
import { generateOrdinary } from "./ordinary.ts";
import { managedSettings } from "./settings.ts";
import type { CorpusEntry } from "./types.ts";

/** The CRS family a hand-written entry's category belongs to. */
const FAMILY: Record<string, string> = {
  sqli: "942 sqli",
  xss: "941 xss",
  lfi: "930 lfi",
  "restricted-files": "930 lfi",
  rfi: "931 rfi",
  rce: "932 rce",
  shellshock: "932 rce",
  php: "933 php",
  nodejs: "934 nodejs",
  log4shell: "944 java",
  java: "944 java",
  session: "943 session",
  scanner: "913 scanner",
  protocol: "920 protocol",
};
const family = (e: CorpusEntry): CorpusEntry => ({ ...e, c: FAMILY[e.c] ?? e.c });

export const ATTACKS: CorpusEntry[] = [...generateAttacks(), ...HAND_ATTACKS.map(family)];
export const ORDINARY: CorpusEntry[] = [...generateOrdinary(), ...BENIGN];
export const HELD_OUT = { attacks: HELD_OUT_ATTACKS.map(family), ordinary: HELD_OUT_ORDINARY };

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

export function runCorpus(
  paranoia = 1,
  threshold = 5,
  corpus: { attacks: CorpusEntry[]; ordinary: CorpusEntry[] } = { attacks: ATTACKS, ordinary: ORDINARY },
): CorpusReport {
  const engine = new ManagedEngine(managedSettings({ paranoia, threshold }));
  const blocked = (e: CorpusEntry) => {
    const r = engine.inspect(collectTargets(toInput(e)));
    return { blocked: r.score >= threshold, rules: r.matches.map((m) => m.id) };
  };
  const byCat = new Map<string, { total: number; detected: number; missed: CorpusEntry[] }>();
  for (const a of corpus.attacks) {
    const s = byCat.get(a.c) ?? { total: 0, detected: 0, missed: [] };
    s.total++;
    if (blocked(a).blocked) s.detected++;
    else s.missed.push(a);
    byCat.set(a.c, s);
  }
  const categories = [...byCat.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([category, s]) => ({
      category,
      ...s,
      rate: s.detected / s.total,
    }));
  const detected = categories.reduce((n, c) => n + c.detected, 0);
  const falsePositives = corpus.ordinary
    .map((entry) => ({ entry, ...blocked(entry) }))
    .filter((r) => r.blocked)
    .map(({ entry, rules }) => ({ entry, rules }));
  return {
    paranoia,
    categories,
    attacks: { total: corpus.attacks.length, detected, rate: detected / corpus.attacks.length },
    benign: { total: corpus.ordinary.length, falsePositives },
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** One table: a row per family, a column per paranoia level (detected/total and rate), then false positives. */
export function formatTable(title: string, reports: CorpusReport[]): string {
  const head = reports.map((r) => `PL${r.paranoia}`.padStart(18)).join("");
  const lines = [title, `${"family".padEnd(14)}${head}`];
  for (const [i, c] of reports[0]!.categories.entries()) {
    const cells = reports.map((r) => {
      const x = r.categories[i]!;
      return `${x.detected}/${x.total} ${pct(x.rate)}`.padStart(18);
    });
    lines.push(`${c.category.padEnd(14)}${cells.join("")}`);
  }
  lines.push(
    `${"all attacks".padEnd(14)}${reports.map((r) => `${r.attacks.detected}/${r.attacks.total} ${pct(r.attacks.rate)}`.padStart(18)).join("")}`,
  );
  lines.push(
    `${"false pos.".padEnd(14)}${reports.map((r) => `${r.benign.falsePositives.length}/${r.benign.total} ${pct(r.benign.falsePositives.length / r.benign.total)}`.padStart(18)).join("")}`,
  );
  return lines.join("\n");
}

/** What paranoia 1 missed and blocked wrongly, one line each (at most `limit` of each). */
export function formatMisses(r: CorpusReport, limit = 40): string {
  const lines: string[] = [];
  const missed = r.categories.flatMap((c) => c.missed.map((m) => [c.category, m] as const));
  for (const [cat, m] of missed.slice(0, limit)) {
    const v = m.args ?? m.rawQuery ?? m.path ?? m.headers ?? m.form ?? m.json ?? m.body;
    lines.push(`  missed ${cat} (${m.note ?? "hand-written"}): ${JSON.stringify(v).slice(0, 140)}`);
  }
  if (missed.length > limit) lines.push(`  … and ${missed.length - limit} more missed`);
  for (const fp of r.benign.falsePositives.slice(0, limit)) {
    lines.push(`  false positive (${fp.rules.join(",")}): ${JSON.stringify(fp.entry).slice(0, 160)}`);
  }
  return lines.join("\n");
}

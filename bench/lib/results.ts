// The figures a bench run produces, and their two renderings: bench/results.json (flat, stable names) and the
// markdown table printed and written to bench/RESULTS.md. A row is a figure or a "skipped: <reason>".
export type Unit = "req/s" | "conn/s" | "ops/s" | "ms" | "us" | "ns" | "ratio" | "bytes" | "Gbit/s" | "count";

export interface Row {
  label: string;
  /** Stable name in results.json; absent for skipped rows. */
  name?: string;
  value?: number;
  unit?: Unit;
  target?: string;
  /** Why the row has no value. */
  skipped?: string;
  note?: string;
}

export interface Section {
  title: string;
  rows: Row[];
  notes: string[];
}

export class Results {
  readonly sections: Section[] = [];

  section(title: string): SectionWriter {
    const s: Section = { title, rows: [], notes: [] };
    this.sections.push(s);
    return new SectionWriter(s);
  }

  figures(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.sections)
      for (const r of s.rows) if (r.name !== undefined && r.value !== undefined) out[r.name] = round(r.value);
    return out;
  }

  units(): Record<string, Unit> {
    const out: Record<string, Unit> = {};
    for (const s of this.sections)
      for (const r of s.rows) if (r.name !== undefined && r.unit !== undefined) out[r.name] = r.unit;
    return out;
  }

  /** Row notes by figure name, and section notes under "<section>". */
  notes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of this.sections) {
      for (const r of s.rows) if (r.name !== undefined && r.note) out[r.name] = r.note;
      if (s.notes.length > 0) out[s.title] = s.notes.join(" ");
    }
    return out;
  }

  skipped(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of this.sections)
      for (const r of s.rows) if (r.skipped !== undefined) out[`${s.title}: ${r.label}`] = r.skipped;
    return out;
  }

  /** One markdown table, a bold row per section, then the sections' notes as a list. */
  markdown(): string {
    const rows: string[][] = [["Benchmark", "Value", "Target", "results.json name"]];
    for (const s of this.sections) {
      rows.push([`**${s.title}**`, "", "", ""]);
      for (const r of s.rows) {
        const value =
          r.skipped !== undefined ? `skipped: ${r.skipped}` : formatValue(r.value!, r.unit!) + noteSuffix(r);
        rows.push([r.label, value, r.target ?? "", r.name ? `\`${r.name}\`` : ""]);
      }
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    const out = [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`];
    for (const r of rows.slice(1)) out.push(line(r));
    const notes = this.sections.flatMap((s) => s.notes.map((n) => `- ${s.title}: ${n}`));
    if (notes.length > 0) out.push("", ...notes);
    return out.join("\n");
  }
}

export class SectionWriter {
  readonly data: Section;
  constructor(data: Section) {
    this.data = data;
  }

  add(
    name: string,
    label: string,
    value: number,
    unit: Unit,
    extra: Pick<Row, "target" | "note"> = {},
  ): void {
    if (!Number.isFinite(value)) {
      this.skip(label, `no finite value (${value})`);
      return;
    }
    this.data.rows.push({ name, label, value, unit, ...extra });
  }

  skip(label: string, reason: string): void {
    this.data.rows.push({ label, skipped: oneLine(reason) });
  }

  note(text: string): void {
    this.data.notes.push(text);
  }
}

function noteSuffix(r: Row): string {
  return r.note ? ` (${r.note})` : "";
}

export function oneLine(text: string, max = 160): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function round(v: number): number {
  if (Number.isInteger(v)) return v;
  const digits = Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 1 ? 3 : 5;
  return Number(v.toFixed(digits));
}

export function formatValue(v: number, unit: Unit): string {
  const int = (n: number) => Math.round(n).toLocaleString("en-US");
  switch (unit) {
    case "req/s":
    case "conn/s":
    case "ops/s":
      return `${int(v)} ${unit}`;
    case "count":
      return int(v);
    case "ms":
      return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
    case "us":
      return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} µs`;
    case "ns":
      return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ns`;
    case "ratio":
      return `${v.toFixed(2)}×`;
    case "Gbit/s":
      return `${v.toFixed(2)} Gbit/s`;
    case "bytes":
      if (v >= 1024 * 1024) return `${(v / 1024 / 1024).toFixed(2)} MiB`;
      if (v >= 1024) return `${(v / 1024).toFixed(1)} KiB`;
      return `${Math.round(v)} B`;
  }
}

// The fault suite's scoreboard: each scenario records what it sent, what failed, what was retried and whether
// its promise held; the file prints one table when it ends. Runtime-neutral (workerd and Node both use it).

export interface FaultRow {
  scenario: string;
  /** What was counted: "requests" for L7 scenarios, "connections" for L4 ones. */
  unit: "requests" | "connections";
  total: number;
  failed: number;
  retried: number;
  /** The promise in words, e.g. "0 failed GETs while another backend is healthy". */
  promise: string;
  held: boolean;
}

export interface FaultTable {
  record(row: FaultRow): FaultRow;
  rows: readonly FaultRow[];
  render(): string;
}

const COLUMNS = ["scenario", "unit", "total", "failed", "retried", "held", "promise"] as const;

/** A table for one suite; call render() in afterAll and print it. */
export function faultTable(title: string): FaultTable {
  const rows: FaultRow[] = [];
  return {
    rows,
    record(row) {
      rows.push(row);
      return row;
    },
    render() {
      const cells = rows.map((r) => [
        r.scenario,
        r.unit,
        String(r.total),
        String(r.failed),
        String(r.retried),
        r.held ? "yes" : "NO",
        r.promise,
      ]);
      const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
      const line = (xs: readonly string[]) =>
        xs
          .map((x, i) => x.padEnd(widths[i]!))
          .join("  ")
          .trimEnd();
      return [
        `\n${title}`,
        line(COLUMNS),
        line(widths.map((w) => "-".repeat(w))),
        ...cells.map(line),
        "",
      ].join("\n");
    },
  };
}

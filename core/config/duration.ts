// Durations and sizes are strings in the config ("250ms", "10s", "1h", "64kb") and numbers everywhere else:
// they are parsed exactly once, when the config loads.

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

export const DURATION_PATTERN = "^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$";
export const SIZE_PATTERN = "^[0-9]+(\\.[0-9]+)?(b|kb|kib|mb|mib|gb|gib)$";

/** Milliseconds in a duration string such as "250ms", "1.5s", "10m"; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

/** Bytes in a size string such as "64kb" or "1mb" (binary units); undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(b|kb|kib|mb|mib|gb|gib)$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

/** The shortest exact string for a number of milliseconds, for summaries and errors. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

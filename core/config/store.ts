// How the live config is laid out in Workers KV. One place for the key names and the version bookkeeping, so
// the worker's admin API (PUT /config, rollback) and `switchyard push` write exactly the same entries.
//
//   config             the live document (JSON text); metadata { version, updated_at, source }
//   config:history     JSON list of the kept versions' records, newest first (at most admin.history)
//   config:v:<n>       the document of version n, kept for rollback
//
// Isolates read only `config` (with its metadata) at the admin.refresh interval and parse the text only when
// the metadata's version differs from the one they serve.

export const CONFIG_KEY = "config";
export const HISTORY_KEY = "config:history";
export const versionKey = (version: number): string => `config:v:${version}`;

export interface VersionRecord {
  /** 1, 2, 3, … increasing with every write (a rollback writes a new version with an old document). */
  version: number;
  /** ISO 8601 time of the write. */
  updated_at: string;
  /** Who wrote it: "admin-api", "cli push", "rollback to 3", … */
  source: string;
}

export interface KvEntry {
  key: string;
  value: string;
  metadata?: VersionRecord;
}

export interface PlannedWrite {
  record: VersionRecord;
  /** Entries to put, the live `config` key last so readers never see a version whose copy is missing. */
  put: KvEntry[];
  /** Old version keys that fall out of the history. */
  remove: string[];
}

/** Reads `config:history` text defensively: anything malformed counts as no history. */
export function parseHistory(text: string | null | undefined): VersionRecord[] {
  if (!text) return [];
  try {
    const list = JSON.parse(text);
    if (!Array.isArray(list)) return [];
    return list.filter(
      (r): r is VersionRecord =>
        r !== null &&
        typeof r === "object" &&
        Number.isInteger(r.version) &&
        typeof r.updated_at === "string",
    );
  } catch {
    return [];
  }
}

/**
 * The KV entries that make `documentText` the next live version. `current` is the live version (from the
 * `config` key's metadata), which may be newer than the history if someone wrote `config` by hand.
 */
export function planWrite(
  documentText: string,
  history: readonly VersionRecord[],
  keep: number,
  source: string,
  current = 0,
  now = new Date(),
): PlannedWrite {
  const latest = Math.max(current, ...history.map((r) => r.version), 0);
  const record: VersionRecord = { version: latest + 1, updated_at: now.toISOString(), source };
  const next = [record, ...history.filter((r) => r.version !== record.version)];
  const kept = next.slice(0, Math.max(1, keep));
  const dropped = next.slice(kept.length);
  return {
    record,
    put: [
      { key: versionKey(record.version), value: documentText },
      { key: HISTORY_KEY, value: JSON.stringify(kept) },
      { key: CONFIG_KEY, value: documentText, metadata: record },
    ],
    remove: dropped.map((r) => versionKey(r.version)),
  };
}

/** The version to roll back to: `wanted` if it is kept, else the newest one older than the live version. */
export function rollbackTarget(
  history: readonly VersionRecord[],
  live: number,
  wanted?: number,
): VersionRecord | undefined {
  if (wanted !== undefined) return history.find((r) => r.version === wanted);
  return history.filter((r) => r.version < live).sort((a, b) => b.version - a.version)[0];
}

/** Pretty JSON, the form the document is stored in, so `diff` and humans reading KV see stable text. */
export function documentText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

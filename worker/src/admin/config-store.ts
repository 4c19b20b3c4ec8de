// Writes to the live config in Workers KV, for PUT /config and POST /config/rollback: the entries come from
// core/config/store.ts's planWrite, the same plan `switchyard push` writes through wrangler.
import {
  CONFIG_KEY,
  HISTORY_KEY,
  type PlannedWrite,
  parseHistory,
  planWrite,
  type VersionRecord,
  versionKey,
} from "../../../core/config/store.ts";
import { ProxyError } from "../errors.ts";

export interface KvState {
  history: VersionRecord[];
  /** The version of the `config` key right now (0 when there is none). */
  live: number;
}

export async function readKvState(kv: KVNamespace): Promise<KvState> {
  try {
    const [history, current] = await Promise.all([
      kv.get(HISTORY_KEY, "text"),
      kv.getWithMetadata<VersionRecord>(CONFIG_KEY, "text"),
    ]);
    const live = current.value === null ? 0 : (current.metadata?.version ?? 0);
    return { history: parseHistory(history), live };
  } catch (e) {
    throw new ProxyError(
      "SY_CONFIG_KV_UNAVAILABLE",
      `reading the config from SWITCHYARD_KV failed: ${String(e)}`,
      {
        cause: e,
      },
    );
  }
}

/** Whether a KV version older than the live one is kept (else a rollback goes to version 0). */
export function earlierVersion(state: KvState): boolean {
  return state.history.some((r) => r.version < state.live);
}

/** Deletes the live document, so wrangler.toml's config serves again; the kept versions stay for rollback. */
export async function removeLiveDocument(kv: KVNamespace): Promise<void> {
  try {
    await kv.delete(CONFIG_KEY);
  } catch (e) {
    throw new ProxyError(
      "SY_CONFIG_KV_UNAVAILABLE",
      `removing the config from SWITCHYARD_KV failed: ${String(e)}`,
      {
        cause: e,
      },
    );
  }
}

export async function readVersion(kv: KVNamespace, version: number): Promise<string | null> {
  return kv.get(versionKey(version), "text");
}

/** Writes a new version (history and version copy first, the live key last), then drops old copies. */
export async function writeVersion(
  kv: KVNamespace,
  text: string,
  state: KvState,
  keep: number,
  source: string,
): Promise<PlannedWrite> {
  const plan = planWrite(text, state.history, keep, source, state.live);
  try {
    for (const e of plan.put) {
      await kv.put(e.key, e.value, e.metadata ? { metadata: e.metadata } : undefined);
    }
    await Promise.all(plan.remove.map((k) => kv.delete(k)));
  } catch (e) {
    throw new ProxyError(
      "SY_CONFIG_KV_UNAVAILABLE",
      `writing the config to SWITCHYARD_KV failed: ${String(e)}`,
      {
        cause: e,
      },
    );
  }
  return plan;
}

// How a WAF decision is told: one line for the x-switchyard-waf header and the log's summary, and per rule that
// fired its id, where, the transformations and a short extract.
import type { Match, WafDecision } from "./engine.ts";

/** `942100@args:q[normal]"1' or '1'='1"`: a match in one token. */
export function matchDetail(m: Match): string {
  if (m.source === "custom") return m.id;
  let s = m.id;
  if (m.location) s += `@${m.location}`;
  if (m.transforms) s += `[${m.transforms}]`;
  if (m.snippet !== undefined) s += JSON.stringify(m.snippet);
  if (m.note) s += `(${m.note})`;
  return s;
}

/**
 * `action=block; score=10/5; rules=942100,942170; matched=942100@args:q[normal]"…" …` — the explain header and
 * the log use the same summary. Printable ASCII only (snippets are escaped), so it is a valid header value.
 */
export function explain(d: WafDecision): string {
  const ids = d.matches.map((m) => m.id).join(",");
  let s = `action=${d.action}${d.wouldBlock ? " (log mode: would block)" : ""}; score=${d.score}/${d.threshold}${ids ? `; rules=${ids}` : ""}`;
  const managed = d.matches.filter((m) => m.source === "managed");
  if (managed.length > 0) s += `; matched=${managed.map(matchDetail).join(" ")}`;
  if (d.notes) s += `; note=${d.notes.join(" ")}`;
  return s;
}

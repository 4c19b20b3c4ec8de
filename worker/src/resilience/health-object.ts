// The HealthChecker Durable Object: one per service (idFromName(service)). Its alarm runs the service's active
// checks at the interval plus jitter, feeds each backend's rise/fall machine (core/health/hysteresis.ts),
// logs every flip once with its reason, and stores the results; isolates read them through a short cache
// (health-client.ts), never per request. Isolates also report passive ejections here, so the others learn.
//
// Operator states (drain, maint; core/health/operator.ts) set through the admin API live here too, so every
// isolate's selection sees them with its next snapshot; a backend in maint is not probed.
//
// The object holds no config of its own: the spec arrives with each sync() (from isolates and the cron
// trigger), which also re-arms the alarm. With nobody syncing for IDLE_MS (the service was removed, or the
// worker is idle), the alarm stops re-arming; the cron trigger or the next request starts it again.
import { DurableObject } from "cloudflare:workers";
import { type CheckResult, evaluateHttpCheck } from "../../../core/health/http-check.ts";
import { hysteresis } from "../../../core/health/hysteresis.ts";
import { type OperatorState, probed } from "../../../core/health/operator.ts";
import { checkUrl, type HealthSpec, type HttpCheckSpec } from "./health-spec.ts";

export interface BackendHealth {
  healthy: boolean;
  /** Why the backend is in this state: the last check's result in words. */
  reason: string;
  /** When the state last flipped (ms since epoch; 0: never checked). */
  since: number;
  checkedAt: number;
}

export interface SharedEjection {
  until: number;
  reason: string;
}

export interface OperatorEntry {
  state: OperatorState;
  /** When it was set (ms since epoch). */
  since: number;
}

export interface OperatorChange {
  backend: string;
  from: OperatorState;
  to: OperatorState;
}

export interface HealthSnapshot {
  service: string;
  /** Backends an operator set to drain or maint, by URL (absent: ready). */
  operator: Record<string, OperatorEntry>;
  /** By backend URL; absent while a backend has not been checked (it counts as up). */
  backends: Record<string, BackendHealth>;
  /** Passive ejections reported by isolates, by backend URL, until they expire. */
  ejections: Record<string, SharedEjection>;
}

interface StoredBackend extends BackendHealth {
  /** Consecutive results that disagree with `healthy` (the hysteresis streak, kept across evictions). */
  streak: number;
}

interface Stored {
  spec: HealthSpec;
  backends: Record<string, StoredBackend>;
  ejections: Record<string, SharedEjection>;
  operator: Record<string, OperatorEntry>;
  lastSeen: number;
}

const KEY = "state";
/** Stop re-arming after this long without a sync (an hour, or 100 intervals if longer). */
const IDLE_MS = 3_600_000;
/** Bytes of a check's body read when looking for the expected text. */
const BODY_LIMIT = 64 * 1024;

export class HealthChecker extends DurableObject {
  #memo: Stored | undefined;

  /** Stores the spec if it changed, makes sure the alarm is armed, and answers the current results. */
  async sync(spec: HealthSpec): Promise<HealthSnapshot> {
    const now = Date.now();
    this.#adopt(spec, now);
    this.#save();
    if (spec.check && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(now + Math.floor(Math.random() * (spec.check.jitterMs + 1)));
    }
    return this.snapshot();
  }

  /**
   * Sets backends (URLs of `spec`) to an operator state; ready clears it. The admin API checked the names.
   * Returns what changed and the snapshot every isolate will see.
   */
  setOperator(
    spec: HealthSpec,
    backends: string[],
    state: OperatorState,
  ): { changes: OperatorChange[]; snapshot: HealthSnapshot } {
    const now = Date.now();
    const s = this.#adopt(spec, now);
    const changes: OperatorChange[] = [];
    for (const url of backends) {
      if (!spec.backends.includes(url)) continue;
      const from = s.operator[url]?.state ?? "ready";
      if (from === state) continue;
      if (state === "ready") delete s.operator[url];
      else s.operator[url] = { state, since: now };
      changes.push({ backend: url, from, to: state });
      console.log(
        JSON.stringify({
          level: "warn",
          msg: "backend operator state changed",
          service: spec.service,
          backend: url,
          from,
          to: state,
        }),
      );
    }
    this.#save();
    return { changes, snapshot: this.snapshot() };
  }

  /** An isolate ejected a backend: keep the longest ejection so every isolate leaves it out. */
  report(backend: string, until: number, reason: string): HealthSnapshot {
    const s = this.#load();
    if (s?.spec.backends.includes(backend)) {
      const prev = s.ejections[backend];
      if (!prev || prev.until < until) s.ejections[backend] = { until, reason };
      this.#save();
    }
    return this.snapshot();
  }

  snapshot(): HealthSnapshot {
    const s = this.#load();
    const now = Date.now();
    const backends: Record<string, BackendHealth> = {};
    const ejections: Record<string, SharedEjection> = {};
    const operator: Record<string, OperatorEntry> = { ...s?.operator };
    if (s) {
      for (const [url, b] of Object.entries(s.backends)) {
        backends[url] = { healthy: b.healthy, reason: b.reason, since: b.since, checkedAt: b.checkedAt };
      }
      for (const [url, e] of Object.entries(s.ejections)) if (e.until > now) ejections[url] = e;
    }
    return { service: s?.spec.service ?? "", operator, backends, ejections };
  }

  override async alarm(): Promise<void> {
    const s = this.#load();
    const check = s?.spec.check;
    if (!s || !check) return;
    const now = Date.now();
    if (now - s.lastSeen > Math.max(IDLE_MS, 100 * check.intervalMs)) {
      console.log(
        JSON.stringify({
          level: "info",
          msg: "health checks paused: no isolate asked for them",
          service: s.spec.service,
        }),
      );
      return;
    }
    // Backends in maintenance are not probed; their last result stays as it was.
    const probedNow = s.spec.backends.filter((url) => probed(s.operator[url]?.state ?? "ready"));
    const results = await Promise.all(probedNow.map((b) => probe(b, check)));
    const at = Date.now();
    probedNow.forEach((url, i) => {
      const result = results[i]!;
      const prev = s.backends[url];
      // Restore the machine from its stored state: replaying the streak cannot flip it (streak < threshold).
      const machine = hysteresis({ rise: check.rise, fall: check.fall, initial: prev?.healthy ?? true });
      for (let k = 0; k < (prev?.streak ?? 0); k++) machine.observe(!machine.healthy);
      const flipped = machine.observe(result.ok);
      const streak = flipped || result.ok === machine.healthy ? 0 : (prev?.streak ?? 0) + 1;
      s.backends[url] = {
        healthy: machine.healthy,
        streak,
        reason: result.reason,
        since: flipped ? at : (prev?.since ?? 0),
        checkedAt: at,
      };
      if (flipped) {
        console.log(
          JSON.stringify({
            level: machine.healthy ? "info" : "warn",
            msg: machine.healthy ? "backend is healthy again" : "backend is unhealthy",
            service: s.spec.service,
            backend: url,
            healthy: machine.healthy,
            reason: result.reason,
            after: machine.healthy ? check.rise : check.fall,
          }),
        );
      }
    });
    for (const [url, e] of Object.entries(s.ejections)) if (e.until <= at) delete s.ejections[url];
    this.#save();
    await this.ctx.storage.setAlarm(at + check.intervalMs + Math.floor(Math.random() * (check.jitterMs + 1)));
  }

  /** Takes `spec` as the current one; state of backends it no longer lists is dropped. */
  #adopt(spec: HealthSpec, now: number): Stored {
    const s = this.#load();
    if (s && s.spec.fingerprint === spec.fingerprint) {
      s.lastSeen = now;
      return s;
    }
    const keep = <T>(from: Record<string, T> | undefined) => {
      const out: Record<string, T> = {};
      for (const b of spec.backends) if (from?.[b]) out[b] = from[b];
      return out;
    };
    this.#memo = {
      spec,
      backends: keep(s?.backends),
      ejections: s?.ejections ?? {},
      operator: keep(s?.operator),
      lastSeen: now,
    };
    return this.#memo;
  }

  #load(): Stored | undefined {
    this.#memo ??= this.ctx.storage.kv.get<Stored>(KEY);
    // Stored before operator states existed.
    if (this.#memo && !this.#memo.operator) this.#memo.operator = {};
    return this.#memo;
  }

  #save(): void {
    if (this.#memo) this.ctx.storage.kv.put(KEY, this.#memo);
  }
}

/** One check of one backend, never throwing: a failure is a result with a reason. */
export async function probe(backend: string, check: HttpCheckSpec): Promise<CheckResult> {
  const url = checkUrl(backend, check);
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), check.timeoutMs);
  try {
    const res = await fetch(url, {
      method: check.method,
      headers: { "user-agent": "switchyard-health-check" },
      redirect: "manual",
      signal: ctrl.signal,
    });
    if (check.path === undefined) {
      await res.body?.cancel();
      return { ok: true, reason: `answered ${res.status}` };
    }
    const body = check.body === undefined ? undefined : await readUpTo(res, BODY_LIMIT);
    if (check.body === undefined) await res.body?.cancel();
    return evaluateHttpCheck(res.status, body, { status: check.status, body: check.body });
  } catch (e) {
    if (ctrl.signal.aborted) return { ok: false, reason: `no answer within ${check.timeoutMs}ms` };
    return { ok: false, reason: `request failed: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

async function readUpTo(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= limit) {
      await reader.cancel();
      break;
    }
  }
  return text;
}

// The metrics model, with no runtime dependencies: what one request contributes (Point), what an isolate sends
// in one flush (Batch), and the Aggregator that sums batches into totals (for Prometheus) and a ten-minute
// timeline of 10-second buckets per route (for the dashboard's charts). The MetricsAggregator Durable Object
// runs an Aggregator; so does an isolate without that binding, for its own traffic only.

/** Upper bounds of the latency histogram, in milliseconds (a last, implicit bucket is +Inf). */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;
/** Resolution of the timeline. */
export const BUCKET_MS = 10_000;
/** Timeline length: 60 buckets of 10 s. */
export const TIMELINE_BUCKETS = 60;

export interface Point {
  route: string;
  service: string;
  /** The backend that gave the final answer ("" when none did). */
  backend: string;
  status: number;
  ms: number;
  retries: number;
  wafBlocked: boolean;
  wafLogged: boolean;
  rateLimited: boolean;
  attempts: ReadonlyArray<{ backend: string; outcome: string; status?: number }>;
  at: number;
}

export interface Counts {
  requests: number;
  /** 1xx, 2xx, 3xx, 4xx, 5xx. */
  classes: number[];
  /** Non-cumulative histogram: one count per LATENCY_BUCKETS_MS bound, then +Inf. */
  latency: number[];
  latencySumMs: number;
  retries: number;
  wafBlocked: number;
  wafLogged: number;
  rateLimited: number;
}

export interface Batch {
  /** Key: route \u0001 service \u0001 backend. */
  series: Record<string, Counts>;
  /** Key: service \u0001 backend \u0001 outcome ("2xx"… or "connect-failure", "send-failure"). */
  attempts: Record<string, number>;
  /** Bucket start (ms) → route → counts. */
  timeline: Record<string, Record<string, Counts>>;
  configErrors: number;
}

export interface Snapshot {
  series: Record<string, Counts>;
  attempts: Record<string, number>;
  /** Oldest first; `start` is the bucket's start in ms. */
  timeline: { start: number; routes: Record<string, Counts> }[];
  configErrors: number;
  bucketMs: number;
  latencyBucketsMs: readonly number[];
  now: number;
}

export const SEP = "\u0001";

export function emptyCounts(): Counts {
  return {
    requests: 0,
    classes: [0, 0, 0, 0, 0],
    latency: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    latencySumMs: 0,
    retries: 0,
    wafBlocked: 0,
    wafLogged: 0,
    rateLimited: 0,
  };
}

export function emptyBatch(): Batch {
  return { series: {}, attempts: {}, timeline: {}, configErrors: 0 };
}

const CLASS_NAMES = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/** 1..5 for a status (below 100 counts as 1xx, 600 and above as 5xx). */
const classOf = (status: number) => Math.min(5, Math.max(1, Math.floor(status / 100)));

export function statusClass(status: number): string {
  return CLASS_NAMES[classOf(status) - 1]!;
}

function addPoint(c: Counts, p: Point): void {
  c.requests++;
  c.classes[classOf(p.status) - 1]!++;
  let i = 0;
  while (i < LATENCY_BUCKETS_MS.length && p.ms > LATENCY_BUCKETS_MS[i]!) i++;
  c.latency[i]!++;
  c.latencySumMs += p.ms;
  c.retries += p.retries;
  if (p.wafBlocked) c.wafBlocked++;
  if (p.wafLogged) c.wafLogged++;
  if (p.rateLimited) c.rateLimited++;
}

function addCounts(into: Counts, from: Counts): void {
  into.requests += from.requests;
  from.classes.forEach((n, i) => {
    into.classes[i] = (into.classes[i] ?? 0) + n;
  });
  from.latency.forEach((n, i) => {
    into.latency[i] = (into.latency[i] ?? 0) + n;
  });
  into.latencySumMs += from.latencySumMs;
  into.retries += from.retries;
  into.wafBlocked += from.wafBlocked;
  into.wafLogged += from.wafLogged;
  into.rateLimited += from.rateLimited;
}

/** Adds one request to a batch. */
export function record(batch: Batch, p: Point): void {
  const key = `${p.route}${SEP}${p.service}${SEP}${p.backend}`;
  addPoint(slot(batch.series, key), p);
  for (const a of p.attempts) {
    const outcome = a.outcome === "response" ? statusClass(a.status ?? 0) : a.outcome;
    const k = `${p.service}${SEP}${a.backend}${SEP}${outcome}`;
    batch.attempts[k] = (batch.attempts[k] ?? 0) + 1;
  }
  const start = bucketKey(p.at);
  let routes = batch.timeline[start];
  if (!routes) {
    routes = {};
    batch.timeline[start] = routes;
  }
  addPoint(slot(routes, p.route), p);
}

let lastBucket = Number.NaN;
let lastBucketKey = "";

/** The timeline key of the 10-second bucket `at` falls in (the same text for a whole bucket, made once). */
function bucketKey(at: number): string {
  const start = at - (at % BUCKET_MS);
  if (start !== lastBucket) {
    lastBucket = start;
    lastBucketKey = String(start);
  }
  return lastBucketKey;
}

/** The counts under `key`, created empty on first use. */
function slot(map: Record<string, Counts>, key: string): Counts {
  let c = map[key];
  if (!c) {
    c = emptyCounts();
    map[key] = c;
  }
  return c;
}

export function batchIsEmpty(b: Batch): boolean {
  return Object.keys(b.series).length === 0 && b.configErrors === 0;
}

export class Aggregator {
  series: Record<string, Counts> = {};
  attempts: Record<string, number> = {};
  configErrors = 0;
  #timeline = new Map<number, Record<string, Counts>>();

  add(batch: Batch, now = Date.now()): void {
    for (const [k, c] of Object.entries(batch.series)) addCounts(slot(this.series, k), c);
    for (const [k, n] of Object.entries(batch.attempts)) this.attempts[k] = (this.attempts[k] ?? 0) + n;
    this.configErrors += batch.configErrors;
    const oldest = now - (now % BUCKET_MS) - (TIMELINE_BUCKETS - 1) * BUCKET_MS;
    for (const [start, routes] of Object.entries(batch.timeline)) {
      const s = Number(start);
      if (s < oldest) continue;
      let into = this.#timeline.get(s);
      if (!into) {
        into = {};
        this.#timeline.set(s, into);
      }
      for (const [route, c] of Object.entries(routes)) addCounts(slot(into, route), c);
    }
    for (const s of this.#timeline.keys()) if (s < oldest) this.#timeline.delete(s);
  }

  /** Totals only, small enough to persist on every batch. */
  totals(): Pick<Snapshot, "series" | "attempts" | "configErrors"> {
    return { series: this.series, attempts: this.attempts, configErrors: this.configErrors };
  }

  restore(t: Pick<Snapshot, "series" | "attempts" | "configErrors">): void {
    this.series = t.series;
    this.attempts = t.attempts;
    this.configErrors = t.configErrors;
  }

  snapshot(now = Date.now()): Snapshot {
    const timeline = [...this.#timeline.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, routes]) => ({ start, routes }));
    return {
      ...this.totals(),
      timeline,
      bucketMs: BUCKET_MS,
      latencyBucketsMs: LATENCY_BUCKETS_MS,
      now,
    };
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;

/** Prometheus text exposition (version 0.0.4) of a snapshot's totals. */
export function renderPrometheus(s: Pick<Snapshot, "series" | "attempts" | "configErrors">): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const series = Object.entries(s.series)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, c]) => {
      const [route, service, backend] = k.split(SEP) as [string, string, string];
      return { l: { route, service, backend }, c };
    });

  family(
    "switchyard_requests_total",
    "counter",
    "Requests handled by the worker, by route, service, the backend that answered, and status class.",
  );
  for (const { l, c } of series) {
    c.classes.forEach((n, i) => {
      if (n > 0) out.push(`switchyard_requests_total${labels({ ...l, class: `${i + 1}xx` })} ${n}`);
    });
  }
  family(
    "switchyard_request_duration_seconds",
    "histogram",
    "Time from the request's arrival to its response headers, including retries.",
  );
  for (const { l, c } of series) {
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((b, i) => {
      cumulative += c.latency[i]!;
      out.push(
        `switchyard_request_duration_seconds_bucket${labels({ ...l, le: String(b / 1000) })} ${cumulative}`,
      );
    });
    cumulative += c.latency[LATENCY_BUCKETS_MS.length]!;
    out.push(`switchyard_request_duration_seconds_bucket${labels({ ...l, le: "+Inf" })} ${cumulative}`);
    out.push(`switchyard_request_duration_seconds_sum${labels(l)} ${c.latencySumMs / 1000}`);
    out.push(`switchyard_request_duration_seconds_count${labels(l)} ${c.requests}`);
  }
  const counter = (name: string, help: string, pick: (c: (typeof series)[number]["c"]) => number) => {
    family(name, "counter", help);
    for (const { l, c } of series) out.push(`${name}${labels(l)} ${pick(c)}`);
  };
  counter("switchyard_retries_total", "Extra backend attempts after a failed one.", (c) => c.retries);
  counter("switchyard_waf_blocked_total", "Requests the WAF blocked (403).", (c) => c.wafBlocked);
  counter("switchyard_waf_logged_total", "Requests a WAF rule matched in log mode.", (c) => c.wafLogged);
  counter("switchyard_rate_limited_total", "Requests refused by a rate limit (429).", (c) => c.rateLimited);

  family(
    "switchyard_backend_attempts_total",
    "counter",
    "Attempts per backend, by outcome: the status class of its answer, or connect-failure / send-failure.",
  );
  for (const [k, n] of Object.entries(s.attempts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [service, backend, outcome] = k.split(SEP) as [string, string, string];
    out.push(`switchyard_backend_attempts_total${labels({ service, backend, outcome })} ${n}`);
  }
  family(
    "switchyard_config_reload_errors_total",
    "counter",
    "Live config documents that were rejected, and failed reads of Workers KV; the last good config kept serving.",
  );
  out.push(`switchyard_config_reload_errors_total ${s.configErrors}`);
  return `${out.join("\n")}\n`;
}

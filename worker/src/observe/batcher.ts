// Per-isolate metric batching. Each request adds to an in-memory batch; at most once per FLUSH_MS the isolate
// sends the whole batch to the MetricsAggregator object inside waitUntil, so the request never waits for it
// and the object sees one call per isolate per interval however busy the isolate is (never one per request).
// Without a METRICS binding the batch goes into a local Aggregator: then /metrics shows this isolate only.
import { liveConfig } from "../config-source/live.ts";
import type { Env } from "../env.ts";
import {
  Aggregator,
  type Batch,
  batchIsEmpty,
  emptyBatch,
  type Point,
  record,
  type Snapshot,
} from "./metrics.ts";

export const FLUSH_MS = 5_000;

export interface AggregatorStub {
  ingest(batch: Batch): Promise<void> | void;
  snapshot(): Promise<Snapshot> | Snapshot;
}

export class Batcher {
  #batch: Batch = emptyBatch();
  #lastFlush = Date.now();
  /** The isolate's own totals, used when the worker has no METRICS binding. */
  readonly local = new Aggregator();
  /** Counters for tests: how many batches left this isolate. */
  readonly stats = { flushes: 0, points: 0 };

  record(p: Point): void {
    record(this.#batch, p);
    this.stats.points++;
  }

  /** Config documents this isolate has rejected so far (LiveConfig.errors): what is new goes into the batch. */
  #configErrorsSeen = 0;

  due(now = Date.now()): boolean {
    return now - this.#lastFlush >= FLUSH_MS && !batchIsEmpty(this.#batch);
  }

  /**
   * Hands the current batch to `stub` (or the local aggregator) and starts a new one. `configErrors` is the
   * isolate's running count of rejected config documents; the ones not sent yet go with this batch.
   */
  async flush(stub: AggregatorStub | undefined, configErrors = this.#configErrorsSeen): Promise<void> {
    this.#batch.configErrors += Math.max(0, configErrors - this.#configErrorsSeen);
    this.#configErrorsSeen = Math.max(this.#configErrorsSeen, configErrors);
    const batch = this.#batch;
    this.#batch = emptyBatch();
    this.#lastFlush = Date.now();
    if (batchIsEmpty(batch)) return;
    this.stats.flushes++;
    if (!stub) return this.local.add(batch);
    try {
      await stub.ingest(batch);
    } catch (e) {
      // Metrics are best effort: losing one interval is better than failing or slowing requests.
      console.error(JSON.stringify({ level: "warn", msg: "metrics flush failed", error: String(e) }));
    }
  }
}

const batchers = new WeakMap<object, Batcher>();
const NO_BINDING = {};

/** One batcher per aggregator namespace per isolate. */
export function batcherFor(env: Env | undefined): Batcher {
  const key = env?.METRICS ?? NO_BINDING;
  let b = batchers.get(key);
  if (!b) {
    b = new Batcher();
    batchers.set(key, b);
  }
  return b;
}

export function aggregatorStub(env: Env | undefined): AggregatorStub | undefined {
  const ns = env?.METRICS;
  return ns ? (ns.get(ns.idFromName("global")) as unknown as AggregatorStub) : undefined;
}

/** Flushes this isolate's batch now and returns the aggregated view (the whole worker with METRICS). */
export async function currentSnapshot(env: Env | undefined): Promise<Snapshot> {
  const batcher = batcherFor(env);
  const stub = aggregatorStub(env);
  await batcher.flush(stub, liveConfig(env).errors);
  return stub ? await stub.snapshot() : batcher.local.snapshot();
}

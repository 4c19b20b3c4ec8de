// The MetricsAggregator Durable Object: one object (named "global") sums the batches every isolate flushes, so
// GET /metrics and the dashboard see the whole worker. Isolates call it once per flush interval, never per
// request (see batcher.ts). Totals are written through to the object's SQLite-backed storage so counters
// survive eviction (Prometheus counters must not go backwards); the ten-minute timeline lives in memory only,
// since it is only a view and would be a large write on every batch.
import { DurableObject } from "cloudflare:workers";
import { Aggregator, type Batch, type Snapshot } from "./metrics.ts";

const TOTALS = "totals";

export class MetricsAggregator extends DurableObject {
  #agg: Aggregator | undefined;

  #load(): Aggregator {
    if (!this.#agg) {
      this.#agg = new Aggregator();
      const stored = this.ctx.storage.kv.get<ReturnType<Aggregator["totals"]>>(TOTALS);
      if (stored) this.#agg.restore(stored);
    }
    return this.#agg;
  }

  ingest(batch: Batch): void {
    const agg = this.#load();
    agg.add(batch);
    this.ctx.storage.kv.put(TOTALS, agg.totals());
  }

  snapshot(): Snapshot {
    return this.#load().snapshot();
  }
}

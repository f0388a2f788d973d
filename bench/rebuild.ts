/**
 * Read-model rebuild throughput and audit replay latency on a large ledger (>= 1,000,000 events
 * by default; BENCH_REBUILD_EVENTS overrides). Targets: a rebuild at >= 200,000 events/s in
 * < 256 MB RSS; one order's replay (read stream, verify chain, fold) < 2 ms at p99 whatever the
 * store's size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { orderHistory } from '../src/audit/replay.js';
import { SqliteEventStore } from '../src/eventstore/sqlite.js';
import { ALL_PROJECTIONS } from '../src/projections/all.js';
import { rebuildProjection } from '../src/projections/rebuild.js';
import { openReadDb } from '../src/projections/registry.js';
import { ProjectionRunner } from '../src/projections/runner.js';
import { generateLedger } from './rebuildLedger.js';
import { collectGarbage, measure, type Benchmark, type BenchOptions, type BenchResult, type Measurement } from './types.js';

const DEFAULT_EVENTS = 1_000_000;
const REPLAYS = 5000;
const MB = 1024 * 1024;

/** Peak RSS and heap seen by the samples taken while a measurement runs. */
class MemoryPeak {
  rss = 0;
  heap = 0;
  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.rss) this.rss = m.rss;
    if (m.heapUsed > this.heap) this.heap = m.heapUsed;
  }
  toString(): string {
    return `peak RSS ${(this.rss / MB).toFixed(0)} MB, peak heap ${(this.heap / MB).toFixed(0)} MB`;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function runRebuildBench(options: BenchOptions): Promise<BenchResult> {
  const target = Number(process.env.BENCH_REBUILD_EVENTS ?? DEFAULT_EVENTS);
  const dir = mkdtempSync(join(options.tempDir, 'otc-rebuild-bench-'));
  const measurements: Measurement[] = [];
  const notes: string[] = [];
  try {
    let generated = { events: 0, orders: 0, orderIds: [] as string[] };
    measurements.push(await measure('generate ledger (decider + hash chain)', target, () => {
      generated = generateLedger(join(dir, 'events.db'), target);
    }));
    notes.push(`ledger: ${generated.events} events, ${generated.orders} orders (+ one sig- stream each)`);
    const store = new SqliteEventStore({ path: join(dir, 'events.db') });
    for (const projection of ALL_PROJECTIONS) {
      const db = openReadDb(join(dir, `read-${projection.name}.db`));
      const peak = new MemoryPeak();
      collectGarbage();
      measurements.push(await measure(`rebuild ${projection.name}`, generated.events, async () => {
        await rebuildProjection({ store, db, projection, onProgress: () => peak.sample() });
      }));
      notes.push(`rebuild ${projection.name}: ${peak.toString()}`);
      db.close();
    }
    const peak = new MemoryPeak();
    const runner = new ProjectionRunner({ store, db: join(dir, 'read-all.db'), batchSize: 5000, afterBatch: () => peak.sample() });
    measurements.push(await measure('runner catch-up, all 6 projections', generated.events, async () => {
      await runner.catchUp();
    }));
    notes.push(`runner, all projections: ${peak.toString()}`);
    await runner.close();
    measurements.push(await replayLatency(store, generated.orderIds, notes));
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { measurements, notes };
}

/** orderHistory (read the stream, verify its chain, fold with status after each event) per order. */
async function replayLatency(store: SqliteEventStore, orderIds: readonly string[], notes: string[]): Promise<Measurement> {
  const timings: number[] = [];
  const measurement = await measure(`replay one order (x${REPLAYS})`, REPLAYS, async () => {
    for (let i = 0; i < REPLAYS; i++) {
      const orderId = orderIds[(i * 7919) % orderIds.length] as string;
      const started = process.hrtime.bigint();
      const history = await orderHistory(store, orderId);
      timings.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (history === null || !history.chain_valid) throw new Error(`replay of ${orderId} failed`);
    }
  });
  timings.sort((a, b) => a - b);
  notes.push(`replay latency: p50 ${percentile(timings, 50).toFixed(3)} ms, p99 ${percentile(timings, 99).toFixed(3)} ms, max ${timings[timings.length - 1]?.toFixed(3)} ms`);
  return measurement;
}

export const rebuildBenchmark: Benchmark = {
  name: 'rebuild',
  description: 'projection rebuild throughput and audit replay latency on a >= 1M-event ledger',
  run: runRebuildBench,
};

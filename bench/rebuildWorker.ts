/**
 * One step of the rebuild benchmark, run in a process of its own so that its peak memory is its
 * own (the kernel's high-water mark, `maxRSS`), not what generating the ledger or an earlier
 * step left behind. Prints one JSON line. Spawned by bench/rebuild.ts:
 *   generate <store> <events> | rebuild <store> <readDb> <projection> | rebuild-all <store> <readDb> [window]
 *   | rebuild-thread <store> <readDb> [heapMb] | runner <store> <readDb> <batch> | replay <store> <count> | fold <store>
 */
import { pathToFileURL } from 'node:url';
import { orderHistory } from '../src/audit/replay.js';
import { ORDER_STREAM_PREFIX } from '../src/aggregates/order/events.js';
import { SqliteEventStore } from '../src/eventstore/sqlite.js';
import { streamsWithPrefix } from '../src/eventstore/streams.js';
import { EMPTY_FOLD, foldOrderEvent, type OrderFold } from '../src/orderStream/fold.js';
import { ALL_PROJECTIONS, projectionByName } from '../src/projections/all.js';
import { LazyEvent } from '../src/projections/eventSource.js';
import { rebuildProjection, rebuildProjections } from '../src/projections/rebuild.js';
import { rebuildInWorker } from '../src/projections/rebuildInWorker.js';
import { openReadDb } from '../src/projections/registry.js';
import { ProjectionRunner } from '../src/projections/runner.js';
import { generateLedger } from './rebuildLedger.js';
import { collectGarbage } from './types.js';

const MB = 1024 * 1024;

export interface StepResult {
  readonly events: number;
  readonly elapsedMs: number;
  /** user + system CPU of this process: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly peakHeapMb: number;
  readonly extra?: Record<string, number>;
}

class HeapPeak {
  value = 0;
  sample(): void {
    this.value = Math.max(this.value, process.memoryUsage().heapUsed);
  }
}

async function timed(
  events: () => number,
  body: (peak: HeapPeak) => Promise<Record<string, number> | void>,
  peak = new HeapPeak(),
): Promise<StepResult> {
  collectGarbage();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const extra = (await body(peak)) ?? undefined;
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  peak.sample();
  // maxRSS is in KiB: the whole process's high-water mark, sampled by the kernel.
  return { events: events(), elapsedMs, cpuMs: (used.user + used.system) / 1000, maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB, peakHeapMb: peak.value / MB, extra };
}

async function rebuildStep(storePath: string, readPath: string, name: string): Promise<StepResult> {
  const projection = projectionByName(name);
  if (projection === null) throw new Error(`unknown projection ${name}`);
  const store = new SqliteEventStore({ path: storePath });
  const db = openReadDb(readPath);
  let head = 0n;
  const result = await timed(() => Number(head), async (peak) => {
    const done = await rebuildProjection({ store, db, projection, onProgress: () => peak.sample() });
    head = done.position;
  });
  db.close();
  await store.close();
  return result;
}

/** BENCH_REBUILD_THREADS=2: the fold on a second thread (rebuildPipeline.ts, opt-in), for an A/B within one build. */
const twoThreads = (): boolean => process.env.BENCH_REBUILD_THREADS === '2';
const foldThreadOf = (storePath: string) => (twoThreads() ? { foldThread: { storePath } } : {});

/**
 * Every read model in one pass (rebuildProjections): one read and one fold per batch for all;
 * folded on a second thread while this one writes with BENCH_REBUILD_THREADS=2.
 */
async function rebuildAllStep(storePath: string, readPath: string, batchSize?: number): Promise<StepResult> {
  const store = new SqliteEventStore({ path: storePath });
  const db = openReadDb(readPath);
  let head = 0n;
  const result = await timed(() => Number(head), async (peak) => {
    const done = await rebuildProjections({
      store, db, projections: ALL_PROJECTIONS, onProgress: () => peak.sample(), ...foldThreadOf(storePath), ...(batchSize === undefined ? {} : { batchSize }),
    });
    head = done[0]?.position ?? 0n;
  });
  db.close();
  await store.close();
  return result;
}

/**
 * Every read model in one pass on a worker thread with a heap limit, as the server's admin rebuild
 * runs it (rebuildInWorker): folded on a second thread with BENCH_REBUILD_THREADS=2. CPU and maxRSS are the whole process's: the worker's and this thread's.
 */
async function rebuildThreadStep(storePath: string, readPath: string, heapMb?: number): Promise<StepResult> {
  const db = openReadDb(readPath);
  let head = 0n;
  const result = await timed(() => Number(head), async () => {
    const done = await rebuildInWorker({
      storePath, readDbPath: readPath, names: ALL_PROJECTIONS.map((p) => p.name), owner: `bench-${process.pid}`, db,
      threads: twoThreads() ? 2 : 1,
      ...(heapMb === undefined ? {} : { heapMb }),
    });
    head = done[0]?.position ?? 0n;
  });
  db.close();
  return result;
}

async function runnerStep(storePath: string, readPath: string, batchSize: number): Promise<StepResult> {
  const store = new SqliteEventStore({ path: storePath });
  const peak = new HeapPeak();
  const runner = new ProjectionRunner({ store, db: readPath, batchSize, afterBatch: () => peak.sample() });
  let head = 0n;
  const result = await timed(() => Number(head), async () => {
    head = await runner.catchUp();
  }, peak);
  await runner.close();
  await store.close();
  return result;
}

/** orderHistory (read the stream, verify its chain, fold with status after each event) per order. */
async function replayStep(storePath: string, count: number): Promise<StepResult> {
  const store = new SqliteEventStore({ path: storePath });
  const streams = await allOrderStreams(store);
  const timings: number[] = [];
  // Warm up the JIT and the page cache on other orders, then let GC settle before measuring.
  for (let i = 0; i < 500; i++) await orderHistory(store, orderIdAt(streams, i * 104_729));
  const result = await timed(() => count, async () => {
    for (let i = 0; i < count; i++) {
      const orderId = orderIdAt(streams, i * 7919);
      const started = process.hrtime.bigint();
      const history = await orderHistory(store, orderId);
      timings.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (history === null || !history.chain_valid) throw new Error(`replay of ${orderId} failed`);
    }
    timings.sort((a, b) => a - b);
    return { p50Ms: pick(timings, 50), p99Ms: pick(timings, 99), maxMs: timings[timings.length - 1] ?? NaN, orders: streams.length };
  });
  await store.close();
  return result;
}

/**
 * The parts of a rebuild's per-event cost that every reader of the log pays, apart from any read
 * model: reading raw rows, parsing their JSON, and the one fold (foldOrderEvent) of every order
 * event, each part timed on its own (CPU) over the whole log, chunk by chunk.
 */
async function foldStep(storePath: string): Promise<StepResult> {
  const store = new SqliteEventStore({ path: storePath });
  const folds = new Map<string, OrderFold>();
  const cpu = { readMs: 0, parseMs: 0, foldMs: 0 };
  const cpuMs = (since: NodeJS.CpuUsage): number => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  let count = 0;
  const result = await timed(() => count, async (peak) => {
    for (let after = 0n; ;) {
      let t = process.cpuUsage();
      const rows = store.readAllRawSync(after, 5000);
      cpu.readMs += cpuMs(t);
      if (rows.length === 0) break;
      t = process.cpuUsage();
      const events = rows.map((row) => new LazyEvent(row));
      for (const event of events) {
        // LazyEvent parses on first use: touch both here so the fold below is timed on its own.
        if (!event.stream.startsWith(ORDER_STREAM_PREFIX)) continue;
        void event.data;
        void event.metadata;
      }
      cpu.parseMs += cpuMs(t);
      t = process.cpuUsage();
      for (const event of events) {
        if (!event.stream.startsWith(ORDER_STREAM_PREFIX)) continue;
        const fold = foldOrderEvent(folds.get(event.stream) ?? EMPTY_FOLD, event);
        folds.set(event.stream, fold);
        count++;
      }
      cpu.foldMs += cpuMs(t);
      after = events[events.length - 1]?.position ?? after;
      peak.sample();
    }
    return { ...cpu, orders: folds.size, foldUsPerEvent: (1000 * cpu.foldMs) / count };
  });
  await store.close();
  return result;
}

const pick = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const orderIdAt = (streams: readonly string[], i: number): string => (streams[i % streams.length] as string).slice('order-'.length);

async function allOrderStreams(store: SqliteEventStore): Promise<string[]> {
  const names: string[] = [];
  for await (const stream of streamsWithPrefix(store, ORDER_STREAM_PREFIX, 10_000)) names.push(stream);
  return names;
}

async function main(argv: readonly string[]): Promise<StepResult> {
  const [step, storePath, arg1, arg2] = argv;
  if (storePath === undefined) throw new Error('usage: rebuildWorker <step> <store> ...');
  if (step === 'generate') {
    let orders = 0;
    return timed(() => Number(arg1), async () => {
      orders = generateLedger(storePath, Number(arg1)).orders;
      return { orders };
    });
  }
  if (step === 'rebuild' && arg1 !== undefined && arg2 !== undefined) return rebuildStep(storePath, arg1, arg2);
  if (step === 'rebuild-all' && arg1 !== undefined) return rebuildAllStep(storePath, arg1, arg2 === undefined ? undefined : Number(arg2));
  if (step === 'rebuild-thread' && arg1 !== undefined) return rebuildThreadStep(storePath, arg1, arg2 === undefined ? undefined : Number(arg2));
  if (step === 'runner' && arg1 !== undefined) return runnerStep(storePath, arg1, Number(arg2 ?? 5000));
  if (step === 'replay') return replayStep(storePath, Number(arg1 ?? 5000));
  if (step === 'fold') return foldStep(storePath);
  throw new Error(`unknown step ${step}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

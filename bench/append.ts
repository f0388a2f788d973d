/**
 * How much the ledger's write path costs over SQLite's own durable commit. Four writers on the
 * same disk, each on a fresh database file per round, taking turns so disk noise hits all alike:
 *  - raw:     better-sqlite3 inserting one pre-serialised row per BEGIN IMMEDIATE transaction into
 *             the event store's own table (EVENTS_SCHEMA), WAL + synchronous=FULL: the floor;
 *  - raw, no stream-start index: the same without the store's partial index, to show its cost;
 *  - append:  SqliteEventStore.append of one pre-built event to a new stream;
 *  - command: handleOrderCommand(PlaceOrder) on a fresh order: read the stream, fold, decide,
 *             build metadata and the hash link, append.
 * append and command run with the store's three writers (issue 14 lever 3): inline (the commit on
 * the event loop), worker (the commit on the store's writer thread) and adaptive (a lone append,
 * as every one here is, on the loop while the thread is idle). Beside the rates, each
 * writer's event-loop active time per op (performance.eventLoopUtilization): what a request
 * waiting behind that op's commit pays.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { PlaceOrder } from '../src/aggregates/order/index.js';
import { handleOrderCommand, type CommandContext } from '../src/commands/handleCommand.js';
import { EVENTS_SCHEMA, SqliteEventStore, type SqliteWriterMode } from '../src/eventstore/sqlite.js';
import type { JsonObject, NewEvent } from '../src/eventstore/types.js';
import { measure, median, type Benchmark, type BenchOptions, type Measurement } from './types.js';

const WARMUP_OPS = 200;
const MAKER = 'RTC' + 'a'.repeat(40);
const TARGET_RATIO = 0.8;
const CHUNK_OPS = 100;

/** The store's table without its partial index on stream starts: what that index costs is visible. */
const BARE_TABLE = `
CREATE TABLE events (
  position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, version INTEGER NOT NULL,
  event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
  UNIQUE (stream, version), UNIQUE (event_id)
);`;

/** An OrderPlaced-sized payload, so every measurement writes rows of the same size. */
function sampleEvent(i: number, prefix: string): NewEvent {
  const orderId = `otc_${prefix}${String(i).padStart(12, '0')}`;
  const data: JsonObject = {
    order_id: orderId, side: 'buy', pair: 'RTC/USDC', maker_wallet: MAKER, amount_micro_rtc: '2500000',
    price_per_rtc_nano_quote: '150000000', total_quote_nano: '375000000', maker_eth_address: null, htlc_hash: null,
    ttl_seconds: 3600, placed_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T01:00:00.000Z',
  };
  const eventId = randomUUID();
  const metadata = {
    event_id: eventId, correlation_id: randomUUID(), causation_id: null, actor: MAKER, recorded_at: '2026-01-01T00:00:00.000Z',
    schema_version: 1, prev_hash: '0'.repeat(64), hash: 'f'.repeat(64),
  };
  return { eventId, type: 'OrderPlaced', data, metadata };
}

/** One of the compared write paths, open on its own fresh database file. */
interface Writer {
  readonly label: string;
  /** Performs operations [from, from + count) of this writer's pre-built sequence. */
  run(from: number, count: number): Promise<void> | void;
  close(): Promise<void> | void;
  /**
   * The adaptive append writer only: how long each append() call held the loop, in ms (a lone
   * append commits inside the call, a WAL checkpoint at the commit that crosses 1,000 pages too),
   * and the WAL's size after the run.
   */
  readonly loopHeldMs?: number[];
  walBytes?(): number;
}

function rawWriter(dir: string, total: number, ddl: string, label: string): Writer {
  const db = new Database(join(dir, `raw-${randomUUID()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(ddl);
  const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const insertOne = db.transaction((row: readonly unknown[]) => insert.run(...row)).immediate;
  // Serialised before the clock starts: this is SQLite's cost alone.
  const rows = Array.from({ length: total }, (_, i) => {
    const e = sampleEvent(i, 'raw');
    return [`order-${String(e.data['order_id'])}`, 1, e.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)];
  });
  return {
    label,
    run: (from, count) => {
      for (const row of rows.slice(from, from + count)) insertOne(row);
    },
    close: () => void db.close(),
  };
}

function appendWriter(dir: string, total: number, writer: SqliteWriterMode): Writer {
  const path = join(dir, `append-${randomUUID()}.db`);
  const store = new SqliteEventStore({ path, writer });
  const events = Array.from({ length: total }, (_, i) => sampleEvent(i, 'app'));
  const stream = (e: NewEvent) => `order-${String(e.data['order_id'])}`;
  if (writer !== 'adaptive') {
    return {
      label: `SqliteEventStore.append, ${writer}`,
      run: async (from, count) => {
        for (const e of events.slice(from, from + count)) await store.append(stream(e), [e], 'no_stream');
      },
      close: () => store.close(),
    };
  }
  const loopHeldMs: number[] = [];
  return {
    label: `SqliteEventStore.append, ${writer}`,
    loopHeldMs,
    walBytes: () => statSync(`${path}-wal`).size,
    run: async (from, count) => {
      for (const e of events.slice(from, from + count)) {
        const startedMs = performance.now();
        const appended = store.append(stream(e), [e], 'no_stream');
        // Warm-up ops (from 0) are not kept.
        if (from > 0) loopHeldMs.push(performance.now() - startedMs);
        await appended;
      }
    },
    close: () => store.close(),
  };
}

function placeOrder(i: number): PlaceOrder {
  return {
    type: 'PlaceOrder', orderId: `otc_cmd${String(i).padStart(12, '0')}`, side: 'buy', pair: 'RTC/USDC', makerWallet: MAKER,
    amountMicroRtc: 2_500_000n, pricePerRtcNanoQuote: 150_000_000n, ttlSeconds: 3600, makerEthAddress: null, htlcHash: null,
    now: new Date('2026-01-01T00:00:00.000Z'),
  };
}

function commandWriter(dir: string, writer: SqliteWriterMode): Writer {
  const store = new SqliteEventStore({ path: join(dir, `command-${randomUUID()}.db`), writer });
  const ctx: CommandContext = { correlationId: 'bench', causationId: null, actor: MAKER, now: () => new Date() };
  return {
    label: `handleOrderCommand(PlaceOrder), ${writer}`,
    run: async (from, count) => {
      for (let i = from; i < from + count; i++) {
        const command = placeOrder(i);
        await handleOrderCommand(store, command.orderId, command, ctx);
      }
    },
    close: () => store.close(),
  };
}

function makeWriters(dir: string, total: number): Writer[] {
  return [
    rawWriter(dir, total, EVENTS_SCHEMA, 'raw insert, store schema (1 tx each)'),
    rawWriter(dir, total, BARE_TABLE, 'raw insert, no stream-start index'),
    appendWriter(dir, total, 'inline'),
    commandWriter(dir, 'inline'),
    appendWriter(dir, total, 'worker'),
    commandWriter(dir, 'worker'),
    appendWriter(dir, total, 'adaptive'),
    commandWriter(dir, 'adaptive'),
  ];
}

/** Indexes into makeWriters' list. */
const RAW = 0;
const RAW_BARE = 1;
const APPEND_INLINE = 2;
const COMMAND_INLINE = 3;
const APPEND_WORKER = 4;
const COMMAND_WORKER = 5;
const APPEND_ADAPTIVE = 6;
const COMMAND_ADAPTIVE = 7;

/** A round's rates, with each writer's event-loop active time per op in µs. */
interface Round {
  readonly measurements: Measurement[];
  readonly loopUsPerOp: number[];
  /** The adaptive append writer's loop time per append() call (ms) and its WAL's size at the end. */
  readonly adaptiveHeldMs: number[];
  readonly adaptiveWalBytes: number;
}

/**
 * One round: the writers take turns in chunks (in a rotating order), so a slow or fast spell of
 * the shared disk lands on all of them instead of on whichever happened to run then.
 */
async function runRound(dir: string, n: number): Promise<Round> {
  const writers = makeWriters(dir, WARMUP_OPS + n);
  const elapsedMs = writers.map(() => 0);
  const activeMs = writers.map(() => 0);
  const adaptive = writers[APPEND_ADAPTIVE] as Writer;
  let adaptiveWalBytes = Number.NaN;
  try {
    for (const writer of writers) await writer.run(0, WARMUP_OPS);
    for (let from = WARMUP_OPS, chunk = 0; from < WARMUP_OPS + n; from += CHUNK_OPS, chunk++) {
      const count = Math.min(CHUNK_OPS, WARMUP_OPS + n - from);
      for (let k = 0; k < writers.length; k++) {
        const index = (k + chunk) % writers.length;
        const elu = performance.eventLoopUtilization();
        const timed = await measure('', count, () => (writers[index] as Writer).run(from, count));
        activeMs[index] = (activeMs[index] ?? 0) + performance.eventLoopUtilization(elu).active;
        elapsedMs[index] = (elapsedMs[index] ?? 0) + timed.elapsedMs;
      }
    }
    adaptiveWalBytes = adaptive.walBytes?.() ?? Number.NaN;
  } finally {
    for (const writer of writers) await writer.close();
  }
  const measurements = writers.map((w, i) => {
    const ms = elapsedMs[i] ?? 0;
    return { label: w.label, ops: n, elapsedMs: ms, opsPerSec: n / (ms / 1000) };
  });
  return { measurements, loopUsPerOp: activeMs.map((ms) => (ms * 1000) / n), adaptiveHeldMs: adaptive.loopHeldMs ?? [], adaptiveWalBytes };
}

/** p50 / p99 / max of the loop's hold per append, and how many held it over 3 ms (the checkpoints). */
function heldSummary(heldMs: readonly number[]): string {
  const sorted = [...heldMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const over = sorted.filter((ms) => ms > 3).length;
  return `p50 ${at(0.5).toFixed(2)} p99 ${at(0.99).toFixed(2)} p99.9 ${at(0.999).toFixed(2)} max ${(sorted[sorted.length - 1] ?? NaN).toFixed(2)} ms, ${over} of ${sorted.length} over 3 ms`;
}

const medianOf = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function runAppend(options: BenchOptions) {
  const dir = mkdtempSync(join(options.tempDir, 'otc-ledger-bench-'));
  const rounds: Round[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) rounds.push(await runRound(dir, options.n));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rate = (round: Round, i: number) => round.measurements[i]?.opsPerSec ?? NaN;
  const loop = (round: Round, i: number) => round.loopUsPerOp[i] ?? NaN;
  // Ratios are taken within a round, where the writers shared the disk's mood, then the median.
  const ratio = (i: number, base: number) => medianOf(rounds.map((r) => rate(r, i) / rate(r, base)));
  const loopRatio = (i: number, base: number) => medianOf(rounds.map((r) => loop(r, i) / loop(r, base)));
  const met = (value: number) => `target >= ${TARGET_RATIO.toFixed(2)}: ${value >= TARGET_RATIO ? 'met' : 'NOT met'}`;
  const labels = rounds[0]?.measurements.map((m) => m.label) ?? [];
  const perRound = (i: number) =>
    `${(labels[i] ?? '').padEnd(44)} ${rounds.map((r) => rate(r, i).toFixed(0)).join(', ')} ops/s; loop ${rounds.map((r) => loop(r, i).toFixed(0)).join(', ')} µs/op`;
  const commandInline = ratio(COMMAND_INLINE, RAW);
  const commandWorker = ratio(COMMAND_WORKER, RAW);
  const commandAdaptive = ratio(COMMAND_ADAPTIVE, RAW);
  return {
    measurements: labels.map((_, i) => median(rounds.map((r) => r.measurements[i] as Measurement))),
    notes: [
      `table: median of ${options.rounds} rounds; each round ${options.n} ops per writer after ${WARMUP_OPS} warm-up ops,`,
      `writers interleaved in chunks of ${CHUNK_OPS}, fresh database files per round. per round:`,
      ...labels.map((_, i) => perRound(i)),
      'ratios (median of the per-round ratios):',
      `  append inline / raw (store schema)  = ${ratio(APPEND_INLINE, RAW).toFixed(3)}`,
      `  append worker / raw (store schema)  = ${ratio(APPEND_WORKER, RAW).toFixed(3)}`,
      `  command inline / raw (store schema) = ${commandInline.toFixed(3)} (${met(commandInline)})`,
      `  append adaptive / raw (store schema) = ${ratio(APPEND_ADAPTIVE, RAW).toFixed(3)}`,
      `  command worker / raw (store schema) = ${commandWorker.toFixed(3)} (${met(commandWorker)})`,
      `  command adaptive / raw (store schema) = ${commandAdaptive.toFixed(3)} (${met(commandAdaptive)})`,
      `  command worker / command inline     = ${ratio(COMMAND_WORKER, COMMAND_INLINE).toFixed(3)}`,
      `  command adaptive / command inline   = ${ratio(COMMAND_ADAPTIVE, COMMAND_INLINE).toFixed(3)}`,
      `  command inline / raw (no start index) = ${ratio(COMMAND_INLINE, RAW_BARE).toFixed(3)}`,
      `  raw store schema / no start index   = ${ratio(RAW, RAW_BARE).toFixed(3)}`,
      'event-loop active time per op, worker / inline and adaptive / inline (median of the per-round ratios):',
      `  append  ${loopRatio(APPEND_WORKER, APPEND_INLINE).toFixed(3)} / ${loopRatio(APPEND_ADAPTIVE, APPEND_INLINE).toFixed(3)}`,
      `  command ${loopRatio(COMMAND_WORKER, COMMAND_INLINE).toFixed(3)} / ${loopRatio(COMMAND_ADAPTIVE, COMMAND_INLINE).toFixed(3)}`,
      'adaptive append, loop held per append() call (the lone commit, and a WAL checkpoint at the one crossing 1,000 pages), per round:',
      ...rounds.map((r, i) => `  round ${i + 1}: ${heldSummary(r.adaptiveHeldMs)}; WAL ${(r.adaptiveWalBytes / 1e6).toFixed(2)} MB at the end`),
    ],
  };
}

export const appendBenchmark: Benchmark = {
  name: 'append',
  description: 'single-event commands vs raw durable SQLite inserts, same disk',
  run: runAppend,
};

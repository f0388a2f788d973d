/**
 * Issue 14 lever 3, measured before it is built: what moving the SQLite commit (and its fsync) to a
 * worker thread would cost and free. Same disk, same schema (EVENTS_SCHEMA), WAL +
 * synchronous=FULL, one-row inserts, the two writers taking turns chunk by chunk:
 *  - inline: the event loop runs BEGIN IMMEDIATE / INSERT / COMMIT itself (today's store);
 *  - worker: a worker thread with its own connection does the same per message and replies; the
 *    main thread only posts and awaits.
 * Each runs sequentially (one append awaited at a time: the single-event append ratio's case) and
 * grouped (GROUP appends in flight, committed in one transaction, as group commit does). Since
 * lever 3 is built, the same runs also go through the real store with each writer (`store inline`,
 * `store worker`: SqliteEventStore.append of one event, GROUP of them started together). Reported
 * per op: wall time, and the event loop's active time (performance.eventLoopUtilization), which is
 * what a request waiting behind a commit pays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { EVENTS_SCHEMA, SqliteEventStore, type SqliteWriterMode } from '../src/eventstore/sqlite.js';
import type { NewEvent } from '../src/eventstore/types.js';
import type { Benchmark, BenchOptions, Measurement } from './types.js';

const GROUP = 32;
const CHUNK = 200;
const ROW = JSON.stringify({ order_id: 'otc_0000000000000000', side: 'buy', pair: 'RTC/USDC', amount_micro_rtc: '2500000', padding: 'x'.repeat(300) });

/** The worker's whole program: open, then per message insert `count` rows in one transaction and reply. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(workerData.schema);
const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, 1, ?, ?, ?, ?)');
const group = db.transaction((rows) => { for (const r of rows) insert.run(r, r, 'OrderPlaced', workerData.row, '{}'); });
parentPort.on('message', (m) => { group.immediate(m.ids); parentPort.postMessage(m.seq); });
`;

interface Writer {
  readonly label: string;
  /** Commits one transaction of these ids; resolves when durable. */
  commit(ids: readonly string[]): Promise<void> | void;
  close(): Promise<void> | void;
}

function inlineWriter(path: string): Writer {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(EVENTS_SCHEMA);
  const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, 1, ?, ?, ?, ?)');
  const group = db.transaction((rows: readonly string[]) => {
    for (const r of rows) insert.run(r, r, 'OrderPlaced', ROW, '{}');
  });
  return {
    label: 'inline',
    commit: (rows) => {
      group.immediate(rows);
    },
    close: () => {
      db.close();
    },
  };
}

function workerWriter(path: string): Writer {
  const require = createRequire(import.meta.url);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, schema: EVENTS_SCHEMA, row: ROW, betterSqlite3: require.resolve('better-sqlite3') } });
  const waiting = new Map<number, () => void>();
  let seq = 0;
  worker.on('message', (done: number) => {
    waiting.get(done)?.();
    waiting.delete(done);
  });
  return {
    label: 'worker',
    commit: (ids) =>
      new Promise<void>((resolve) => {
        const id = ++seq;
        waiting.set(id, resolve);
        worker.postMessage({ seq: id, ids });
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

function storeEvent(id: string): NewEvent {
  const metadata = {
    event_id: id, correlation_id: id, causation_id: null, actor: 'bench', recorded_at: '2026-01-01T00:00:00.000Z',
    schema_version: 1, prev_hash: '0'.repeat(64), hash: 'f'.repeat(64),
  };
  return { eventId: id, type: 'OrderPlaced', data: JSON.parse(ROW) as NewEvent['data'], metadata };
}

/** The real store: one single-event append per id, all started together, each awaited to its durable commit. */
function storeWriter(path: string, writer: SqliteWriterMode): Writer {
  const store = new SqliteEventStore({ path, writer });
  return {
    label: `store ${writer}`,
    commit: async (ids) => {
      await Promise.all(ids.map((id) => store.append(id, [storeEvent(id)], 'no_stream')));
    },
    close: () => store.close(),
  };
}

interface Tally {
  ops: number;
  wallMs: number;
  activeMs: number;
}

let idSeq = 0;
const ids = (n: number): string[] => Array.from({ length: n }, () => `s-${++idSeq}`);

/** `ops` appends, one awaited at a time, or GROUP per transaction with GROUP transactions' worth in flight. */
async function chunk(writer: Writer, ops: number, grouped: boolean, tally: Tally): Promise<void> {
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  if (grouped) {
    for (let done = 0; done < ops; done += GROUP) await writer.commit(ids(GROUP));
  } else {
    for (let i = 0; i < ops; i++) await writer.commit(ids(1));
  }
  const used = performance.eventLoopUtilization(elu);
  tally.ops += ops;
  tally.wallMs += performance.now() - started;
  tally.activeMs += used.active;
}

export const commitOffLoopBenchmark: Benchmark = {
  name: 'commit-off-loop',
  description: 'lever 3 measured: fsync\'d commits on the event loop vs on a worker thread (loop time and wall per append)',
  async run(options: BenchOptions) {
    const dir = mkdtempSync(join(options.tempDir, 'otc-bench-commit-off-loop-'));
    const writers = [
      inlineWriter(join(dir, 'inline.db')), workerWriter(join(dir, 'worker.db')),
      storeWriter(join(dir, 'store-inline.db'), 'inline'), storeWriter(join(dir, 'store-worker.db'), 'worker'),
    ];
    const tallies = new Map<string, Tally>();
    const tally = (key: string): Tally => tallies.get(key) ?? (tallies.set(key, { ops: 0, wallMs: 0, activeMs: 0 }).get(key) as Tally);
    try {
      for (const w of writers) await chunk(w, CHUNK, false, { ops: 0, wallMs: 0, activeMs: 0 });
      const rounds = Math.max(1, Math.ceil(options.n / CHUNK));
      for (let r = 0; r < rounds; r++) {
        for (const grouped of [false, true]) {
          const order = r % 2 === 0 ? writers : [...writers].reverse();
          for (const w of order) await chunk(w, CHUNK, grouped, tally(`${w.label}, ${grouped ? `${GROUP} per commit` : '1 per commit'}`));
        }
      }
    } finally {
      for (const w of writers) await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const measurements: Measurement[] = [...tallies].map(([label, t]) => ({ label, ops: t.ops, elapsedMs: t.wallMs, opsPerSec: t.ops / (t.wallMs / 1000) }));
    const us = (t: Tally | undefined, v: 'wallMs' | 'activeMs') => (t === undefined ? NaN : (t[v] * 1000) / t.ops);
    const notes = [...tallies].map(([label, t]) => `${label.padEnd(22)} per append: wall ${us(t, 'wallMs').toFixed(1)} µs, event loop active ${us(t, 'activeMs').toFixed(1)} µs`);
    const get = (label: string) => tallies.get(label);
    for (const [inline, worker] of [['inline', 'worker'], ['store inline', 'store worker']] as const) {
      notes.push(
        `${worker} vs ${inline}: single append throughput ${(us(get(`${inline}, 1 per commit`), 'wallMs') / us(get(`${worker}, 1 per commit`), 'wallMs')).toFixed(3)}; ` +
          `event-loop time per append: 1 per commit ${(us(get(`${worker}, 1 per commit`), 'activeMs') / us(get(`${inline}, 1 per commit`), 'activeMs')).toFixed(3)}, ` +
          `${GROUP} per commit ${(us(get(`${worker}, ${GROUP} per commit`), 'activeMs') / us(get(`${inline}, ${GROUP} per commit`), 'activeMs')).toFixed(3)}`,
      );
    }
    return { measurements, notes };
  },
};

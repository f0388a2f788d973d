/**
 * What the event-id format costs the event store's disk (issue 14, bytes written per trade).
 *
 * `events` keeps UNIQUE (event_id). With random ids (UUID v4) every event lands in a random leaf of
 * that index, so each commit writes one 4 KiB page per event besides its rows, and the checkpoint
 * writes it again; with time-ordered ids (UUID v7, src/eventstore/chainedEvents.ts) new ids go to the
 * index's right edge. The cost of random ids grows with the store (more leaves, fewer shared by two
 * events of one checkpoint), so both runs append to a copy of the same prefilled store.
 *
 * Each commit is what the writer thread's group commit makes at 64 clients: three trades' events
 * (8 each) on three new order streams, three of them spending a signature (its own random-key
 * index, the same in both runs). Writes go through the store's own schema and pragmas (WAL,
 * synchronous=FULL, autocheckpoint at 1,000 pages). Bytes are /proc/self/io `wchar`, what this
 * process handed the kernel in write calls (WAL frames, checkpoints into the main file; nothing else
 * writes while it is measured), Linux only; they equal an `strace` count (bench/writesByFile.ts).
 * `write_bytes` is not used: on this VM's ext4 it reported 3–5 times the bytes strace saw.
 *
 * Knobs: BENCH_EVENT_IDS_PREFILL (events already in the store, default 1,000,000), --n (commits per
 * run, default 4000 -> 96,000 events), --rounds (runs of each format, interleaved; medians reported).
 * `node --expose-gc dist/bench/run.js event-ids --n=2000 --rounds=3`
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { EVENTS_SCHEMA } from '../src/eventstore/sqlite.js';
import type { Benchmark, BenchOptions, BenchResult, Measurement } from './types.js';

const TRADES_PER_COMMIT = 3;
const EVENTS_PER_TRADE = 8;
const PREFILL_TX_ROWS = 20_000;
/** About the size of a trade's events in the store (~650 bytes of data and metadata each). */
const DATA = JSON.stringify({ amount_micro_rtc: '2500000', price_per_rtc_nano_quote: '150000000', pair: 'RTC/USDC', note: 'x'.repeat(200) });
const metadataFor = (eventId: string): string =>
  JSON.stringify({ event_id: eventId, actor: 'RTCabcdef0123456789abcdef0123456789abcdef', correlation_id: 'req-1', recorded_at: new Date().toISOString(), hash: randomBytes(32).toString('hex'), prev_hash: randomBytes(32).toString('hex') });

type IdFormat = 'v4' | 'v7';
const newId: Record<IdFormat, () => string> = { v4: () => uuidv4(), v7: () => uuidv7() };

function writeBytes(): number {
  return Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
}

const streamName = (): string => `order-otc_${randomBytes(8).toString('hex')}`;

/** A store as one written before time-ordered ids: `events` random v4 ids, order streams of 8 events. */
function prefill(path: string, events: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(EVENTS_SCHEMA);
  const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata, signature_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const batch = db.transaction((rows: number) => {
    for (let i = 0; i < rows; i += EVENTS_PER_TRADE) {
      const stream = streamName();
      for (let v = 1; v <= EVENTS_PER_TRADE; v++) {
        const id = uuidv4();
        insert.run(stream, v, id, 'OrderEvent', DATA, metadataFor(id), v <= 3 ? randomBytes(32).toString('hex') : null);
      }
    }
  });
  for (let written = 0; written < events; written += PREFILL_TX_ROWS) batch(Math.min(PREFILL_TX_ROWS, events - written));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

interface Run {
  readonly format: IdFormat;
  readonly elapsedMs: number;
  readonly bytesPerEvent: number;
}

function appendRun(path: string, format: IdFormat, commits: number): Run {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata, signature_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const commit = db.transaction(() => {
    for (let t = 0; t < TRADES_PER_COMMIT; t++) {
      const stream = streamName();
      for (let v = 1; v <= EVENTS_PER_TRADE; v++) {
        const id = newId[format]();
        insert.run(stream, v, id, 'OrderEvent', DATA, metadataFor(id), v <= 1 ? randomBytes(32).toString('hex') : null);
      }
    }
  });
  const bytesBefore = writeBytes();
  const started = process.hrtime.bigint();
  for (let i = 0; i < commits; i++) commit();
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = writeBytes() - bytesBefore;
  db.close();
  return { format, elapsedMs, bytesPerEvent: bytes / (commits * TRADES_PER_COMMIT * EVENTS_PER_TRADE) };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export const eventIdsBenchmark: Benchmark = {
  name: 'event-ids',
  description: 'bytes written per appended event with random (v4) vs time-ordered (v7) event ids, into a prefilled store',
  async run(options: BenchOptions): Promise<BenchResult> {
    const prefillEvents = Number(process.env['BENCH_EVENT_IDS_PREFILL'] ?? 1_000_000);
    const dir = mkdtempSync(join(options.tempDir, 'otc-bench-event-ids-'));
    try {
      const base = join(dir, 'base.db');
      prefill(base, prefillEvents);
      const runs: Run[] = [];
      for (let round = 0; round < options.rounds; round++) {
        for (const format of ['v4', 'v7'] as const) {
          const path = join(dir, `${format}-${round}.db`);
          copyFileSync(base, path);
          runs.push(appendRun(path, format, options.n));
          rmSync(path, { force: true });
          rmSync(`${path}-wal`, { force: true });
          rmSync(`${path}-shm`, { force: true });
        }
      }
      const events = options.n * TRADES_PER_COMMIT * EVENTS_PER_TRADE;
      const of = (format: IdFormat) => runs.filter((r) => r.format === format);
      const measurements: Measurement[] = (['v4', 'v7'] as const).map((format) => {
        const elapsedMs = median(of(format).map((r) => r.elapsedMs));
        return { label: `append ${events} events in commits of ${TRADES_PER_COMMIT * EVENTS_PER_TRADE}, ${format} ids`, ops: events, elapsedMs, opsPerSec: events / (elapsedMs / 1000) };
      });
      const bytes = (format: IdFormat) => median(of(format).map((r) => r.bytesPerEvent));
      const perRun = runs.map((r) => `${r.format} ${(r.bytesPerEvent / 1024).toFixed(2)}`).join(', ');
      return {
        measurements,
        notes: [
          `store prefilled with ${prefillEvents} events (random v4 ids), ${options.rounds} interleaved rounds`,
          `bytes written per appended event (WAL + checkpoints), median: v4 ${(bytes('v4') / 1024).toFixed(2)} KiB, v7 ${(bytes('v7') / 1024).toFixed(2)} KiB (v7/v4 ${(bytes('v7') / bytes('v4')).toFixed(2)})`,
          `per run, KiB per event: ${perRun}`,
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

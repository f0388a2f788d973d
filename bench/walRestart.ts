/**
 * Why session 6's adaptive writer left a 17.8 MB WAL, and what bounds it (issue 14 lever 3). Lone
 * commits on one connection (the event loop's), each BEGIN IMMEDIATE + one event row + COMMIT with
 * WAL + synchronous=FULL, into the store's own table, one turn of the loop apart, under three
 * checkpoint strategies, each on a fresh file:
 *  - posted:   the loop's wal_autocheckpoint=0; every 200 commits a PASSIVE checkpoint is posted to a
 *              second connection on a worker thread, and the loop goes on committing (session 6);
 *  - awaited:  the same, but the loop waits for the checkpoint's answer before its next commit;
 *  - autocheckpoint: the loop's connection keeps SQLite's autocheckpoint (1,000 pages), which runs
 *              inside the COMMIT that crosses it (the adaptive writer as built).
 * A WAL restarts (is overwritten from its start) only at a write that begins after a complete
 * checkpoint; its file never shrinks, so its size is the most it ever held.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { EVENTS_SCHEMA } from '../src/eventstore/sqlite.js';
import type { Benchmark, BenchOptions, Measurement } from './types.js';

type Strategy = 'posted' | 'awaited' | 'autocheckpoint';
const CHECKPOINT_EVERY_COMMITS = 200;

interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/** A second connection on a thread of its own that runs a PASSIVE checkpoint per message. */
function checkpointThread(path: string): { checkpoint(): Promise<CheckpointResult>; close(): Promise<number> } {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.betterSqlite3);
    const db = new Database(workerData.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    parentPort.on('message', () => parentPort.postMessage(db.pragma('wal_checkpoint(PASSIVE)')[0]));`;
  const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(source, { eval: true, workerData: { path, betterSqlite3 } });
  return {
    checkpoint: () => new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage('checkpoint');
    }),
    close: () => worker.terminate(),
  };
}

async function run(dir: string, strategy: Strategy, commits: number): Promise<{ measurement: Measurement; note: string }> {
  const path = join(dir, `wal-${strategy}-${randomUUID()}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (strategy !== 'autocheckpoint') db.pragma('wal_autocheckpoint = 0');
  db.exec(EVENTS_SCHEMA);
  const insert = db.prepare('INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES (?, 1, ?, ?, ?, ?)');
  const commitOne = db.transaction((i: number) => insert.run(`s-${i}`, randomUUID(), 'OrderPlaced', JSON.stringify({ padding: 'x'.repeat(600) }), '{}')).immediate;
  const thread = strategy === 'autocheckpoint' ? null : checkpointThread(path);
  const results: Promise<CheckpointResult>[] = [];
  const startedMs = performance.now();
  for (let i = 1; i <= commits; i++) {
    commitOne(i);
    if (thread !== null && i % CHECKPOINT_EVERY_COMMITS === 0) {
      const result = thread.checkpoint();
      results.push(result);
      if (strategy === 'awaited') await result;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const elapsedMs = performance.now() - startedMs;
  const checkpoints = await Promise.all(results);
  await thread?.close();
  const walBytes = statSync(`${path}-wal`).size;
  db.close();
  const shown = checkpoints.slice(0, 3).map((c) => `${c.busy}/${c.log}/${c.checkpointed}`).join(', ');
  return {
    measurement: { label: `${strategy}, ${commits} lone commits`, ops: commits, elapsedMs, opsPerSec: commits / (elapsedMs / 1000) },
    note: `${strategy.padEnd(15)} ${commits} commits: WAL ${(walBytes / 1e6).toFixed(2)} MB${checkpoints.length > 0 ? `; checkpoints busy/log/checkpointed ${shown}${checkpoints.length > 3 ? ', …' : ''}` : ''}`,
  };
}

export const walRestartBenchmark: Benchmark = {
  name: 'wal-restart',
  description: 'WAL size after lone loop commits under three checkpoint strategies (why session 6\'s adaptive writer grew its WAL)',
  async run(options: BenchOptions) {
    const dir = mkdtempSync(join(options.tempDir, 'otc-wal-restart-'));
    const measurements: Measurement[] = [];
    const notes: string[] = [];
    try {
      for (const commits of [600, 3000]) {
        for (const strategy of ['posted', 'awaited', 'autocheckpoint'] as const) {
          const { measurement, note } = await run(dir, strategy, commits);
          measurements.push(measurement);
          notes.push(note);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { measurements, notes };
  },
};

import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore, type CommitSite, type SqliteEventStoreOptions } from '../../src/eventstore/sqlite.js';
import { openWriterConnection } from '../../src/eventstore/sqliteWritePath.js';
import { storageFaultOf, StoreWriterStopped } from '../../src/eventstore/storageFault.js';
import { storeCommitCounter } from '../../src/eventstore/storeMetrics.js';
import type { AppendResult } from '../../src/eventstore/types.js';
import { expectStrictlyIncreasing, newEvent, storeFilePerTest } from './contractSupport.js';

/**
 * Issue 14 lever 3, the adaptive writer: a lone append commits at once on the event loop's
 * connection, anything that meets a queue, a group on the thread or another open request goes to
 * the writer thread. What only this writer adds (the contract, group-commit, storage-fault and
 * two-process suites run it too): where each commit runs, that the two connections never leave
 * the WAL growing (the defect of session 6's attempt), and that an append is answered only once
 * it is committed.
 */
const files = storeFilePerTest('otc-adaptive-');

function open(options: Omit<SqliteEventStoreOptions, 'path'> = {}): SqliteEventStore {
  return files.open({ writer: 'adaptive', ...options });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('where the adaptive writer commits', () => {
  it('a lone append on the loop before append returns; appends made together after the first, and any append while another request is open, on the thread', async () => {
    const sites: CommitSite[] = [];
    let alone = true;
    const store = open({ onCommit: (site) => sites.push(site), isCallerAlone: () => alone });
    expect(store.writer).toBe('adaptive');

    const lone = store.append('lone', [newEvent()], 'no_stream');
    // Committed synchronously: the row is there before the promise is awaited.
    expect(sites).toEqual(['loop']);
    expect(store.readAllSync(0n, 10)).toHaveLength(1);
    expect((await lone).position).toBe(1n);

    const together = await Promise.all(Array.from({ length: 5 }, (_, i) => store.append(`together-${i}`, [newEvent()], 'no_stream')));
    expect(sites).toEqual(['loop', 'loop', 'thread']);
    expect(together.map((r) => r.position)).toEqual([2n, 3n, 4n, 5n, 6n]);

    await nextTurn();
    alone = false;
    await store.append('not-alone', [newEvent()], 'no_stream');
    expect(sites).toEqual(['loop', 'loop', 'thread', 'thread']);
    alone = true;
    await nextTurn();
    await store.append('alone-again', [newEvent()], 'no_stream');
    expect(sites).toEqual(['loop', 'loop', 'thread', 'thread', 'loop']);
  });

  it('never on the loop while the thread has a group: a lone append waits behind it, in call order', async () => {
    const sites: CommitSite[] = [];
    let alone = true;
    const store = open({ onCommit: (site) => sites.push(site), isCallerAlone: () => alone, busyTimeoutMs: 5_000 });
    await store.append('first', [newEvent()], 'no_stream');
    // Another connection holds the write lock, so the thread's group stays in flight for a while.
    const other = new Database(files.path);
    other.exec('BEGIN IMMEDIATE');
    alone = false;
    const held = Promise.all([store.append('held-1', [newEvent()], 'no_stream'), store.append('held-2', [newEvent()], 'no_stream')]);
    await nextTurn();
    expect(sites).toEqual(['loop', 'thread']);
    alone = true;
    // A commit on the loop now would block it on the lock until the busy timeout: it must queue instead.
    const startedMs = performance.now();
    const behind = store.append('behind', [newEvent()], 'no_stream');
    expect(performance.now() - startedMs).toBeLessThan(1_000);
    expect(sites).toEqual(['loop', 'thread']);
    setTimeout(() => {
      other.exec('ROLLBACK');
      other.close();
    }, 50);
    const results: AppendResult[] = [...(await held), await behind];
    expect(sites).toEqual(['loop', 'thread', 'thread']);
    expectStrictlyIncreasing(results.map((r) => r.position));
    expect(results.map((r) => r.position)).toEqual([2n, 3n, 4n]);
  });

  it('counts its commits in otc_ledger_store_commits by site', async () => {
    const registry = new Registry();
    const store = open({ onCommit: storeCommitCounter(registry) });
    const metric = async () => registry.getSingleMetricAsString('otc_ledger_store_commits');
    expect(await metric()).toContain('otc_ledger_store_commits{on="loop"} 0');
    expect(await metric()).toContain('otc_ledger_store_commits{on="thread"} 0');
    await store.append('a', [newEvent()], 'no_stream');
    await Promise.all([store.append('b', [newEvent()], 'no_stream'), store.append('c', [newEvent()], 'no_stream'), store.append('d', [newEvent()], 'no_stream')]);
    expect(await metric()).toContain('otc_ledger_store_commits{on="loop"} 2');
    expect(await metric()).toContain('otc_ledger_store_commits{on="thread"} 1');
  });

  it('refuses even a lone append once its thread stopped (store_unavailable), and leaves appendSync to the inline writer', async () => {
    const stops: Error[] = [];
    const store = open({ onWriterStopped: (error) => stops.push(error) });
    expect(() => store.appendSync('sync', [newEvent()], 'no_stream')).toThrow(/inline writer/);
    expect(() => new SqliteEventStore({ path: ':memory:', writer: 'adaptive' })).toThrow(/file-backed/);
    await store.append('before', [newEvent()], 'no_stream');
    await store.terminateWriterThread();
    const refused = await store.append('after', [newEvent()], 'no_stream').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreWriterStopped);
    expect(storageFaultOf(refused)).toBe('store_unavailable');
    expect(stops).toHaveLength(1);
    expect(await store.readStream('after')).toEqual([]);
    expect(await store.readStream('before')).toHaveLength(1);
  });
});

/**
 * A reader on its own connection and thread, as the read-model writer's: it pages through the log
 * without pause until told to stop, so there is nearly always a read transaction on the WAL.
 */
function startReader(dbPath: string): { stop(): Promise<number> } {
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.betterSqlite3);
    const db = new Database(workerData.path, { readonly: true });
    const page = db.prepare('SELECT position, data FROM events WHERE position > ? ORDER BY position LIMIT 200');
    const flag = new Int32Array(workerData.stop);
    let after = 0;
    let reads = 0;
    while (Atomics.load(flag, 0) === 0) {
      const rows = page.all(after);
      reads += 1;
      if (rows.length > 0) after = rows[rows.length - 1].position;
      else Atomics.wait(flag, 0, 0, 1);
    }
    db.close();
    parentPort.postMessage(reads);`;
  const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(source, { eval: true, workerData: { path: dbPath, stop: stopFlag.buffer, betterSqlite3 } });
  const reads = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      Atomics.store(stopFlag, 0, 1);
      Atomics.notify(stopFlag, 0);
      return reads;
    },
  };
}

describe('the WAL under the adaptive writer', () => {
  it('stays bounded over thousands of lone loop commits, alone and interleaved with thread groups, with a concurrent reader', async () => {
    const sites: CommitSite[] = [];
    const store = open({ onCommit: (site) => sites.push(site) });
    await store.append('start', [newEvent()], 'no_stream');
    const reader = startReader(files.path);
    const payload = { padding: 'x'.repeat(600) };
    const walBytes = () => statSync(`${files.path}-wal`).size;
    // Only lone appends: the loop's connection alone must keep the WAL short (session 6's defect: it did not).
    const alone = 2_000;
    for (let i = 0; i < alone; i++) await store.append(`alone-${i}`, [newEvent(payload)], 'no_stream');
    const walAfterAloneBytes = walBytes();
    expect(sites.every((s) => s === 'loop')).toBe(true);
    // Then lone appends with a group on the thread every 50: both connections commit and checkpoint.
    const mixed = 2_000;
    for (let i = 0; i < mixed; i++) {
      await store.append(`lone-${i}`, [newEvent(payload)], 'no_stream');
      if (i % 50 === 0) await Promise.all(Array.from({ length: 4 }, (_, k) => store.append(`group-${i}-${k}`, [newEvent(payload)], 'no_stream')));
    }
    const reads = await reader.stop();
    const loopCommits = sites.filter((s) => s === 'loop').length;
    const threadCommits = sites.filter((s) => s === 'thread').length;
    console.info(`adaptive WAL: ${(walAfterAloneBytes / 1e6).toFixed(2)} MB after ${alone} lone commits, ${(walBytes() / 1e6).toFixed(2)} MB after ${loopCommits} loop and ${threadCommits} thread commits in all, ${reads} reads`);
    // Both writers and the reader really ran: the bound is about the mixed case too.
    expect(loopCommits).toBeGreaterThanOrEqual(alone + mixed);
    expect(threadCommits).toBeGreaterThanOrEqual(mixed / 50);
    expect(reads).toBeGreaterThan(100);
    // Without a checkpoint that completes, the WAL holds every commit: 2,000 lone ones alone are ~5 pages of 4 KiB each, 40 MB.
    expect(walAfterAloneBytes).toBeLessThan(8 * 1024 * 1024);
    expect(walBytes()).toBeLessThan(8 * 1024 * 1024);
    expect(await store.headPosition()).toBe(BigInt(1 + alone + mixed + (mixed / 50) * 4));
  }, 180_000);
});

describe('durability', () => {
  it('both writer connections commit with WAL and synchronous=FULL (an fsync before COMMIT returns)', () => {
    const db = openWriterConnection(files.path, 1000);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });

  it('answers an append only once it is committed: everything a killed process acknowledged is in the file', async () => {
    const script = fileURLToPath(new URL('./fixtures/ackWorker.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, files.path], { cwd: fileURLToPath(new URL('../../', import.meta.url)) });
    const acknowledged: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let buffered = '';
    const killedAfter = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        acknowledged.push(...lines.filter((l) => l.length > 0));
        // Killed mid-run, with appends on the loop and in a group on the thread in flight.
        if (acknowledged.length >= 400 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => resolve());
    });
    await killedAfter;
    await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())));
    expect(child.signalCode, `the child ended before it was killed; stderr:\n${stderr}`).toBe('SIGKILL');
    const reopened = new SqliteEventStore({ path: files.path });
    try {
      const stored = new Set((await reopened.readAll(0n, 100_000)).map((e) => e.stream));
      const sites = new Set(acknowledged.map((line) => line.split(' ')[0]));
      expect(sites).toEqual(new Set(['loop', 'thread']));
      for (const line of acknowledged) expect(stored.has(line.split(' ')[1] as string), line).toBe(true);
    } finally {
      await reopened.close();
    }
  }, 60_000);
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { WorkerProjectionRunner } from '../../src/projections/workerRunner.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

/**
 * Issue 14 lever 1: the read-model writer on a worker thread, seen from the main thread. The writer
 * has its own connections; every answer here comes from the main thread's own read connection.
 */

const cleanUps: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const clean of cleanUps.splice(0).reverse()) await clean();
});

function fileLedger(): { ledger: TestLedger; store: SqliteEventStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otc-worker-runner-'));
  const store = new SqliteEventStore({ path: join(dir, 'events.db') });
  cleanUps.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  return { ledger: new TestLedger(store), store, dir };
}

function writerFor(store: SqliteEventStore, dir: string, errors: Array<{ message: string; projection: string | null }> = [], batches: bigint[] = []): WorkerProjectionRunner {
  const runner = new WorkerProjectionRunner({
    store, eventsPath: join(dir, 'events.db'), readDbPath: join(dir, 'read.db'), retryDelayMs: 50,
    onError: (e, projection) => errors.push({ message: e instanceof Error ? e.message : String(e), projection }),
    afterBatch: (position) => batches.push(position),
  });
  cleanUps.push(() => runner.close());
  return runner;
}

describe('the worker-thread read-model writer (issue 14 lever 1)', () => {
  it('catches up, answers waits at each appended position, and its read models equal a fresh fold', async () => {
    const { ledger, store, dir } = fileLedger();
    await buildMixedLedger(ledger, 1);
    const batches: bigint[] = [];
    const runner = writerFor(store, dir, [], batches);
    runner.start();
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    for (let i = 0; i < 10; i++) {
      await ledger.placeSell(`otc_${(0x2000 + i).toString(16).padStart(16, '0')}`, { priceNano: 130_000_000n });
      const head = await store.headPosition();
      // Read-your-writes: each wait is answered once the writer committed that position.
      expect(await runner.waitFor(head, 10_000)).toBe(true);
      expect(runner.positionOf('orders')).toBe(head);
    }
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((p, i) => i === 0 || p > (batches[i - 1] as bigint))).toBe(true);
    const status = await runner.status();
    expect(status.map((s) => [s.name, s.state, s.lag])).toEqual(ALL_PROJECTIONS.map((p) => [p.name, 'running', 0n]));
    await runner.stop();
    expect(await compareReadModels({ store, readDb: runner.db, projections: ALL_PROJECTIONS })).toEqual([]);
  });

  it('a position nobody appended is not reached: the wait answers false after its timeout', async () => {
    const { ledger, store, dir } = fileLedger();
    await buildMixedLedger(ledger, 1);
    const runner = writerFor(store, dir);
    runner.start();
    const head = await store.headPosition();
    expect(await runner.waitFor(head, 10_000)).toBe(true);
    expect(await runner.waitFor(head + 1n, 200)).toBe(false);
  });

  it('a writer thread that dies is reported, the runner stops (not ready), and a new thread goes on from the checkpoints', async () => {
    const { ledger, store, dir } = fileLedger();
    await buildMixedLedger(ledger, 1);
    const errors: Array<{ message: string; projection: string | null }> = [];
    const runner = writerFor(store, dir, errors);
    runner.start();
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    await runner.killWriter();
    expect((await runner.status()).every((s) => s.state === 'stopped')).toBe(true);
    expect(errors.some((e) => e.projection === null && /writer thread exited/.test(e.message))).toBe(true);
    await ledger.placeSell('otc_00000000000030aa', { priceNano: 130_000_000n });
    const head = await store.headPosition();
    expect(await runner.waitFor(head, 20_000)).toBe(true);
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    await runner.stop();
    expect(await compareReadModels({ store, readDb: runner.db, projections: ALL_PROJECTIONS })).toEqual([]);
  });

  it('restore: a deleted read DB is reported missing, then filled again from the event store by a new writer thread', async () => {
    const { ledger, store, dir } = fileLedger();
    await buildMixedLedger(ledger, 1);
    const runner = writerFor(store, dir);
    runner.start();
    const head = await store.headPosition();
    expect(await runner.waitFor(head, 20_000)).toBe(true);
    rmSync(join(dir, 'read.db'));
    expect(runner.health()).toBe('missing');
    await runner.restore(4321);
    // Reads stay unavailable until the new writer thread has filled the fresh file.
    expect(runner.health()).toBe('missing');
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    expect(runner.health()).toBeNull();
    expect(existsSync(join(dir, 'read.db'))).toBe(true);
    expect(await runner.waitFor(head, 20_000)).toBe(true);
    await runner.stop();
    expect(await compareReadModels({ store, readDb: runner.db, projections: ALL_PROJECTIONS })).toEqual([]);
  });

  it('stop() ends the thread and close() the read connection; a stopped runner answers status as stopped', async () => {
    const { store, dir } = fileLedger();
    const runner = writerFor(store, dir);
    runner.start();
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    await runner.stop();
    expect((await runner.status()).every((s) => s.state === 'stopped')).toBe(true);
    expect(await runner.waitForCaughtUp(50)).toBe(false);
  });
});

describe('waking the worker-thread writer for waits (session 7: one wake per batch, not one per wait)', () => {
  /** A writer that reads the log only when woken: its own follow poll is an hour, so only wakes move it. */
  function wakeOnlyWriter(store: SqliteEventStore, dir: string): WorkerProjectionRunner {
    const runner = new WorkerProjectionRunner({
      store, eventsPath: join(dir, 'events.db'), readDbPath: join(dir, 'read.db'), retryDelayMs: 50, followPollMs: 3_600_000,
    });
    cleanUps.push(() => runner.close());
    return runner;
  }

  /** A small mixed ledger, and such a writer caught up with it. */
  async function caughtUpWakeOnlyWriter(): Promise<{ ledger: TestLedger; store: SqliteEventStore; runner: WorkerProjectionRunner }> {
    const { ledger, store, dir } = fileLedger();
    await buildMixedLedger(ledger, 1);
    const runner = wakeOnlyWriter(store, dir);
    runner.start();
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    return { ledger, store, runner };
  }

  it('many reads waiting for one append share one wake, and all are answered', async () => {
    const { ledger, store, runner } = await caughtUpWakeOnlyWriter();
    await ledger.placeSell('otc_00000000000030a0', { priceNano: 130_000_000n });
    const head = await store.headPosition();
    const before = runner.wakesPosted;
    const answers = await Promise.all(Array.from({ length: 50 }, () => runner.waitFor(head, 10_000)));
    expect(answers.every(Boolean)).toBe(true);
    // One wake for the 50 reads (a second only if the poll ticked before the batch came back).
    expect(runner.wakesPosted - before).toBeGreaterThanOrEqual(1);
    expect(runner.wakesPosted - before).toBeLessThanOrEqual(2);
  });

  it('reads that wait while a wake is unanswered are answered too, each at its own position', async () => {
    const { ledger, store, runner } = await caughtUpWakeOnlyWriter();
    for (let i = 0; i < 20; i++) {
      await ledger.placeSell(`otc_${(0x3100 + 2 * i).toString(16).padStart(16, '0')}`, { priceNano: 130_000_000n });
      const first = runner.waitFor(await store.headPosition(), 10_000);
      // Appended after the first wait's wake was posted: its own wait posts none.
      await ledger.placeSell(`otc_${(0x3101 + 2 * i).toString(16).padStart(16, '0')}`, { priceNano: 130_000_000n });
      const head = await store.headPosition();
      const second = runner.waitFor(head, 10_000);
      expect(await Promise.all([first, second])).toEqual([true, true]);
      expect(runner.positionOf('orders')).toBe(head);
    }
  });

  it('a wake the writer finds nothing for does not silence later waits', async () => {
    const { ledger, store, runner } = await caughtUpWakeOnlyWriter();
    const head = await store.headPosition();
    // Nobody appends head + 1: the writer reads nothing, so no batch answers this wake.
    expect(await runner.waitFor(head + 1n, 150)).toBe(false);
    await ledger.placeSell('otc_00000000000032a0', { priceNano: 130_000_000n });
    expect(await runner.waitFor(await store.headPosition(), 10_000)).toBe(true);
  });
});

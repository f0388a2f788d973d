import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { ordersProjection } from '../../src/projections/orders.js';
import { PositionWaiters } from '../../src/projections/positionWaiters.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Projection } from '../../src/projections/types.js';
import { WorkerProjectionRunner } from '../../src/projections/workerRunner.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

/**
 * Issue 14 (session 5, mainloop): min_position waits on the worker writer are answered from the
 * checkpoints the writer reports with each batch; the read DB is looked at once per poll tick for
 * every waiting read, for checkpoints nobody announced (a CLI rebuild, another process).
 */

const cleanUps: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const clean of cleanUps.splice(0).reverse()) await clean();
});

describe('PositionWaiters: one poll for every waiting read', () => {
  it('runs beforePoll once per tick however many reads wait, answers them on it, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    let polls = 0;
    let reached = false;
    const waiters = new PositionWaiters(100, undefined, () => { polls += 1; }, 50);
    const answers = Array.from({ length: 20 }, () => waiters.waitFor(() => reached, 1_000));
    await vi.advanceTimersByTimeAsync(120);
    expect(polls).toBe(2);
    reached = true;
    await vi.advanceTimersByTimeAsync(50);
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 20 }, () => true));
    expect(polls).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a wait already reached answers at once without a poll; one past the cap answers false at once; a timeout looks once more', async () => {
    vi.useFakeTimers();
    let polls = 0;
    const full: number[] = [];
    const waiters = new PositionWaiters(1, (n) => full.push(n), () => { polls += 1; }, 50);
    expect(await waiters.waitFor(() => true, 1_000)).toBe(true);
    expect(polls).toBe(0);
    const first = waiters.waitFor(() => false, 120);
    expect(await waiters.waitFor(() => false, 1_000)).toBe(false);
    expect(full).toEqual([1]);
    await vi.advanceTimersByTimeAsync(120);
    expect(await first).toBe(false);
    // Two ticks (50, 100 ms) and the last look before answering at 120 ms.
    expect(polls).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the writer reports each projection checkpoint it committed', () => {
  it('afterBatch names every projection the batch advanced, at the checkpoint the file holds; a failing one is not named', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const broken: Projection = { name: 'broken', version: 1, tables: [], apply: () => { throw new Error('bug in apply'); } };
    const reports: Array<ReadonlyMap<string, bigint>> = [];
    const runner = new ProjectionRunner({
      store: ledger.store, db: ':memory:', projections: [broken, ordersProjection],
      onError: () => undefined, afterBatch: (_p, checkpoints) => { reports.push(checkpoints); },
    });
    cleanUps.push(() => runner.close());
    await runner.catchUp();
    const head = await ledger.store.headPosition();
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((r) => !r.has('broken'))).toBe(true);
    expect(reports.at(-1)?.get('orders')).toBe(head);
    expect(runner.positionOf('orders')).toBe(head);
    expect(runner.positionOf('broken')).toBe(0n);
  });
});

describe('WorkerProjectionRunner waits', () => {
  it('answers from the writer\'s reports, and sees a checkpoint another connection moved on the poll', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-position-waits-'));
    const store = new SqliteEventStore({ path: join(dir, 'events.db') });
    cleanUps.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const ledger = new TestLedger(store);
    await buildMixedLedger(ledger, 1);
    const runner = new WorkerProjectionRunner({ store, eventsPath: join(dir, 'events.db'), readDbPath: join(dir, 'read.db'), retryDelayMs: 50 });
    cleanUps.push(() => runner.close());
    runner.start();
    expect(await runner.waitForCaughtUp(20_000)).toBe(true);
    const placed = await ledger.placeBuy('otc_00000000000000f7');
    const at = placed.position ?? 0n;
    // Read-your-writes: reached once the writer's batch report arrived.
    expect(await runner.waitFor(at, 10_000)).toBe(true);
    expect(runner.positionOf('orders')).toBe(at);
    await runner.stop();
    // With the writer stopped nothing is reported: only the poll can see what another process does.
    const other = new Database(join(dir, 'read.db'));
    cleanUps.push(() => { other.close(); });
    const further = runner.waitFor(at + 5n, 5_000);
    const tooFar = runner.waitFor(at + 6n, 300);
    other.prepare('UPDATE projection_registry SET position = ?').run(at + 5n);
    expect(await further).toBe(true);
    expect(await tooFar).toBe(false);
    // Only the named projections count: one left behind keeps a wait naming it unanswered.
    other.prepare('UPDATE projection_registry SET position = ? WHERE name = ?').run(at + 9n, 'orders');
    expect(await runner.waitFor(at + 9n, 5_000, ['orders'])).toBe(true);
    expect(await runner.waitFor(at + 9n, 200)).toBe(false);
    expect(ALL_PROJECTIONS.map((p) => runner.positionOf(p.name))).toEqual(ALL_PROJECTIONS.map((p) => (p.name === 'orders' ? at + 9n : at + 5n)));
  });
});

import { describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

/** Issue 13 part 3: the runner meets a full disk under the read DB, and goes on once space returns. */
describe('projection runner on a full disk', () => {
  it('fails the batch as a whole (no projection marked failed), reports it, and catches up by itself when space returns', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const errors: unknown[] = [];
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:', retryDelayMs: 20, onError: (e) => errors.push(e) });
    runner.start();
    expect(await runner.waitFor(await ledger.store.headPosition(), 5000)).toBe(true);

    // The read DB may not grow: as on a full disk, the next batch fails with SQLITE_FULL.
    const pages = runner.db.pragma('page_count', { simple: true }) as number;
    runner.db.pragma(`max_page_count = ${pages}`);
    for (let i = 0; i < 40; i++) await ledger.placeSell(`otc_${(0x1000 + i).toString(16).padStart(16, '0')}`, { priceNano: 130_000_000n });
    const head = await ledger.store.headPosition();
    expect(await runner.waitFor(head, 300)).toBe(false);
    expect(errors.some((e) => (e as { code?: string }).code === 'SQLITE_FULL')).toBe(true);
    const during = await runner.status();
    expect(during.some((s) => s.state === 'failed')).toBe(false);
    expect(during.every((s) => s.lag > 0n)).toBe(true);

    runner.db.pragma('max_page_count = 4294967294');
    expect(await runner.waitFor(head, 5000)).toBe(true);
    const running = async () => (await runner.status()).every((s) => s.state === 'running' && s.lag === 0n);
    for (let i = 0; i < 100 && !(await running()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await running()).toBe(true);
    await runner.stop();
    expect(await compareReadModels({ store: ledger.store, readDb: runner.db, projections: ALL_PROJECTIONS })).toEqual([]);
    await runner.close();
  });
});

describe('projection runner: bounded waiting reads', () => {
  it('lets up to maxWaiters reads wait for a position, answers the next one "not reached" at once and reports it', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const full: number[] = [];
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:', maxWaiters: 2, onWaitersFull: (n) => full.push(n) });
    runner.start();
    const head = await ledger.store.headPosition();
    expect(await runner.waitFor(head, 5000)).toBe(true);
    const future = head + 1n;
    const waiting = [runner.waitFor(future, 5000), runner.waitFor(future, 5000)];
    // Allowed while under the limit; refused (at once, not after its timeout) past it.
    expect(await runner.waitFor(future, 60_000)).toBe(false);
    expect(full).toEqual([2]);
    // Reads of a position already applied never wait, so the limit does not touch them.
    expect(await runner.waitFor(head, 5000)).toBe(true);
    await ledger.placeSell('otc_0000000000002001', { priceNano: 130_000_000n });
    expect(await Promise.all(waiting)).toEqual([true, true]);
    expect(await runner.waitFor(future, 5000)).toBe(true);
    expect(full).toEqual([2]);
    await runner.close();
  });
});

import { describe, expect, it } from 'vitest';
import { workQueueCandidates } from '../../src/main.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { buildMixedLedger, TestLedger } from '../projections/support/ledger.js';

/** Issue 13 part 3: one reconciler pass takes a bounded batch of the work queue and reports a full one. */
describe('reconciler candidates from the work queue', () => {
  it('takes at most the batch limit, oldest first, reports a full batch, and stays silent when the queue fits', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 2);
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await runner.catchUp();
    // A year on, every open and matched order is past its deadline: all of them are due.
    const later = new Date(Date.now() + 365 * 86_400_000);
    const everything = await workQueueCandidates(() => runner.db, 10_000, () => undefined)(later, 0);
    expect(everything.length).toBeGreaterThan(3);

    const full: Array<[string, number]> = [];
    const batch = await workQueueCandidates(() => runner.db, 3, (kind, limit) => full.push([kind, limit]))(later, 0);
    expect(batch).toEqual(everything.slice(0, 3));
    expect(full).toEqual([['due', 3]]);

    const quiet: unknown[] = [];
    expect(await workQueueCandidates(() => runner.db, everything.length + 1, (...a) => quiet.push(a))(later, 0)).toEqual(everything);
    expect(quiet).toEqual([]);
    await runner.close();
  });
});

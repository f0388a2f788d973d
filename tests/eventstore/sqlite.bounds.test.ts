import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { StoreOverloaded } from '../../src/eventstore/storageFault.js';
import { toErrorReply } from '../../src/http/errorMap.js';
import { newEvents } from './contractSupport.js';

/** Issue 13 part 3: the group-commit queue has a limit; past it an append is refused, not queued. */
describe('SQLite store: bounded group-commit queue', () => {
  it('commits appends up to the limit, refuses the rest of the turn with 503 store_busy, and takes appends again next turn', async () => {
    const store = new SqliteEventStore({ path: ':memory:', maxPendingAppends: 3 });
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.append(`s-${i}`, newEvents(1, `s${i}`), 'no_stream')));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
      const refused = (outcomes[3] as PromiseRejectedResult).reason;
      expect(refused).toBeInstanceOf(StoreOverloaded);
      expect(toErrorReply(refused)).toMatchObject({ status: 503, body: { error: 'store_busy' } });
      // Nothing of the refused appends was written.
      expect((await store.readAll(0n, 100)).map((e) => e.stream)).toEqual(['s-0', 's-1', 's-2']);
      await store.append('s-3', newEvents(1, 's3b'), 'no_stream');
      expect(await store.headPosition()).toBe(4n);
    } finally {
      await store.close();
    }
  });

  it('never refuses within the default limit (a burst of 1000 appends in one turn commits)', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    try {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => store.append(`b-${i}`, newEvents(1, `b${i}`), 'no_stream')));
      expect(await store.headPosition()).toBe(1000n);
    } finally {
      await store.close();
    }
  });
});

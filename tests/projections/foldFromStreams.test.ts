import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { EventStore } from '../../src/eventstore/types.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { applyToCopies, FoldCache, preloadStreams, StateNotLoaded } from '../../src/projections/applyCopies.js';
import { readEvents } from '../../src/projections/eventSource.js';
import { ordersProjection } from '../../src/projections/orders.js';
import { ensureProjection, openReadDb, setActivePosition } from '../../src/projections/registry.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { tableNamesFor } from '../../src/projections/types.js';
import { BUYER, SELLER, TestLedger } from './support/ledger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The store, with a count of the streams read from it (the folds the read models had to ask for). */
function countingStreams(store: SqliteEventStore): { store: EventStore; streamsRead: string[] } {
  const streamsRead: string[] = [];
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'readStream') return (stream: string, from?: bigint) => { streamsRead.push(stream); return target.readStream(stream, from); };
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, streamsRead };
}

const id = (n: number): string => `otc_${n.toString(16).padStart(16, '0')}`;

describe('order folds come from memory or from the event store, never from the read DB', () => {
  it('a runner started on a read DB another runner left folds only the orders in flight from their streams, and ends equal to a fresh rebuild', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-fold-'));
    dirs.push(dir);
    const store = new SqliteEventStore({ path: join(dir, 'events.db') });
    const ledger = new TestLedger(store);
    await ledger.completedSell(id(1));
    await ledger.placeSell(id(2));
    await ledger.placeSell(id(3));
    await ledger.placeBuy(id(4));
    const first = new ProjectionRunner({ store, db: join(dir, 'read.db') });
    await first.catchUp();
    await first.close();
    // Orders 2 and 3 move on while no runner runs; 1 has ended, 4 does not move, 5 is new.
    await ledger.match(id(2), BUYER);
    await ledger.settle(id(2), SELLER);
    await ledger.run(id(3), { type: 'CancelOrder', wallet: SELLER, now: ledger.now() }, SELLER);
    await ledger.placeSell(id(5));
    const counting = countingStreams(store);
    const second = new ProjectionRunner({ store: counting.store, db: join(dir, 'read.db') });
    await second.catchUp();
    expect(counting.streamsRead.sort()).toEqual([`order-${id(2)}`, `order-${id(3)}`]);
    expect(await compareReadModels({ store, readDb: second.db, projections: ALL_PROJECTIONS })).toEqual([]);
    // Caught up, the next batch folds from memory: nothing more is read.
    await ledger.match(id(5), BUYER);
    await second.catchUp();
    expect(counting.streamsRead).toHaveLength(2);
    await second.close();
    await store.close();
  });

  it('a batch whose order neither the cache nor the preloaded streams hold fails as a whole (StateNotLoaded), to be tried again', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1));
    const db = openReadDb(':memory:');
    const copy = ensureProjection(db, ordersProjection);
    const target = { projection: ordersProjection, tables: tableNamesFor(ordersProjection, copy.suffix), position: 1n };
    setActivePosition(db, 'orders', 1n);
    const events = await readEvents(ledger.store, 1n, 100);
    expect(events[0]?.version).toBe(2n);
    const checkpoint = (): void => undefined;
    const apply = (streams: Awaited<ReturnType<typeof preloadStreams>>) =>
      db.transaction(() => applyToCopies(db, [target], events, { isolate: true, cache: new FoldCache(), streams, checkpoint }))();
    // Refused: nothing loaded, and the fold of order 1 before version 2 is needed.
    expect(() => apply(new Map())).toThrow(StateNotLoaded);
    // Allowed: the stream preloaded, the batch applies (the row exists once version 1 is folded in too).
    const streams = await preloadStreams(ledger.store, events, new FoldCache(), false);
    expect([...streams.keys()]).toEqual([id(1)]);
    const outcome = apply(streams);
    expect(outcome.copies.map((c) => c.error)).toEqual([null]);
    // Nothing to load: a batch that starts each order at its first event reads no stream.
    const fromStart = await readEvents(ledger.store, 0n, 100);
    expect((await preloadStreams(ledger.store, fromStart, new FoldCache(), true)).size).toBe(0);
    db.close();
  });
});

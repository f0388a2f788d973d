import { describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { allEvents, dump, freshDb } from './support/db.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

describe('every projection applied event by event', () => {
  for (const projection of ALL_PROJECTIONS) {
    it(`${projection.name}: applying each event twice changes nothing`, async () => {
      const ledger = TestLedger.memory();
      await buildMixedLedger(ledger, 2);
      // The mixed ledger has no chain-verified orders; the lapses read model needs one that lapsed.
      await ledger.lapsedSell('otc_00000000000000c8');
      const events = await allEvents(ledger.store);
      const once = freshDb(projection);
      const twice = freshDb(projection);
      for (const event of events) {
        projection.apply(once.db, event, once.tables);
        projection.apply(twice.db, event, twice.tables);
        projection.apply(twice.db, event, twice.tables);
        // Compared after every event, so a duplicate that only matters mid-life is caught too.
        expect(dump(twice.db, projection)).toEqual(dump(once.db, projection));
      }
      const rows = Object.values(dump(once.db, projection)).flat();
      expect(rows.length).toBeGreaterThan(0);
    });
  }

  it('skips unknown streams, and records unknown event types of an order stream without throwing', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeBuy('otc_00000000000000aa');
    const meta = (id: string) => ({ event_id: id, correlation_id: 'c', causation_id: null, actor: 'x', recorded_at: ledger.now().toISOString(), schema_version: 1, prev_hash: '0', hash: '0' });
    await ledger.store.append('misc-1', [{ eventId: 'e-misc', type: 'SomethingElse', data: { any: 1 }, metadata: meta('e-misc') }], 'any');
    await ledger.store.append('order-otc_00000000000000aa', [{ eventId: 'e-new', type: 'FutureEventType', data: {}, metadata: meta('e-new') }], 'any');
    await ledger.store.append('sig-zz', [{ eventId: 'e-sig', type: 'SignatureUsed', data: { wallet: 7 }, metadata: meta('e-sig') }], 'any');
    await ledger.store.append('order-otc_00000000000000bb', [{ eventId: 'e-orphan', type: 'EscrowReleased', data: { job_id: 'j' }, metadata: meta('e-orphan') }], 'any');
    const events = await allEvents(ledger.store);
    for (const projection of ALL_PROJECTIONS) {
      const { db, tables } = freshDb(projection);
      for (const event of events) expect(() => projection.apply(db, event, tables)).not.toThrow();
      if (projection.name !== 'orders') continue;
      // The order keeps its last readable state, and each broken stream is recorded where it broke.
      expect(db.prepare(`SELECT order_id, status FROM ${tables['orders']}`).all()).toEqual([{ order_id: 'otc_00000000000000aa', status: 'open' }]);
      expect(db.prepare(`SELECT order_id, version, kind FROM ${tables['order_stream_problems']} ORDER BY order_id`).all()).toEqual([
        { order_id: 'otc_00000000000000aa', version: 2, kind: 'unknown_event' },
        { order_id: 'otc_00000000000000bb', version: 1, kind: 'malformed_event' },
      ]);
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrderRefused, orderStream, type OrderState } from '../../src/aggregates/order/index.js';
import { handleOrderCommand, SCHEMA_VERSION, VersionMismatch } from '../../src/commands/handleCommand.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import { expectedHash, GENESIS_HASH } from '../../src/eventstore/hashChain.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { VersionConflict, type EventStore } from '../../src/eventstore/types.js';
import { context, MAKER, match, placeBuy, TAKER_B, TAKER_C, takerLockFailed, wrapStore } from './commandFixtures.js';

const ORDER_ID = 'otc_00000000000000a1';
const STREAM = orderStream(ORDER_ID);
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Holds the first `parties` reads of the stream until all of them have read, so that every racer
 * decides on the same version before any of them appends: the interleaving two HTTP requests get.
 */
function barrierOnFirstReads(inner: EventStore, parties: number): { store: EventStore; reads: () => number } {
  let reads = 0;
  const held: (() => void)[] = [];
  const store = wrapStore(inner, {
    readStream: async (stream, fromVersion) => {
      const events = await inner.readStream(stream, fromVersion);
      reads += 1;
      if (reads <= parties) {
        await new Promise<void>((resolve) => {
          held.push(resolve);
          if (held.length === parties) for (const release of held) release();
        });
      }
      return events;
    },
  });
  return { store, reads: () => reads };
}

function countingAppends(inner: EventStore, append?: EventStore['append']): { store: EventStore; appends: () => number } {
  let appends = 0;
  const store = wrapStore(inner, {
    append: (...args) => {
      appends += 1;
      return append ? append(...args) : inner.append(...args);
    },
  });
  return { store, appends: () => appends };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the command to be rejected'),
    (error: unknown) => error,
  );
}

describe('handleOrderCommand', () => {
  let store: SqliteEventStore;
  beforeEach(async () => {
    store = new SqliteEventStore({ path: ':memory:' });
    await handleOrderCommand(store, ORDER_ID, placeBuy(ORDER_ID), context());
  });
  afterEach(async () => {
    await store.close();
  });

  describe('racing commands', () => {
    it('lets exactly one of two racing matches win; the loser re-decides on fresh state and is refused order_not_open', async () => {
      const { store: racing, reads } = barrierOnFirstReads(store, 2);
      const seen: OrderState['status'][][] = [[], []];
      const racer = (taker: string, i: number) =>
        handleOrderCommand(racing, ORDER_ID, (state) => (seen[i]?.push(state.status), match(taker)), context({ actor: taker }));
      const outcomes = await Promise.allSettled([racer(TAKER_B, 0), racer(TAKER_C, 1)]);

      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(OrderRefused);
      expect((lost[0] as OrderRefused).code).toBe('order_not_open');
      expect(reads()).toBe(3);
      const loser = outcomes[0]?.status === 'rejected' ? 0 : 1;
      expect(seen[loser]).toEqual(['open', 'matching']);
      expect(seen[1 - loser]).toEqual(['open']);

      const events = await store.readStream(STREAM);
      expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'Matched']);
      expect(events[1]?.data['taker_wallet']).toBe(loser === 0 ? TAKER_C : TAKER_B);
    });

    it('surfaces the lost race as a VersionConflict when only one attempt is allowed', async () => {
      const { store: racing } = barrierOnFirstReads(store, 2);
      const outcomes = await Promise.allSettled([
        handleOrderCommand(racing, ORDER_ID, match(TAKER_B), context(), { maxAttempts: 1 }),
        handleOrderCommand(racing, ORDER_ID, match(TAKER_C), context(), { maxAttempts: 1 }),
      ]);
      const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(VersionConflict);
      expect(reasons[0]).toMatchObject({ stream: STREAM, expected: 1n, actual: 2n });
    });

    it('rechecks If-Match on the retry: the loser of a race is told the version moved', async () => {
      const { store: racing } = barrierOnFirstReads(store, 2);
      const outcomes = await Promise.allSettled([
        handleOrderCommand(racing, ORDER_ID, match(TAKER_B), context(), { ifMatchVersion: 1n }),
        handleOrderCommand(racing, ORDER_ID, match(TAKER_C), context(), { ifMatchVersion: 1n }),
      ]);
      const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(VersionMismatch);
      expect(reasons[0]).toMatchObject({ code: 'version_mismatch', expected: 1n, actual: 2n });
    });
  });

  describe('bounded retries', () => {
    const alwaysConflicts: EventStore['append'] = async (stream, _events, expected) => {
      throw new VersionConflict(stream, expected, 99n);
    };

    it('gives up after maxAttempts and surfaces the VersionConflict, having written nothing', async () => {
      const { store: conflicting, appends } = countingAppends(store, alwaysConflicts);
      const error = await rejection(handleOrderCommand(conflicting, ORDER_ID, match(TAKER_B), context(), { maxAttempts: 3 }));
      expect(error).toBeInstanceOf(VersionConflict);
      expect(appends()).toBe(3);
      expect(await store.readStream(STREAM)).toHaveLength(1);
    });

    it('bounds the attempts by default too', async () => {
      const { store: conflicting, appends } = countingAppends(store, alwaysConflicts);
      expect(await rejection(handleOrderCommand(conflicting, ORDER_ID, match(TAKER_B), context()))).toBeInstanceOf(VersionConflict);
      expect(appends()).toBeGreaterThan(1);
      expect(appends()).toBeLessThanOrEqual(10);
    });

    it('does not retry a failure that is not a version conflict', async () => {
      const diskFull = new Error('SQLITE_FULL');
      const { store: failing, appends } = countingAppends(store, async () => {
        throw diskFull;
      });
      expect(await rejection(handleOrderCommand(failing, ORDER_ID, match(TAKER_B), context()))).toBe(diskFull);
      expect(appends()).toBe(1);
    });
  });

  registerOutcomeCases(() => store);
});

function registerOutcomeCases(getStore: () => SqliteEventStore): void {
  describe('outcomes', () => {
    it('refuses with VersionMismatch when If-Match names another version, and writes nothing', async () => {
      const { store, appends } = countingAppends(getStore());
      const error = await rejection(handleOrderCommand(store, ORDER_ID, match(TAKER_B), context(), { ifMatchVersion: 2n }));
      expect(error).toBeInstanceOf(VersionMismatch);
      expect(error).toMatchObject({ code: 'version_mismatch', expected: 2n, actual: 1n });
      expect(appends()).toBe(0);
      const matched = await handleOrderCommand(store, ORDER_ID, match(TAKER_B), context(), { ifMatchVersion: 1n });
      expect(matched.version).toBe(2n);
    });

    it('writes nothing for a command that has nothing to do', async () => {
      const { store, appends } = countingAppends(getStore());
      const head = await store.headPosition();
      const outcome = await handleOrderCommand(store, ORDER_ID, { type: 'ExpireOrder', now: new Date('2026-01-01T00:30:00Z') }, context());
      expect(outcome).toMatchObject({ written: [], position: null, version: 1n });
      expect(outcome.state.status).toBe('open');
      expect(appends()).toBe(0);
      expect(await store.headPosition()).toBe(head);
    });

    it('refuses a rule-breaking command without appending or retrying', async () => {
      const { store, appends } = countingAppends(getStore());
      const error = await rejection(handleOrderCommand(store, ORDER_ID, match(MAKER), context()));
      expect((error as OrderRefused).code).toBe('self_match');
      expect(appends()).toBe(0);
    });

    it('records every metadata field and links each event into the chain', async () => {
      const store = getStore();
      await handleOrderCommand(store, ORDER_ID, match(TAKER_B), context({ actor: TAKER_B }));
      const ctx = context({ correlationId: 'req-42', causationId: 'evt-cause-7', actor: 'reconciler', now: () => new Date('2026-02-03T04:05:06.789Z') });
      const outcome = await handleOrderCommand(store, ORDER_ID, takerLockFailed, ctx);
      const events = await store.readStream(STREAM);
      expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'Matched', 'EscrowLockFailed', 'MatchAborted']);
      expect(outcome).toMatchObject({ version: 4n, position: events[3]?.position });
      expect(outcome.written.map((e) => e.eventId)).toEqual(events.slice(2).map((e) => e.eventId));
      expect(outcome.state).toEqual((await loadOrder(store, ORDER_ID)).state);
      expect(outcome.before.status).toBe('matching');
      let prev = GENESIS_HASH;
      for (const event of events) {
        const m = event.metadata;
        expect(m.event_id).toBe(event.eventId);
        expect(m.event_id).toMatch(UUID_V7);
        expect(m.schema_version).toBe(SCHEMA_VERSION);
        expect(m.prev_hash).toBe(prev);
        expect(m.hash).toBe(expectedHash(prev, event));
        prev = m.hash;
      }
      for (const event of events.slice(2)) {
        expect(event.metadata).toMatchObject({ correlation_id: 'req-42', causation_id: 'evt-cause-7', actor: 'reconciler', recorded_at: '2026-02-03T04:05:06.789Z' });
      }
      expect(events[1]?.metadata).toMatchObject({ correlation_id: 'req-1', causation_id: null, actor: TAKER_B });
      expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { handleOrderCommand } from '../../src/commands/handleCommand.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { context, match, nodeCallFailed, placeBuy, TAKER_B, takerLockFailed } from '../commands/commandFixtures.js';

const ORDER_ID = 'otc_00000000000000e1';
/** RFC 9562 UUID version 7: version nibble 7, variant bits 10. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The unix milliseconds a version 7 UUID starts with (its first 48 bits). */
const millisOf = (uuid: string): number => Number.parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);

describe('event ids', () => {
  it('are time-ordered UUIDs (version 7) that ascend with the log, so UNIQUE (event_id) grows at its right edge', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const before = Date.now();
    await handleOrderCommand(store, ORDER_ID, placeBuy(ORDER_ID), context());
    await handleOrderCommand(store, ORDER_ID, match(TAKER_B), context());
    await handleOrderCommand(store, ORDER_ID, takerLockFailed, context({ actor: 'reconciler' }));
    await handleOrderCommand(store, ORDER_ID, nodeCallFailed('k-1'), context({ actor: 'reconciler' }));
    const after = Date.now();
    const ids = (await store.readStream(orderStream(ORDER_ID))).map((e) => e.eventId);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) {
      expect(id).toMatch(UUID_V7);
      expect(millisOf(id)).toBeGreaterThanOrEqual(before);
      expect(millisOf(id)).toBeLessThanOrEqual(after);
    }
    // In log order, each id sorts after the one before (as text, as SQLite's index compares them).
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    await store.close();
  });

  it('a given id source (the simulator\'s seeded one) still wins', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    let n = 0;
    const newEventId = (): string => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
    await handleOrderCommand(store, ORDER_ID, placeBuy(ORDER_ID), context({ newEventId }));
    const [first] = await store.readStream(orderStream(ORDER_ID));
    expect(first?.eventId).toBe('00000000-0000-4000-8000-000000000001');
    await store.close();
  });
});

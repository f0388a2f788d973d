import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { handleOrderCommand } from '../../src/commands/handleCommand.js';
import { loadOrder, OrderCache } from '../../src/commands/loadOrder.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { EventStore } from '../../src/eventstore/types.js';
import { createLedger } from '../../src/app/ledger.js';
import { createSecretBox } from '../../src/crypto/preimage.js';
import { foldOrderStream } from '../../src/orderStream/fold.js';
import { facts } from '../support/orderFixtures.js';
import { startSettlementHarness, trader } from '../support/settlementHarness.js';
import { context, match, placeBuy, TAKER_B, TAKER_C, wrapStore } from './commandFixtures.js';

/**
 * Issue 14 lever 4: folded orders cached by stream version. A cached fold is only ever extended by
 * the events read after its version, so what another connection appended is seen; a command that
 * loses a race drops the entry; the cache is bounded.
 */
let dir: string;
let path: string;
let store: SqliteEventStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'otc-order-cache-'));
  path = join(dir, 'events.db');
  store = new SqliteEventStore({ path });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The store, counting how many events each stream read returned. */
function counting(inner: EventStore): { store: EventStore; eventsRead: () => number } {
  let read = 0;
  const store = wrapStore(inner, {
    readStream: async (stream, from) => {
      const events = await inner.readStream(stream, from);
      read += events.length;
      return events;
    },
  });
  return { store, eventsRead: () => read };
}

describe('the order-state cache', () => {
  it('answers the same fold as a full read, reading only what is new after the cached version', async () => {
    const cache = new OrderCache();
    const { store: counted, eventsRead } = counting(store);
    await handleOrderCommand(counted, 'o1', placeBuy('o1'), context(), { cache });
    expect(eventsRead()).toBe(0);
    expect(await loadOrder(counted, 'o1', cache)).toEqual(await loadOrder(store, 'o1'));
    const afterFirst = eventsRead();
    // Nothing new: the cached fold, and no event read.
    await loadOrder(counted, 'o1', cache);
    expect(eventsRead()).toBe(afterFirst);
  });

  it('sees what another connection appended behind its back (a second process on the same file)', async () => {
    const cache = new OrderCache();
    await handleOrderCommand(store, 'o1', placeBuy('o1'), context(), { cache });
    const other = new SqliteEventStore({ path });
    try {
      await handleOrderCommand(other, 'o1', match(TAKER_B), context({ actor: TAKER_B }));
    } finally {
      await other.close();
    }
    const cached = await loadOrder(store, 'o1', cache);
    expect(cached).toEqual(await loadOrder(store, 'o1'));
    expect(cached.state.status).not.toBe('open');
  });

  it('drops the entry when a command loses a race, and re-decides on the stream as it is', async () => {
    const cache = new OrderCache();
    await handleOrderCommand(store, 'o1', placeBuy('o1'), context(), { cache });
    const stale = await loadOrder(store, 'o1', cache);
    // Another writer takes the order first; this command still believes it open.
    await handleOrderCommand(store, 'o1', match(TAKER_B), context({ actor: TAKER_B }));
    const forgotten: string[] = [];
    const watching = Object.assign(Object.create(cache) as OrderCache, { forget: (id: string) => { forgotten.push(id); cache.forget(id); } });
    const refused = handleOrderCommand(store, 'o1', match(TAKER_C), context({ actor: TAKER_C }), { cache: watching, loaded: stale });
    await expect(refused).rejects.toMatchObject({ code: 'order_not_open' });
    expect(forgotten).toEqual(['o1']);
    expect((await loadOrder(store, 'o1', cache)).version).toBe((await loadOrder(store, 'o1')).version);
  });

  it('keeps no entry for an order that does not exist, and forgets the least recently used beyond its bound', async () => {
    const cache = new OrderCache(2);
    await loadOrder(store, 'nope', cache);
    expect(cache.size).toBe(0);
    for (const id of ['a', 'b', 'c']) await handleOrderCommand(store, id, placeBuy(id), context(), { cache });
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.version).toBe(1n);
    await handleOrderCommand(store, 'd', placeBuy('d'), context(), { cache });
    // b was used last, so c went.
    expect([cache.get('b') !== undefined, cache.get('c') !== undefined, cache.get('d') !== undefined]).toEqual([true, false, true]);
  });

  it('holds, after a whole trade through the use cases and the driver, exactly the fold of the stream', async () => {
    const h = await startSettlementHarness();
    try {
      const cache = new OrderCache();
      const ledger = createLedger({ store: h.store, node: h.gateway, leases: h.leases, secretBox: createSecretBox('5e'.repeat(32)), settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(h.clock.nowMs), orderCache: cache });
      const t = trader({ ...h, ledger });
      const placed = await t.place(h.seller, 'sell');
      const orderId = facts(placed.state).orderId as string;
      await t.match(h.buyer, orderId);
      const done = await t.confirm(h.seller, orderId, placed.htlcSecret as string);
      expect(done.state.status).toBe('completed');
      const fold = foldOrderStream(await h.store.readStream(orderStream(orderId)));
      expect(cache.get(orderId)).toEqual(fold);
      expect(fold.version).toBe(7n);
    } finally {
      await h.close();
    }
  });

  it('never replaces a newer fold with an older one', async () => {
    const cache = new OrderCache();
    await handleOrderCommand(store, 'o1', placeBuy('o1'), context(), { cache });
    const v1 = await loadOrder(store, 'o1');
    await handleOrderCommand(store, 'o1', match(TAKER_B), context({ actor: TAKER_B }), { cache });
    cache.remember('o1', v1);
    const head = BigInt((await store.readStream(orderStream('o1'))).length);
    expect(head).toBeGreaterThan(1n);
    expect(cache.get('o1')?.version).toBe(head);
  });

  it('atVersion gives the fold only at exactly the version asked for', async () => {
    const cache = new OrderCache();
    await handleOrderCommand(store, 'o1', placeBuy('o1'), context(), { cache });
    expect(cache.atVersion('o1', 1n)).toEqual(await loadOrder(store, 'o1'));
    expect(cache.atVersion('o1', 0n)).toBeUndefined();
    expect(cache.atVersion('o1', 2n)).toBeUndefined();
    expect(cache.atVersion('nope', 1n)).toBeUndefined();
  });

  it('a whole trade with the cache reads fewer streams (a place none, result appends none) and answers as without it', async () => {
    const h = await startSettlementHarness();
    try {
      const run = async (cache: OrderCache | undefined) => {
        // A second later: the same request signed in the same second would be a replay.
        h.clock.nowMs += 1_000;
        let reads = 0;
        const counted = wrapStore(h.store, { readStream: (stream, from) => { reads += 1; return h.store.readStream(stream, from); } });
        const ledger = createLedger({ store: counted, node: h.gateway, leases: h.leases, secretBox: createSecretBox('5e'.repeat(32)), settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(h.clock.nowMs), ...(cache === undefined ? {} : { orderCache: cache }) });
        const t = trader({ ...h, ledger });
        const placed = await t.place(h.seller, 'sell');
        const placeReads = reads;
        const orderId = facts(placed.state).orderId as string;
        const matched = await t.match(h.buyer, orderId);
        const done = await t.confirm(h.seller, orderId, placed.htlcSecret as string);
        return { statuses: [placed.state.status, matched.state.status, done.state.status], versions: [placed.version, matched.version, done.version], reads, placeReads };
      };
      const without = await run(undefined);
      const cache = new OrderCache();
      const withCache = await run(cache);
      expect(withCache.statuses).toEqual(without.statuses);
      expect(withCache.versions).toEqual(without.versions);
      expect(withCache.statuses.at(-1)).toBe('completed');
      // Without the cache the place reads its (empty) stream and the driver's read before its lock;
      // with it only the driver's read under the lease remains.
      expect(withCache.placeReads).toBe(1);
      expect(without.placeReads).toBeGreaterThan(withCache.placeReads);
      expect(withCache.reads).toBeLessThan(without.reads);
    } finally {
      await h.close();
    }
  });

  it('a place whose fresh id already names an order is refused as without the cache (the append expects no stream)', async () => {
    const h = await startSettlementHarness();
    try {
      const refusal = async (cache: OrderCache | undefined, orderId: string) => {
        const ledger = createLedger({ store: h.store, node: h.gateway, leases: h.leases, secretBox: createSecretBox('5e'.repeat(32)), settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(h.clock.nowMs), newOrderId: () => orderId, ...(cache === undefined ? {} : { orderCache: cache }) });
        const t = trader({ ...h, ledger });
        h.clock.nowMs += 1_000;
        await t.place(h.buyer, 'buy');
        h.clock.nowMs += 1_000;
        const before = (await h.store.readStream(orderStream(orderId))).length;
        const error = await t.place(h.buyer, 'buy').then(() => null, (e: unknown) => e as { code?: string });
        expect((await h.store.readStream(orderStream(orderId))).length).toBe(before);
        return error?.code;
      };
      expect(await refusal(undefined, 'otc_00000000000000a1')).toBe('order_exists');
      expect(await refusal(new OrderCache(), 'otc_00000000000000a2')).toBe('order_exists');
    } finally {
      await h.close();
    }
  });
});

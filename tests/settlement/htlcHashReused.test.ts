import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { facts } from '../support/orderFixtures.js';
import { startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';
import { OrderRefused } from '../../src/aggregates/order/index.js';
import { reserveHtlcHash, reservedBy } from '../../src/commands/htlcHashes.js';
import { htlcHashOf } from '../../src/crypto/preimage.js';
import { statusOfCode } from '../../src/http/errorMap.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * 400 htlc_hash_reused (quote-chain.md, "Hashlocks are used once"): a hash is taken by the first
 * order that uses it, through a stream per hash appended with `no_stream`, so even two places racing
 * with one hash give exactly one order.
 */
let h: SettlementHarness;
beforeEach(async () => {
  h = await startSettlementHarness();
});
afterEach(async () => {
  await h.close();
});

const freshHash = () => htlcHashOf(randomBytes(32).toString('hex'));

async function refusalOf(run: Promise<unknown>): Promise<string | null> {
  const error = await run.then(() => null, (e: unknown) => e);
  if (error === null) return null;
  expect(error).toBeInstanceOf(OrderRefused);
  return (error as OrderRefused).code;
}

describe('htlc_hash_reused', () => {
  it('maps to 400', () => {
    expect(statusOfCode('htlc_hash_reused')).toBe(400);
  });

  it('allows a fresh hash at place and reserves it for that order', async () => {
    const hash = freshHash();
    const placed = await trader(h).place(h.seller, 'sell', { htlcHash: hash });
    expect(placed.state.status).toBe('open');
    expect(await reservedBy(h.store, hash)).toBe(facts(placed.state).orderId);
  });

  it('refuses a second place with the same hash, writing no order and locking no escrow', async () => {
    const hash = freshHash();
    await trader(h).place(h.seller, 'sell', { htlcHash: hash });
    const jobs = h.node.jobs().length;
    expect(await refusalOf(trader(h).place(h.stranger, 'sell', { htlcHash: hash, amountMicroRtc: 20_000_000n }))).toBe('htlc_hash_reused');
    expect(h.node.jobs().length).toBe(jobs);
  });

  it('refuses a match of a buy order with a hash a sell order already used', async () => {
    const hash = freshHash();
    await trader(h).place(h.seller, 'sell', { htlcHash: hash });
    const buy = await trader(h).place(h.buyer, 'buy');
    const orderId = facts(buy.state).orderId as string;
    expect(await refusalOf(trader(h).match(h.stranger, orderId, hash))).toBe('htlc_hash_reused');
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('open');
    // A fresh hash matches.
    expect((await trader(h).match(h.stranger, orderId, freshHash())).state.status).toBe('matched');
  });

  it('a generated preimage is reserved too: its hash cannot be placed again', async () => {
    const placed = await trader(h).place(h.seller, 'sell');
    const hash = htlcHashOf(placed.htlcSecret as string);
    expect(await refusalOf(trader(h).place(h.stranger, 'sell', { htlcHash: hash }))).toBe('htlc_hash_reused');
  });

  it('is a no-op for the order that already holds the hash (a retried command), and refuses any other', async () => {
    const hash = freshHash();
    const use = { htlcHash: hash, orderId: 'otc_00000000000000aa', action: 'rearm' as const, wallet: h.seller.wallet, correlationId: 'c', now: new Date() };
    await reserveHtlcHash(h.store, use);
    await reserveHtlcHash(h.store, use);
    expect(await h.store.readStream(`htlc-${hash}`)).toHaveLength(1);
    expect(await refusalOf(reserveHtlcHash(h.store, { ...use, orderId: 'otc_00000000000000bb' }))).toBe('htlc_hash_reused');
    // Case does not make a new hash.
    expect(await refusalOf(reserveHtlcHash(h.store, { ...use, htlcHash: hash.toUpperCase(), orderId: 'otc_00000000000000cc' }))).toBe('htlc_hash_reused');
  });

  it('two places racing with one hash: exactly one order is placed', async () => {
    const hash = freshHash();
    const t = trader(h);
    const results = await Promise.all([
      refusalOf(t.place(h.seller, 'sell', { htlcHash: hash })),
      refusalOf(t.place(h.stranger, 'sell', { htlcHash: hash })),
      refusalOf(t.place(h.buyer, 'sell', { htlcHash: hash })),
    ]);
    expect(results.filter((r) => r === null)).toHaveLength(1);
    expect(results.filter((r) => r === 'htlc_hash_reused')).toHaveLength(2);
    const placedOrders = (await h.store.listStreams('order-')).length;
    expect(placedOrders).toBe(1);
  });
});

describe('htlc_hash_reused across two processes\' stores on one SQLite file', () => {
  it('exactly one of two stores on the same file wins the hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'htlc-race-'));
    const a = new SqliteEventStore({ path: join(dir, 'events.db') });
    const b = new SqliteEventStore({ path: join(dir, 'events.db') });
    try {
      const hash = freshHash();
      const use = (store: SqliteEventStore, orderId: string) =>
        refusalOf(reserveHtlcHash(store, { htlcHash: hash, orderId, action: 'place', wallet: 'RTC' + '0'.repeat(40), correlationId: orderId, now: new Date() }));
      const results = await Promise.all([use(a, 'otc_000000000000000a'), use(b, 'otc_000000000000000b')]);
      expect(results.sort()).toEqual([null, 'htlc_hash_reused'].sort());
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

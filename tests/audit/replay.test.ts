import { placed as existing } from '../support/orderFixtures.js';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { loadOrderAt, orderAt, orderHistory } from '../../src/audit/replay.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { toOrderResource } from '../../src/views/orderResource.js';
import { BUYER, HTLC_HASH, TestLedger, SECRET, SELLER } from '../projections/support/ledger.js';

const ORDER = 'otc_00000000000000a1';

describe('audit replay', () => {
  it('gives the timeline with the status after each event and never the preimage or its ciphertext', async () => {
    const ledger = TestLedger.memory();
    await ledger.completedSell(ORDER);
    const history = await orderHistory(ledger.store, ORDER);
    expect(history?.chain_valid).toBe(true);
    expect(history?.chain_problem).toBeNull();
    expect(history?.events.map((e) => [e.version, e.type, e.status_after])).toEqual([
      [1, 'OrderPlaced', 'escrow_pending'],
      [2, 'EscrowLocked', 'open'],
      [3, 'Matched', 'matched'],
      [4, 'SettlementClaimed', 'settling'],
      [5, 'EscrowReleased', 'settling'],
      [6, 'PayoutQueued', 'payout_pending'],
      [7, 'PayoutConfirmed', 'completed'],
    ]);
    const claimed = history?.events[3];
    expect(claimed?.actor).toBe(SELLER);
    expect(claimed?.data).toEqual({ quote_tx: `0xquote-${ORDER}`, claimed_at: claimed?.recorded_at });
    expect(JSON.stringify(history)).not.toContain('enc:v1');
    expect(JSON.stringify(history)).not.toContain(SECRET);
  });

  it('returns the order as it stood at a version, and says when the version is beyond the stream', async () => {
    const ledger = TestLedger.memory();
    await ledger.completedSell(ORDER);
    const events = await ledger.store.readStream(orderStream(ORDER));
    const at3 = orderAt(events, 3n);
    expect(at3.kind).toBe('found');
    if (at3.kind === 'found') {
      expect(at3.version).toBe(3n);
      expect(toOrderResource(existing(at3.state), at3.version)).toMatchObject({ status: 'matched', taker_wallet: BUYER, version: 3, htlc_secret: null });
    }
    expect(orderAt(events, 8n)).toEqual({ kind: 'beyond_stream', latestVersion: 7n });
    expect(orderAt(events, 0n)).toEqual({ kind: 'invalid_version' });
    expect(await loadOrderAt(ledger.store, 'otc_ffffffffffffffff', 1n)).toBeNull();
    expect(await orderHistory(ledger.store, 'otc_ffffffffffffffff')).toBeNull();
  });

  it('reports a tampered event instead of hiding it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-replay-'));
    try {
      const path = join(dir, 'events.db');
      const ledger = new TestLedger(new SqliteEventStore({ path }));
      await ledger.completedSell(ORDER);
      const raw = new Database(path);
      raw.prepare("UPDATE events SET data = json_set(data, '$.tx_hash', 'tx-forged') WHERE stream = ? AND version = 7").run(orderStream(ORDER));
      raw.close();
      const history = await orderHistory(ledger.store, ORDER);
      expect(history?.chain_valid).toBe(false);
      expect(history?.chain_problem).toEqual({ version: 7, problem: 'hash does not match the event content' });
      await ledger.store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('order resource', () => {
  it('has every field of api.md with money in both forms and the secret only when completed', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(ORDER, { amountMicroRtc: 100_000_000n, priceNano: 100_000_000n, pair: 'RTC/ETH' });
    const matched = await ledger.match(ORDER, BUYER.toUpperCase().replace('RTC', 'RTC'));
    const resource = toOrderResource(existing(matched.state), matched.version, { revealSecret: SECRET, updatedAt: matched.updatedAt });
    expect(resource).toEqual({
      order_id: ORDER, side: 'sell', pair: 'RTC/ETH', quote_currency: 'ETH', status: 'matched', version: 3,
      maker_wallet: SELLER, taker_wallet: BUYER, seller_wallet: SELLER, buyer_wallet: BUYER,
      maker_eth_address: `0x${'1'.repeat(40)}`, taker_eth_address: null,
      amount_rtc: '100.000000', amount_micro_rtc: '100000000', price_per_rtc: '0.100000000', price_per_rtc_nano_quote: '100000000',
      total_quote: '10.000000000', total_quote_nano: '10000000000',
      htlc_hash: HTLC_HASH, htlc_secret: null,
      escrow: { job_id: `job-${ORDER}`, status: 'locked' }, payout: { key: null, status: 'none', tx_hash: null },
      quote_tx: null, created_at: '2026-03-01T10:00:01.000Z', expires_at: '2026-03-02T10:00:01.000Z',
      matched_at: '2026-03-01T10:00:03.000Z', settle_by: '2026-03-02T10:00:03.000Z', completed_at: null,
      updated_at: '2026-03-01T10:00:03.000Z',
      // The view shows the quote leg its caller computed (the ledger's, for the API); none here.
      quote_leg: null,
    });
    const done = await ledger.settle(ORDER, SELLER);
    expect(toOrderResource(existing(done.state), done.version, { revealSecret: SECRET })).toMatchObject({ status: 'completed', htlc_secret: SECRET, payout: { status: 'confirmed', tx_hash: `tx-${ORDER}` } });
    expect(toOrderResource(existing(done.state), done.version).htlc_secret).toBeNull();
  });

  it('derives seller and buyer from the side: a buy order is sold by its taker', async () => {
    const ledger = TestLedger.memory();
    const placed = await ledger.placeBuy(ORDER);
    expect(toOrderResource(existing(placed.state), placed.version)).toMatchObject({ seller_wallet: null, buyer_wallet: BUYER, quote_currency: 'USDC', escrow: { job_id: null, status: 'none' } });
    const matched = await ledger.match(ORDER, SELLER, HTLC_HASH);
    expect(toOrderResource(existing(matched.state), matched.version)).toMatchObject({ seller_wallet: SELLER, buyer_wallet: BUYER, status: 'matching' });
  });
});

import { resourceOfStored, toOrderResource } from '../../src/views/orderResource.js';
import { placed } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { foldOrderStream } from '../../src/orderStream/fold.js';
import { orderStream } from '../../src/aggregates/order/index.js';
import { getOrder, listOrders } from '../../src/projections/orders.js';
import { orderBook } from '../../src/projections/orderBook.js';
import { listTrades } from '../../src/projections/trades.js';
import { pairStats } from '../../src/projections/stats.js';
import { findUsedSignature, listUsedSignatures } from '../../src/projections/signatures.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { BUYER, HTLC_HASH, TestLedger, SELLER, wallet } from './support/ledger.js';

const id = (n: number): string => `otc_${n.toString(16).padStart(16, '0')}`;

async function projected(ledger: TestLedger): Promise<ProjectionRunner> {
  const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
  await runner.catchUp();
  return runner;
}

describe('orders read model', () => {
  it('follows an order event by event with the status its stream folds to', async () => {
    const ledger = TestLedger.memory();
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    const steps = [
      () => ledger.placeSell(id(1)),
      () => ledger.match(id(1), BUYER),
      () => ledger.settle(id(1), SELLER),
    ];
    for (const step of steps) {
      await step();
      await runner.catchUp();
      const stream = foldOrderStream(await ledger.store.readStream(orderStream(id(1))));
      const stored = getOrder(runner.db, id(1));
      expect(stored?.version).toBe(stream.version);
      // The row's own columns say what the stream's fold says, field by field.
      const fromStream = toOrderResource(placed(stream.state), stream.version, { updatedAt: stream.updatedAt });
      expect(stored === null ? null : resourceOfStored(stored)).toEqual(fromStream);
    }
    expect(getOrder(runner.db, id(1))?.summary.status).toBe('completed');
    expect(getOrder(runner.db, 'otc_ffffffffffffffff')).toBeNull();
  });

  it('lists open asks by price ascending then bids by price descending, oldest first within a price', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1), { priceNano: 300n });
    await ledger.placeSell(id(2), { priceNano: 100n });
    await ledger.placeSell(id(3), { priceNano: 100n });
    await ledger.placeBuy(id(4), { priceNano: 50n });
    await ledger.placeBuy(id(5), { priceNano: 80n });
    await ledger.cancelWithRefund(id(6));
    const runner = await projected(ledger);
    const page = listOrders(runner.db, { limit: 50, offset: 0 });
    expect(page.orders.map((o) => o.summary.orderId)).toEqual([id(2), id(3), id(1), id(5), id(4)]);
    expect(page.total).toBe(5);
    const second = listOrders(runner.db, { limit: 2, offset: 2 });
    expect(second.orders.map((o) => o.summary.orderId)).toEqual([id(1), id(5)]);
    expect(second.total).toBe(5);
  });

  it('filters by pair, side, status and wallet in any hex case', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1));
    await ledger.placeBuy(id(2), { pair: 'RTC/ETH' });
    await ledger.placeBuy(id(3), { maker: wallet('c') });
    await ledger.match(id(3), SELLER, HTLC_HASH);
    await ledger.cancelWithRefund(id(4));
    const runner = await projected(ledger);
    const ids = (q: Parameters<typeof listOrders>[1]) => listOrders(runner.db, q).orders.map((o) => o.summary.orderId).sort();
    expect(ids({ limit: 50, offset: 0, pair: 'RTC/ETH' })).toEqual([id(2)]);
    expect(ids({ limit: 50, offset: 0, side: 'sell' })).toEqual([id(1)]);
    expect(ids({ limit: 50, offset: 0, status: 'cancelled' })).toEqual([id(4)]);
    expect(ids({ limit: 50, offset: 0, status: 'matching' })).toEqual([id(3)]);
    expect(ids({ limit: 50, offset: 0, status: 'all' })).toEqual([id(1), id(2), id(3), id(4)]);
    expect(ids({ limit: 50, offset: 0, status: 'all', wallet: SELLER.toUpperCase().replace('RTC', 'RTC') })).toEqual([id(1), id(3), id(4)]);
    const secrets = listOrders(runner.db, { limit: 50, offset: 0, status: 'all' }).orders.map((o) => resourceOfStored(o, () => 'x'));
    expect(secrets.every((o) => o.htlc_secret === null)).toBe(true);
  });
});

describe('order book read model', () => {
  it('groups open orders by exact price, excludes expired ones at query time and reports the last trade', async () => {
    const ledger = TestLedger.memory();
    await ledger.placeSell(id(1), { priceNano: 120_000_000n, amountMicroRtc: 1_000_000n });
    await ledger.placeSell(id(2), { priceNano: 120_000_000n, amountMicroRtc: 2_500_000n });
    await ledger.placeSell(id(3), { priceNano: 130_000_000n, ttlSeconds: 3600 });
    await ledger.placeBuy(id(4), { priceNano: 90_000_000n });
    await ledger.placeBuy(id(5), { priceNano: 95_000_000n });
    await ledger.placeBuy(id(6), { priceNano: 99_000_000n, pair: 'RTC/ERG' });
    await ledger.completedSell(id(7), { priceNano: 111_000_000n, amountMicroRtc: 3_000_000n });
    const runner = await projected(ledger);
    const book = orderBook(runner.db, 'RTC/USDC', ledger.now());
    expect(book.asks).toEqual([
      { price: '0.120000000', total_rtc: '3.500000', order_count: 2 },
      { price: '0.130000000', total_rtc: '100.000000', order_count: 1 },
    ]);
    expect(book.bids.map((l) => l.price)).toEqual(['0.095000000', '0.090000000']);
    expect(book).toMatchObject({ best_ask: '0.120000000', best_bid: '0.095000000', spread: '0.025000000', last_price: '0.111000000', volume_24h_rtc: '3.000000', trades_24h: 1 });
    const later = orderBook(runner.db, 'RTC/USDC', new Date(ledger.nowMs + 2 * 3600_000));
    expect(later.asks.map((l) => l.price)).toEqual(['0.120000000']);
    const dayAfter = orderBook(runner.db, 'RTC/USDC', new Date(ledger.nowMs + 25 * 3600_000));
    expect(dayAfter).toMatchObject({ asks: [], bids: [], best_ask: null, spread: null, volume_24h_rtc: '0.000000', trades_24h: 0, last_price: '0.111000000' });
  });

  it('shows at most 50 levels a side', async () => {
    const ledger = TestLedger.memory();
    for (let i = 1; i <= 52; i++) await ledger.placeBuy(id(i), { priceNano: BigInt(i) * 1_000_000n });
    const runner = await projected(ledger);
    const book = orderBook(runner.db, 'RTC/USDC', ledger.now());
    expect(book.bids).toHaveLength(50);
    expect(book.bids[0]?.price).toBe('0.052000000');
  });
});

describe('trades and stats read models', () => {
  it('lists trades newest first with a before cursor and a deterministic trade id', async () => {
    const ledger = TestLedger.memory();
    await ledger.completedSell(id(1), { priceNano: 100_000_000n });
    await ledger.completedSell(id(2), { priceNano: 200_000_000n, pair: 'RTC/ETH' });
    await ledger.completedSell(id(3), { priceNano: 300_000_000n });
    const runner = await projected(ledger);
    const all = listTrades(runner.db, { limit: 10 });
    expect(all?.map((t) => t.trade_id)).toEqual(['trade_0000000000000003', 'trade_0000000000000002', 'trade_0000000000000001']);
    expect(all?.[0]).toEqual({
      trade_id: 'trade_0000000000000003', order_id: id(3), pair: 'RTC/USDC', side: 'sell',
      amount_rtc: '100.000000', price_per_rtc: '0.300000000', total_quote: '30.000000000',
      seller_wallet: SELLER, buyer_wallet: BUYER, quote_tx: `0xquote-${id(3)}`, payout_tx_hash: `tx-${id(3)}`,
      completed_at: all?.[0]?.completed_at,
    });
    expect(listTrades(runner.db, { limit: 10, before: 'trade_0000000000000003' })?.map((t) => t.order_id)).toEqual([id(2), id(1)]);
    expect(listTrades(runner.db, { limit: 10, pair: 'RTC/USDC', before: 'trade_0000000000000003' })?.map((t) => t.order_id)).toEqual([id(1)]);
    expect(listTrades(runner.db, { limit: 1 })).toHaveLength(1);
    expect(listTrades(runner.db, { limit: 10, before: 'trade_nope' })).toBeNull();
  });

  it('computes per-pair stats with 24h and 7d windows at the given now', async () => {
    const ledger = TestLedger.memory();
    await ledger.completedSell(id(1), { priceNano: 100_000_000n, amountMicroRtc: 1_000_000n });
    ledger.advance(3 * 86_400_000);
    await ledger.completedSell(id(2), { priceNano: 300_000_000n, amountMicroRtc: 2_000_000n });
    await ledger.completedSell(id(3), { priceNano: 200_000_000n, amountMicroRtc: 4_000_000n });
    await ledger.completedSell(id(4), { priceNano: 999_000_000n, pair: 'RTC/ERG' });
    await ledger.placeSell(id(5), { amountMicroRtc: 7_000_000n });
    await ledger.placeBuy(id(6), { amountMicroRtc: 1_500_000n });
    const runner = await projected(ledger);
    expect(pairStats(runner.db, 'RTC/USDC', ledger.now())).toEqual({
      pair: 'RTC/USDC', total_trades: 3, total_volume_rtc: '7.000000', volume_24h_rtc: '6.000000', volume_7d_rtc: '7.000000',
      last_price: '0.200000000', high_24h: '0.300000000', low_24h: '0.200000000',
      open_sells: { count: 1, total_rtc: '7.000000' }, open_buys: { count: 1, total_rtc: '1.500000' },
    });
    const weekLater = pairStats(runner.db, 'RTC/USDC', new Date(ledger.nowMs + 8 * 86_400_000));
    expect(weekLater).toMatchObject({ total_trades: 3, volume_24h_rtc: '0.000000', volume_7d_rtc: '0.000000', high_24h: null, open_sells: { count: 0 } });
  });
});

describe('used signatures read model', () => {
  it('records each sig stream once with wallet, action and order', async () => {
    const ledger = TestLedger.memory();
    await ledger.useSignature('ab'.repeat(32), id(1));
    const runner = await projected(ledger);
    expect(findUsedSignature(runner.db, 'ab'.repeat(32))).toMatchObject({ wallet: SELLER, action: 'create_order', order_id: id(1) });
    expect(findUsedSignature(runner.db, 'cd'.repeat(32))).toBeNull();
    expect(listUsedSignatures(runner.db, { wallet: SELLER, limit: 10 })).toHaveLength(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, confirmBody, json, matchedSell, placeBody, placeSell, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
let lastPosition = '0';
let tradeIds: string[] = [];

beforeAll(async () => {
  h = await startHttpHarness();
  // A small book on RTC/USDC: asks at 0.3 and 0.2, bids at 0.1 and 0.15; one completed trade on RTC/ETH.
  for (const price of ['0.3', '0.2']) await placeSell(h, { price_per_rtc: price });
  for (const price of ['0.1', '0.15']) {
    const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy', price_per_rtc: price, amount_rtc: '5' }));
    lastPosition = json(res).position as string;
  }
  for (let i = 0; i < 2; i++) {
    const { orderId, secret } = await matchedSell(h, { pair: 'RTC/ETH', price_per_rtc: '0.01', amount_rtc: '3' });
    const res = await h.post(`/api/orders/${orderId}/confirm`, confirmBody(h, h.seller, orderId, secret));
    tradeIds = [json(res).trade_id as string, ...tradeIds];
    lastPosition = json(res).position as string;
  }
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/orders', () => {
  it('lists open orders: asks by price ascending, then bids by price descending', async () => {
    const res = await h.get(`/api/orders?pair=rtc/usdc&min_position=${lastPosition}`);
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.orders.map((o: { side: string; price_per_rtc: string }) => `${o.side}@${o.price_per_rtc}`)).toEqual([
      'sell@0.200000000', 'sell@0.300000000', 'buy@0.150000000', 'buy@0.100000000',
    ]);
    expect(body).toMatchObject({ ok: true, total: 4, limit: 50, offset: 0 });
  });

  it('filters by side, status and wallet, and pages with limit and offset', async () => {
    const bids = json(await h.get(`/api/orders?side=BUY&min_position=${lastPosition}`));
    expect(bids.orders.every((o: { side: string }) => o.side === 'buy')).toBe(true);
    const done = json(await h.get('/api/orders?status=completed'));
    expect(done.total).toBe(2);
    expect(done.orders[0].htlc_secret).toMatch(/^[0-9a-f]{64}$/);
    const all = json(await h.get(`/api/orders?status=all&wallet=${h.buyer.wallet.toUpperCase().replace(/^RTC/, 'RTC')}`));
    expect(all.total).toBe(4);
    const page = json(await h.get('/api/orders?status=all&limit=2&offset=1'));
    expect(page).toMatchObject({ limit: 2, offset: 1, total: 6 });
    expect(page.orders).toHaveLength(2);
    expect(json(await h.get('/api/orders?limit=999')).limit).toBe(200);
  });

  it.each([
    ['limit=abc', 'limit_must_be_integer'],
    ['limit=1.5', 'limit_must_be_integer'],
    ['limit=0', 'limit_must_be_positive'],
    ['limit=-3&offset=x', 'limit_must_be_positive'],
    ['offset=x&pair=nope', 'offset_must_be_integer'],
    ['offset=-1', 'offset_must_be_non_negative'],
    ['pair=RTC/DOGE&side=up', 'pair_unsupported'],
    ['side=up&status=nope', 'side_invalid'],
    ['status=nope', 'status_invalid'],
    ['limit=1&limit=2', 'limit_must_be_integer'],
    ['min_position=-1', 'min_position_invalid'],
  ])('refuses ?%s with 400 %s', async (query, code) => {
    const res = await h.get(`/api/orders?${query}`);
    expect(res.statusCode).toBe(400);
    expect(json(res)).toMatchObject({ ok: false, error: code });
  });
});

describe('market data', () => {
  it('GET /api/orderbook groups open orders by price', async () => {
    const res = await h.get(`/api/orderbook?pair=RTC/USDC&min_position=${lastPosition}`);
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({
      ok: true, pair: 'RTC/USDC', best_ask: '0.200000000', best_bid: '0.150000000', spread: '0.050000000', last_price: null,
      asks: [{ price: '0.200000000', total_rtc: '10.000000', order_count: 1 }, { price: '0.300000000', total_rtc: '10.000000', order_count: 1 }],
      bids: [{ price: '0.150000000', total_rtc: '5.000000', order_count: 1 }, { price: '0.100000000', total_rtc: '5.000000', order_count: 1 }],
    });
    expect(json(await h.get('/api/orderbook?pair=x')).error).toBe('pair_unsupported');
  });

  it('GET /api/trades lists trades newest first with a before cursor', async () => {
    const res = await h.get(`/api/trades?min_position=${lastPosition}`);
    expect(res.statusCode).toBe(200);
    const trades = json(res).trades as Array<Record<string, unknown>>;
    expect(trades.map((t) => t.trade_id)).toEqual(tradeIds);
    expect(trades[0]).toMatchObject({ pair: 'RTC/ETH', amount_rtc: '3.000000', price_per_rtc: '0.010000000', total_quote: '0.030000000', seller_wallet: h.seller.wallet, buyer_wallet: h.buyer.wallet });
    const older = json(await h.get(`/api/trades?before=${tradeIds[0]}`)).trades as unknown[];
    expect(older).toHaveLength(1);
    expect(json(await h.get('/api/trades?pair=RTC/USDC')).trades).toEqual([]);
    expect(json(await h.get('/api/trades?before=trade_nope')).error).toBe('before_invalid');
    expect(json(await h.get('/api/trades?limit=0')).error).toBe('limit_must_be_positive');
  });

  it('GET /api/stats reports one pair only', async () => {
    const eth = json(await h.get(`/api/stats?pair=RTC/ETH&min_position=${lastPosition}`));
    expect(eth).toMatchObject({ ok: true, pair: 'RTC/ETH', total_trades: 2, total_volume_rtc: '6.000000', last_price: '0.010000000', open_sells: { count: 0 } });
    const usdc = json(await h.get('/api/stats'));
    expect(usdc).toMatchObject({ pair: 'RTC/USDC', total_trades: 0, last_price: null, open_sells: { count: 2, total_rtc: '20.000000' }, open_buys: { count: 2, total_rtc: '10.000000' } });
  });
});

describe('min_position', () => {
  it('answers 503 read_model_lagging when the read models never reach the position', async () => {
    const res = await h.get('/api/orders?min_position=999999999');
    expect(res.statusCode).toBe(503);
    expect(json(res)).toMatchObject({ ok: false, error: 'read_model_lagging' });
  });

  it('sees a write right after it when its position is passed', async () => {
    const res = await h.post('/api/orders', placeBody(h, h.stranger, { side: 'buy', price_per_rtc: '0.12' }));
    const { position, order } = json(res);
    const list = json(await h.get(`/api/orders?side=buy&min_position=${position}`));
    expect(list.orders.map((o: { order_id: string }) => o.order_id)).toContain(order.order_id);
  });
});

// Last: it adds an order, which the counts above do not expect.
describe('GET /api/orders and expiry', () => {
  it('does not list an open order past expires_at as open, before the reconciler sweeps it (like the book)', async () => {
    const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy', price_per_rtc: '0.12', amount_rtc: '1', ttl_seconds: 3600 }));
    const orderId = json(res).order.order_id as string;
    const position = json(res).position as string;
    const listed = async (status: string) =>
      (json(await h.get(`/api/orders?status=${status}&min_position=${position}`)).orders as Array<{ order_id: string }>).map((o) => o.order_id);
    expect(await listed('open')).toContain(orderId);
    h.clock.nowMs += 3600_000;
    expect(await listed('open')).not.toContain(orderId);
    expect(await listed('all')).toContain(orderId);
  });
});

// Last too: it moves the clock past every deadline, which the tests above do not expect.
describe('GET requests never change state and never call the node', () => {
  it('leaves the log and the node untouched on every GET route, even with orders past their deadlines and in flight', async () => {
    // In flight and parked, besides the open orders and trades built above.
    h.fault('POST /agent/jobs', 'error_500');
    const pending = await h.post('/api/orders', placeBody(h, h.seller, { side: 'sell' }));
    expect(json(pending).order.status).toBe('escrow_pending');
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /wallet/transfer', 'reject_400');
    expect(json(await h.post(`/api/orders/${orderId}/confirm`, confirmBody(h, h.seller, orderId, secret))).error).toBe('settlement_recovery');
    h.clock.nowMs += 40 * 86_400_000; // past every expires_at and settle_by
    await h.runner.catchUp();

    const head = await h.store.headPosition();
    const nodeCalls = JSON.stringify(h.node.snapshot().request_counts);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const anOrder = json(pending).order.order_id as string;
    for (const url of [
      '/api/orders', '/api/orders?status=all', `/api/orders/${anOrder}`, `/api/orders/${orderId}/history`,
      `/api/orders/${orderId}/history?at_version=2`, '/api/orderbook', '/api/trades', '/api/stats',
      '/health', '/ready', '/metrics', '/openapi.json',
    ]) {
      expect((await h.get(url)).statusCode, url).toBeLessThan(500);
    }
    for (const url of ['/admin/recovery', '/admin/projections']) expect((await h.get(url, auth)).statusCode, url).toBe(200);
    expect(await h.store.headPosition()).toBe(head);
    expect(JSON.stringify(h.node.snapshot().request_counts)).toBe(nodeCalls);
  });
});

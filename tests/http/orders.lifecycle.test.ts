import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelBody, json, matchBody, placeBody, placeSell, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness();
});
afterAll(async () => {
  await h.close();
});

const UNKNOWN_ID = 'otc_0123456789abcdef';

async function placeBuy(): Promise<string> {
  const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }));
  expect(res.statusCode).toBe(201);
  return json(res).order.order_id as string;
}

describe('POST /api/orders/:id/match', () => {
  it('matches a sell order: 200 matched, position, ETag', async () => {
    const { orderId } = await placeSell(h);
    const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId, { eth_address: `0x${'1'.repeat(40)}` }));
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.order).toMatchObject({ status: 'matched', taker_wallet: h.buyer.wallet, taker_eth_address: `0x${'1'.repeat(40)}` });
    expect(body.htlc_secret).toBeUndefined();
    expect(res.headers.etag).toBe(`"${body.order.version}"`);
    expect(body.position).toMatch(/^\d+$/);
  });

  it('matches a buy order: the taker\'s escrow is locked and their preimage shown once', async () => {
    const orderId = await placeBuy();
    const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.seller, orderId));
    expect(res.statusCode).toBe(200);
    expect(json(res).order).toMatchObject({ status: 'matched', escrow: { status: 'locked' }, seller_wallet: expect.stringMatching(/^RTC/) });
    expect(json(res).htlc_secret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 422 escrow_lock_failed and reopens a buy order when the node refuses the taker\'s lock', async () => {
    const orderId = await placeBuy();
    h.fault('POST /agent/jobs', 'reject_400');
    const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.seller, orderId));
    expect(res.statusCode).toBe(422);
    expect(json(res)).toMatchObject({ ok: false, error: 'escrow_lock_failed', order: { status: 'open', taker_wallet: null } });
  });

  it('answers 202 matching when the taker\'s lock outcome is unknown', async () => {
    const orderId = await placeBuy();
    h.fault('POST /agent/jobs', 'error_500');
    const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.seller, orderId));
    expect(res.statusCode).toBe(202);
    expect(json(res).order.status).toBe('matching');
  });

  it('refuses a self-match with 400 self_match, even with the wallet in another case', async () => {
    const { orderId } = await placeSell(h);
    const shouted = `RTC${h.seller.wallet.slice(3).toUpperCase()}`;
    const auth = h.seller.sign('match_order', orderId, { eth_address: '', htlc_hash: '' }, Math.floor(h.clock.nowMs / 1000) - 299, shouted);
    const res = await h.post(`/api/orders/${orderId}/match`, { wallet: shouted, wallet_auth: auth });
    expect(res.statusCode).toBe(400);
    expect(json(res).error).toBe('self_match');
  });

  it('refuses to match a matched order with 409 order_not_open', async () => {
    const { orderId } = await placeSell(h);
    expect((await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId))).statusCode).toBe(200);
    const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.stranger, orderId));
    expect(res.statusCode).toBe(409);
    expect(json(res)).toMatchObject({ error: 'order_not_open', status: 'matched' });
  });

  it('refuses an expired order with 410 order_expired', async () => {
    const { orderId } = await placeSell(h, { ttl_seconds: 3600 });
    h.clock.nowMs += 3601_000;
    try {
      const res = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId));
      expect(res.statusCode).toBe(410);
      expect(json(res).error).toBe('order_expired');
    } finally {
      h.clock.nowMs -= 3601_000;
    }
  });

  it('answers 404 order_not_found for an unknown or malformed id', async () => {
    expect(json(await h.post(`/api/orders/${UNKNOWN_ID}/match`, matchBody(h, h.buyer, UNKNOWN_ID)))).toMatchObject({ error: 'order_not_found' });
    const res = await h.post('/api/orders/not-an-id/match', matchBody(h, h.buyer, 'not-an-id'));
    expect(res.statusCode).toBe(404);
    expect(json(res).error).toBe('order_not_found');
  });

  it('validates eth_address and htlc_hash with 400', async () => {
    const { orderId } = await placeSell(h);
    expect(json(await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId, { eth_address: '0xnope' }))).error).toBe('eth_address_invalid');
    expect(json(await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId, { htlc_hash: 'beef' }))).error).toBe('htlc_hash_invalid');
    const onSell = await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId, { htlc_hash: 'cd'.repeat(32) }));
    expect(onSell.statusCode).toBe(400);
    expect(json(onSell).error).toBe('htlc_hash_not_allowed');
  });

  it('lets exactly one of several concurrent matches win; the rest get 409 order_not_open', async () => {
    const { orderId } = await placeSell(h);
    const takers = [h.buyer, h.stranger, h.buyer, h.stranger];
    const answers = await Promise.all(takers.map((w) => h.post(`/api/orders/${orderId}/match`, matchBody(h, w, orderId))));
    const statuses = answers.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 409, 409, 409]);
    for (const r of answers.filter((a) => a.statusCode === 409)) expect(json(r).error).toBe('order_not_open');
  });
});

describe('POST /api/orders/:id/cancel', () => {
  it('cancels a buy order: 200 cancelled, escrow_refunded true', async () => {
    const orderId = await placeBuy();
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.buyer, orderId));
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ ok: true, escrow_refunded: true, order: { status: 'cancelled' } });
  });

  it('cancels a sell order and refunds its escrow', async () => {
    const { orderId } = await placeSell(h);
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.seller, orderId));
    expect(json(res)).toMatchObject({ escrow_refunded: true, order: { status: 'cancelled', escrow: { status: 'refunded' } } });
  });

  it('answers refund_pending with escrow_refunded false when the refund is refused', async () => {
    const { orderId } = await placeSell(h);
    h.fault('POST /agent/jobs/:id/cancel', 'reject_400');
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.seller, orderId));
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ escrow_refunded: false, order: { status: 'refund_pending' } });
  });

  it('refuses anyone but the maker with 403 not_maker', async () => {
    const orderId = await placeBuy();
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.stranger, orderId));
    expect(res.statusCode).toBe(403);
    expect(json(res).error).toBe('not_maker');
  });

  it('refuses a matched order with 409 order_not_open, and an unknown one with 404', async () => {
    const { orderId } = await placeSell(h);
    await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId));
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.seller, orderId));
    expect(res.statusCode).toBe(409);
    expect(json(res).error).toBe('order_not_open');
    expect((await h.post(`/api/orders/${UNKNOWN_ID}/cancel`, cancelBody(h, h.seller, UNKNOWN_ID))).statusCode).toBe(404);
  });

  it('answers 401 when the cancel signature is missing', async () => {
    const orderId = await placeBuy();
    const res = await h.post(`/api/orders/${orderId}/cancel`, { wallet: h.buyer.wallet });
    expect(res.statusCode).toBe(401);
    expect(json(res).error).toBe('wallet_auth_required');
  });
});

describe('versions: ETag and If-Match', () => {
  it('GET an order carries its version as ETag', async () => {
    const orderId = await placeBuy();
    const res = await h.get(`/api/orders/${orderId}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(`"${json(res).order.version}"`);
  });

  it('refuses a command whose If-Match no longer holds with 412 version_mismatch, writing nothing', async () => {
    const orderId = await placeBuy();
    const version = json(await h.get(`/api/orders/${orderId}`)).order.version as number;
    const head = await h.store.headPosition();
    const body = cancelBody(h, h.buyer, orderId);
    const stale = await h.post(`/api/orders/${orderId}/cancel`, body, { 'if-match': `"${version + 1}"` });
    expect(stale.statusCode).toBe(412);
    expect(json(stale).error).toBe('version_mismatch');
    expect(json(await h.get(`/api/orders/${orderId}`)).order.status).toBe('open');
    // The version is checked before the signature is spent: nothing at all is written.
    expect(await h.store.headPosition()).toBe(head);
    const current = await h.post(`/api/orders/${orderId}/cancel`, body, { 'if-match': `"${version}"` });
    expect(current.statusCode).toBe(200);
  });

  it('refuses a malformed If-Match with 400 if_match_invalid', async () => {
    const orderId = await placeBuy();
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.buyer, orderId), { 'if-match': 'yesterday' });
    expect(res.statusCode).toBe(400);
    expect(json(res).error).toBe('if_match_invalid');
  });
});

describe('GET /api/orders/:id and its history', () => {
  it('answers 404 order_not_found for unknown and malformed ids', async () => {
    for (const id of [UNKNOWN_ID, 'x', 'otc_ZZ', '%00']) {
      const res = await h.get(`/api/orders/${id}`);
      expect(res.statusCode).toBe(404);
      expect(json(res).error).toBe('order_not_found');
    }
  });

  it('replays the audit history with a valid chain and no preimage', async () => {
    const { orderId, secret } = await placeSell(h);
    const res = await h.get(`/api/orders/${orderId}/history`);
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body).toMatchObject({ ok: true, order_id: orderId, chain_valid: true });
    expect(body.events.map((e: { type: string }) => e.type)).toEqual(['OrderPlaced', 'EscrowLocked']);
    expect(body.events[0]).toMatchObject({ version: 1, status_after: 'escrow_pending', actor: expect.stringMatching(/^RTC/) });
    expect(body.events[1].status_after).toBe('open');
    expect(res.body).not.toContain(secret);
  });

  it('shows the order as it stood at a version, and refuses bad or missing versions', async () => {
    const { orderId } = await placeSell(h);
    const at1 = json(await h.get(`/api/orders/${orderId}/history?at_version=1`));
    expect(at1).toMatchObject({ ok: true, order: { status: 'escrow_pending', version: 1 } });
    const bad = await h.get(`/api/orders/${orderId}/history?at_version=0`);
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error).toBe('at_version_invalid');
    expect(json(await h.get(`/api/orders/${orderId}/history?at_version=abc`)).error).toBe('at_version_invalid');
    const beyond = await h.get(`/api/orders/${orderId}/history?at_version=99`);
    expect(beyond.statusCode).toBe(404);
    expect(json(beyond).error).toBe('version_not_found');
    expect((await h.get(`/api/orders/${UNKNOWN_ID}/history`)).statusCode).toBe(404);
  });
});

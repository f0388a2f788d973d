import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness();
});
afterAll(async () => {
  await h.close();
});

const HASH = 'ab'.repeat(32);

/** Each case breaks one field (and, where it matters, a later one too) of a valid signed body. */
const refusals: Array<[string, (b: Record<string, unknown>) => Record<string, unknown> | string, string]> = [
  ['not JSON', () => '{"side": "sell",', 'invalid_json'],
  ['an array body', () => '[1,2]', 'invalid_json'],
  ['a JSON string body', () => '"sell"', 'invalid_json'],
  ['a bad side (and a bad pair)', (b) => ({ ...b, side: 'hold', pair: 'BTC/USD' }), 'side_invalid'],
  ['no side', ({ side: _s, ...b }) => b, 'side_invalid'],
  ['a bad pair (and no wallet)', ({ wallet: _w, ...b }) => ({ ...b, pair: 'RTC/BTC' }), 'pair_unsupported'],
  ['no wallet (and a bad amount)', ({ wallet: _w, ...b }) => ({ ...b, amount_rtc: 'ten' }), 'wallet_required'],
  ['an empty wallet', (b) => ({ ...b, wallet: '' }), 'wallet_required'],
  ['a non-decimal amount', (b) => ({ ...b, amount_rtc: '1e3' }), 'amount_invalid'],
  ['seven decimals', (b) => ({ ...b, amount_rtc: '1.0000001' }), 'amount_invalid'],
  ['a negative amount', (b) => ({ ...b, amount_rtc: -5 }), 'amount_invalid'],
  ['a boolean amount', (b) => ({ ...b, amount_rtc: true }), 'amount_invalid'],
  ['an amount below 0.1', (b) => ({ ...b, amount_rtc: '0.099999' }), 'amount_too_small'],
  ['an amount above the cap (and a bad price)', (b) => ({ ...b, amount_rtc: '10000.000001', price_per_rtc: 'x' }), 'amount_too_large'],
  ['a bad price', (b) => ({ ...b, price_per_rtc: '0.1234567891' }), 'price_invalid'],
  ['a zero price', (b) => ({ ...b, price_per_rtc: 0 }), 'price_invalid'],
  ['a price above 1000 (and a bad ttl)', (b) => ({ ...b, price_per_rtc: '1000.000000001', ttl_seconds: 5 }), 'price_too_high'],
  ['a ttl below 3600', (b) => ({ ...b, ttl_seconds: 3599 }), 'ttl_invalid'],
  ['a ttl above 2502000', (b) => ({ ...b, ttl_seconds: 2_502_001 }), 'ttl_invalid'],
  ['a fractional ttl', (b) => ({ ...b, ttl_seconds: 3600.5 }), 'ttl_invalid'],
  ['a ttl as text', (b) => ({ ...b, ttl_seconds: '3600' }), 'ttl_invalid'],
  ['an ERG address on USDC (and a bad htlc_hash)', (b) => ({ ...b, eth_address: '9fRAWhdxEsTcdb8PhGNrZfwqa65zfkuYHAMmkQLcic1gdLSV5vA', htlc_hash: 'zz' }), 'eth_address_invalid'],
  ['a short eth address', (b) => ({ ...b, eth_address: '0x1234' }), 'eth_address_invalid'],
  ['a 0x address on ERG', (b) => ({ ...b, pair: 'rtc/erg', eth_address: `0x${'a'.repeat(40)}` }), 'eth_address_invalid'],
  ['a numeric eth address', (b) => ({ ...b, eth_address: 42 }), 'eth_address_invalid'],
  ['a short htlc_hash', (b) => ({ ...b, htlc_hash: 'ab' }), 'htlc_hash_invalid'],
  ['an htlc_hash on a buy order', (b) => ({ ...b, side: 'buy', htlc_hash: HASH }), 'htlc_hash_invalid'],
];

describe('POST /api/orders validation', () => {
  it.each(refusals)('refuses %s with 400 and writes nothing', async (_name, mutate, code) => {
    const head = await h.store.headPosition();
    const lockCalls = h.node.requestCount('POST /agent/jobs');
    const res = await h.post('/api/orders', mutate(placeBody(h, h.seller)));
    expect(res.statusCode).toBe(400);
    expect(json(res)).toMatchObject({ ok: false, error: code });
    expect(typeof json(res).message).toBe('string');
    expect(await h.store.headPosition()).toBe(head);
    expect(h.node.requestCount('POST /agent/jobs')).toBe(lockCalls);
  });

  it('refuses a body sent as another content type with 415', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'side=sell' });
    expect(res.statusCode).toBe(415);
    expect(json(res).error).toBe('unsupported_media_type');
  });

  it('refuses a body above 64 KiB with 413 payload_too_large', async () => {
    const res = await h.post('/api/orders', { ...placeBody(h, h.seller), padding: 'x'.repeat(70_000) });
    expect(res.statusCode).toBe(413);
    expect(json(res).error).toBe('payload_too_large');
  });

  it('refuses an empty JSON body with invalid_json', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(400);
    expect(json(res).error).toBe('invalid_json');
  });

  it('refuses prototype-poisoning JSON as invalid_json', async () => {
    const res = await h.post('/api/orders', '{"side":"sell","__proto__":{"x":1}}');
    expect(res.statusCode).toBe(400);
    expect(json(res).error).toBe('invalid_json');
  });
});

describe('POST /api/orders wallet auth', () => {
  it('answers 401 wallet_must_be_native_rtc_address for a non-native wallet', async () => {
    const res = await h.post('/api/orders', { ...placeBody(h, h.seller), wallet: '0xabc' });
    expect(res.statusCode).toBe(401);
    expect(json(res).error).toBe('wallet_must_be_native_rtc_address');
  });

  it('answers 401 wallet_auth_required without a signature', async () => {
    const { wallet_auth: _a, ...body } = placeBody(h, h.seller);
    expect(json(await h.post('/api/orders', body))).toMatchObject({ error: 'wallet_auth_required' });
  });

  it('answers 401 wallet_auth_malformed for a malformed signature', async () => {
    const body = { ...placeBody(h, h.seller), wallet_auth: { public_key: 'x', signature: 'y', timestamp: 1 } };
    const res = await h.post('/api/orders', body);
    expect(res.statusCode).toBe(401);
    expect(json(res).error).toBe('wallet_auth_malformed');
  });

  it('answers 401 wallet_auth_timestamp_expired for an old signature', async () => {
    const body = placeBody(h, h.seller);
    const auth = h.seller.sign('create_order', 'create_order', {}, Math.floor(h.clock.nowMs / 1000) - 3600);
    expect(json(await h.post('/api/orders', { ...body, wallet_auth: auth })).error).toBe('wallet_auth_timestamp_expired');
  });

  it('answers 401 wallet_auth_public_key_does_not_match_wallet for another wallet\'s key', async () => {
    const body = { ...placeBody(h, h.buyer), wallet: h.seller.wallet };
    expect(json(await h.post('/api/orders', body)).error).toBe('wallet_auth_public_key_does_not_match_wallet');
  });

  it('answers 401 wallet_auth_invalid_signature when a signed field was changed', async () => {
    const body = { ...placeBody(h, h.seller, { amount_rtc: '10' }), amount_rtc: '11' };
    const res = await h.post('/api/orders', body);
    expect(res.statusCode).toBe(401);
    expect(json(res).error).toBe('wallet_auth_invalid_signature');
  });

  it('answers 401 wallet_auth_replayed for a signature used before', async () => {
    const body = placeBody(h, h.buyer, { side: 'buy' });
    expect((await h.post('/api/orders', body)).statusCode).toBe(201);
    const again = await h.post('/api/orders', body);
    expect(again.statusCode).toBe(401);
    expect(json(again).error).toBe('wallet_auth_replayed');
  });
});

describe('POST /api/orders outcomes', () => {
  it('places a buy order: 201 open with position and ETag, no htlc_secret', async () => {
    const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'BUY', pair: 'rtc/eth', amount_rtc: 2.5, price_per_rtc: 0.05 }));
    expect(res.statusCode).toBe(201);
    const body = json(res);
    expect(body.order).toMatchObject({ side: 'buy', pair: 'RTC/ETH', quote_currency: 'ETH', status: 'open', amount_rtc: '2.500000', amount_micro_rtc: '2500000', price_per_rtc: '0.050000000', total_quote: '0.125000000', htlc_secret: null });
    expect(body.htlc_secret).toBeUndefined();
    expect(body.position).toMatch(/^\d+$/);
    expect(res.headers.etag).toBe(`"${body.order.version}"`);
  });

  it('places a sell order: the escrow is locked and the generated preimage shown once', async () => {
    const res = await h.post('/api/orders', placeBody(h, h.seller, { eth_address: `0x${'Ab'.repeat(20)}` }));
    expect(res.statusCode).toBe(201);
    const body = json(res);
    expect(body.order).toMatchObject({ status: 'open', escrow: { status: 'locked' }, htlc_secret: null, maker_eth_address: `0x${'Ab'.repeat(20)}` });
    expect(body.htlc_secret).toMatch(/^[0-9a-f]{64}$/);
    const again = json(await h.get(`/api/orders/${body.order.order_id}`));
    expect(again.order.htlc_secret).toBeNull();
    expect(JSON.stringify(again)).not.toContain(body.htlc_secret);
  });

  it('places a sell order with the maker\'s own htlc_hash: no secret in the answer', async () => {
    const res = await h.post('/api/orders', placeBody(h, h.seller, { htlc_hash: HASH.toUpperCase(), pair: 'RTC/ERG', eth_address: '9fRAWhdxEsTcdb8PhGNrZfwqa65zfkuYHAMmkQLcic1gdLSV5vA' }));
    expect(res.statusCode).toBe(201);
    expect(json(res).htlc_secret).toBeUndefined();
    expect(json(res).order.htlc_hash).toBe(HASH);
  });

  it('answers 422 escrow_lock_failed with the rejected order when the node refuses the lock', async () => {
    h.fault('POST /agent/jobs', 'reject_400');
    const res = await h.post('/api/orders', placeBody(h, h.seller));
    expect(res.statusCode).toBe(422);
    expect(json(res)).toMatchObject({ ok: false, error: 'escrow_lock_failed', order: { status: 'rejected' } });
    expect(json(res).htlc_secret).toBeUndefined();
  });

  it('answers 202 escrow_pending when the lock\'s outcome is unknown', async () => {
    h.fault('POST /agent/jobs', 'error_500');
    const res = await h.post('/api/orders', placeBody(h, h.seller));
    expect(res.statusCode).toBe(202);
    expect(json(res)).toMatchObject({ ok: true, order: { status: 'escrow_pending' } });
    expect(json(res).htlc_secret).toMatch(/^[0-9a-f]{64}$/);
  });
});

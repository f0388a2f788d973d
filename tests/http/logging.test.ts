import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, confirmBody, json, matchBody, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness({ captureLogs: true });
});
afterAll(async () => {
  await h.close();
});

describe('logs', () => {
  it('never contain the preimage, a signature or the admin token during a full trade', async () => {
    const placeReq = placeBody(h, h.seller);
    const placed = await h.post('/api/orders', placeReq, { 'idempotency-key': 'log-test-1' });
    const { order, htlc_secret: secret } = json(placed);
    const matchReq = matchBody(h, h.buyer, order.order_id);
    await h.post(`/api/orders/${order.order_id}/match`, matchReq);
    const bad = await h.post(`/api/orders/${order.order_id}/confirm`, confirmBody(h, h.seller, order.order_id, 'ab'.repeat(32)));
    expect(json(bad).error).toBe('secret_mismatch');
    const confirmReq = confirmBody(h, h.seller, order.order_id, secret);
    const settled = await h.post(`/api/orders/${order.order_id}/confirm`, confirmReq);
    expect(json(settled).order.htlc_secret).toBe(secret);
    await h.post('/api/orders', placeReq, { 'idempotency-key': 'log-test-1' });
    await h.get(`/api/orders/${order.order_id}`);
    await h.get('/admin/projections', { authorization: `Bearer ${ADMIN_TOKEN}` });
    await h.get('/admin/projections', { authorization: `Bearer ${ADMIN_TOKEN}x` });
    await h.post('/api/orders', '{"secret":"' + secret + '"');

    const text = h.logs.join('');
    expect(h.logs.length).toBeGreaterThan(10);
    expect(text).toContain('request completed');
    const signatures = [placeReq, matchReq, confirmReq].map((b) => (b.wallet_auth as { signature: string }).signature);
    for (const needle of [secret, secret.toUpperCase(), ADMIN_TOKEN, ...signatures]) expect(text).not.toContain(needle);
  });
});

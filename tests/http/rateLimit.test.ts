import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness({ rateLimitPerMinute: 3 });
});
afterAll(async () => {
  await h.close();
});

describe('rate limit on public POSTs', () => {
  it('answers 429 rate_limited with Retry-After past the per-minute limit, ignoring X-Forwarded-For', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), { 'x-forwarded-for': `10.0.0.${i}` }));
    }
    expect(answers.slice(0, 3).map((r) => r.statusCode)).toEqual([201, 201, 201]);
    const limited = answers[3]!;
    expect(limited.statusCode).toBe(429);
    expect(json(limited)).toMatchObject({ ok: false, error: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const head = await h.store.headPosition();
    expect((await h.post('/api/orders/otc_0123456789abcdef/cancel', { wallet: 'x' })).statusCode).toBe(429);
    expect(await h.store.headPosition()).toBe(head);
  });

  it('never limits reads', async () => {
    for (let i = 0; i < 5; i++) expect((await h.get('/api/orders')).statusCode).toBe(200);
  });

  it('keys on the forwarded address when the socket peer is a listed proxy', async () => {
    // inject() connects from 127.0.0.1: here that is the proxy.
    const proxied = await startHttpHarness({ rateLimitPerMinute: 1, trustedProxies: ['127.0.0.0/8'] });
    try {
      const a = await proxied.post('/api/orders', placeBody(proxied, proxied.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.1' });
      const b = await proxied.post('/api/orders', placeBody(proxied, proxied.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.2' });
      const c = await proxied.post('/api/orders', placeBody(proxied, proxied.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.2' });
      expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([201, 201, 429]);
      // Only the hop the proxy appended counts: a client cannot pick its key by prepending addresses.
      const forged = await proxied.post('/api/orders', placeBody(proxied, proxied.buyer, { side: 'buy' }), { 'x-forwarded-for': '203.0.113.9, 10.0.0.2' });
      expect(forged.statusCode).toBe(429);
    } finally {
      await proxied.close();
    }
  });

  it('ignores X-Forwarded-For from a peer that is not a listed proxy', async () => {
    const direct = await startHttpHarness({ rateLimitPerMinute: 1, trustedProxies: ['10.9.9.0/24'] });
    try {
      const a = await direct.post('/api/orders', placeBody(direct, direct.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.1' });
      // A new forwarded address would be a fresh key if the header were believed.
      const b = await direct.post('/api/orders', placeBody(direct, direct.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.2' });
      expect([a.statusCode, b.statusCode]).toEqual([201, 429]);
    } finally {
      await direct.close();
    }
  });

  it('with no proxies listed, the socket peer is the client whatever the header says', async () => {
    const direct = await startHttpHarness({ rateLimitPerMinute: 1 });
    try {
      expect((await direct.post('/api/orders', placeBody(direct, direct.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.1' })).statusCode).toBe(201);
      expect((await direct.post('/api/orders', placeBody(direct, direct.buyer, { side: 'buy' }), { 'x-forwarded-for': '10.0.0.2' })).statusCode).toBe(429);
    } finally {
      await direct.close();
    }
  });
});

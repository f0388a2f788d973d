import { acquireRebuild } from '../../src/projections/rebuildLease.js';
import { statsProjection } from '../../src/projections/stats.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, confirmBody, json, matchedSell, startHttpHarness, until, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  // The refusal tests below fail twenty times from one address; the limit has its own tests.
  h = await startHttpHarness({ config: { adminAuthFailuresPerMinute: 1_000 } });
});
afterAll(async () => {
  await h.close();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const redrive = { operator: 'alice', reason: 'node fixed' };

describe('failed admin authentications, limited per client address', () => {
  const from = (address: string, token: string) => ({ authorization: `Bearer ${token}`, 'x-forwarded-for': address });

  it('refuses an address with 429 after its failures, even with the right token, until the minute is over', async () => {
    const limited = await startHttpHarness({ config: { adminAuthFailuresPerMinute: 3 }, trustedProxies: ['127.0.0.0/8'] });
    try {
      for (let i = 0; i < 3; i++) expect((await limited.get('/admin/projections', from('198.51.100.7', 'wrong'))).statusCode).toBe(401);
      const blocked = await limited.get('/admin/projections', from('198.51.100.7', ADMIN_TOKEN));
      expect(blocked.statusCode).toBe(429);
      expect(json(blocked).error).toBe('rate_limited');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // Another client is not affected by the first one's failures.
      expect((await limited.get('/admin/projections', from('198.51.100.8', ADMIN_TOKEN))).statusCode).toBe(200);
      limited.clock.nowMs += 60_000;
      expect((await limited.get('/admin/projections', from('198.51.100.7', ADMIN_TOKEN))).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('counts only failures: any number of authenticated calls stays allowed', async () => {
    const limited = await startHttpHarness({ config: { adminAuthFailuresPerMinute: 2 } });
    try {
      for (let i = 0; i < 10; i++) expect((await limited.get('/admin/projections', auth)).statusCode).toBe(200);
      expect((await limited.get('/admin/projections', { authorization: 'Bearer wrong' })).statusCode).toBe(401);
      expect((await limited.get('/admin/projections', auth)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('admin authentication', () => {
  const calls: Array<[string, string]> = [
    ['POST', '/admin/reconcile'],
    ['GET', '/admin/recovery'],
    ['POST', '/admin/orders/otc_0123456789abcdef/redrive'],
    ['GET', '/admin/projections'],
    ['POST', '/admin/projections/orders/rebuild'],
  ];

  it.each(calls)('refuses %s %s without, or with a wrong, bearer token', async (method, url) => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: ADMIN_TOKEN }, { authorization: `Basic ${ADMIN_TOKEN}` }]) {
      const res = await h.app.inject({ method: method as 'GET' | 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: method === 'POST' ? JSON.stringify(redrive) : undefined });
      expect(res.statusCode).toBe(401);
      expect(json(res)).toMatchObject({ ok: false, error: 'unauthorized' });
    }
  });

  it('refuses every admin call when no token is configured', async () => {
    const closed = await startHttpHarness({ adminToken: null });
    try {
      for (const headers of [{}, auth, { authorization: 'Bearer ' }]) {
        const res = await closed.get('/admin/projections', headers);
        expect(res.statusCode).toBe(401);
        expect(json(res).error).toBe('unauthorized');
      }
    } finally {
      await closed.close();
    }
  });
});

describe('admin endpoints', () => {
  it('POST /admin/reconcile runs one pass and returns its summary', async () => {
    const res = await h.post('/admin/reconcile', {}, auth);
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ ok: true, summary: { examined: expect.any(Number), completed: 0, left: expect.any(Number) } });
  });

  it('lists an order in recovery, refuses to redrive others, and redrives it', async () => {
    const { orderId, secret } = await matchedSell(h);
    const notInRecovery = await h.post(`/admin/orders/${orderId}/redrive`, redrive, auth);
    expect(notInRecovery.statusCode).toBe(409);
    expect(json(notInRecovery).error).toBe('order_not_in_recovery');

    h.fault('POST /wallet/transfer', 'reject_400');
    const confirmed = await h.post(`/api/orders/${orderId}/confirm`, confirmBody(h, h.seller, orderId, secret));
    expect(json(confirmed).error).toBe('settlement_recovery');

    const recovery = json(await h.get(`/admin/recovery`, auth));
    // The read model follows the log a few ms behind: wait for the order's final state in it.
    await until(
      async () => (json(await h.get('/admin/recovery', auth)).orders as Array<{ order_id: string; status: string }>)
        .some((o) => o.order_id === orderId && o.status === 'settlement_recovery'),
      'the recovery list',
    );
    expect(recovery.ok).toBe(true);
    const entry = (json(await h.get('/admin/recovery', auth)).orders as Array<Record<string, unknown>>).find((o) => o.order_id === orderId);
    expect(entry).toMatchObject({ status: 'settlement_recovery', last_error: expect.any(String) });

    const res = await h.post(`/admin/orders/${orderId}/redrive`, redrive, auth);
    expect(res.statusCode).toBe(200);
    expect(json(res).order).toMatchObject({ status: 'completed', htlc_secret: secret });
    const history = json(await h.get(`/api/orders/${orderId}/history`));
    expect(history.events.map((e: { type: string }) => e.type)).toContain('OperatorRedriveRequested');
  });

  it('validates the redrive body and the order id', async () => {
    expect(json(await h.post('/admin/orders/otc_0123456789abcdef/redrive', { reason: 'x' }, auth)).error).toBe('operator_required');
    expect(json(await h.post('/admin/orders/otc_0123456789abcdef/redrive', { operator: 'a' }, auth)).error).toBe('reason_required');
    expect((await h.post('/admin/orders/otc_0123456789abcdef/redrive', redrive, auth)).statusCode).toBe(404);
  });

  it('GET /admin/recovery waits for min_position like every read, then 503 read_model_lagging', async () => {
    const res = await h.get('/admin/recovery?min_position=999999999', auth);
    expect(res.statusCode).toBe(503);
    expect(json(res).error).toBe('read_model_lagging');
  });

  it('POST /admin/reconcile takes min_position: a reached position runs the pass, one not reached is 503 before any pass, a bad one 400', async () => {
    const reached = await h.post('/admin/reconcile?min_position=0', {}, auth);
    expect(reached.statusCode).toBe(200);
    expect(json(reached)).toMatchObject({ ok: true, summary: { examined: expect.any(Number) } });
    const lagging = await h.post('/admin/reconcile?min_position=999999999', {}, auth);
    expect(lagging.statusCode).toBe(503);
    expect(json(lagging)).toMatchObject({ error: 'read_model_lagging' });
    expect(json(lagging).summary).toBeUndefined();
    const invalid = await h.post('/admin/reconcile?min_position=-1', {}, auth);
    expect(invalid.statusCode).toBe(400);
    expect(json(invalid).error).toBe('min_position_invalid');
  });

  it('GET /admin/projections shows every read model with position and lag', async () => {
    const res = await h.get('/admin/projections', auth);
    expect(res.statusCode).toBe(200);
    const names = (json(res).projections as Array<{ name: string; position: string; lag: number }>).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['orders', 'orderbook', 'trades', 'stats']));
    expect(json(res).projections[0]).toMatchObject({ position: expect.stringMatching(/^\d+$/), lag: expect.any(Number), state: expect.any(String) });
  });

  it('GET /admin/projections shows a rebuild under way with its id and progress, and 409s a second one', async () => {
    const own = await startHttpHarness();
    try {
      // Another process (the CLI) holds the stats rebuild: its lease row is what every process sees.
      acquireRebuild(own.runner.db, statsProjection, { owner: 'cli-rebuild-1', leaseMs: 60_000, nowMs: Date.now() });
      const listed = json(await own.get('/admin/projections', auth)).projections as Array<Record<string, unknown>>;
      expect(listed.find((p) => p.name === 'stats')?.rebuild).toMatchObject({ rebuild_id: 'cli-rebuild-1', position: '0', lag: expect.any(Number) });
      expect(listed.find((p) => p.name === 'orders')?.rebuild).toBeNull();
      const second = await own.post('/admin/projections/stats/rebuild', {}, auth);
      expect(second.statusCode).toBe(409);
      expect(json(second).error).toBe('rebuild_in_progress');
    } finally {
      await own.close();
    }
  });

  it('POST /admin/projections/:name/rebuild starts a rebuild (202) and 404s an unknown name', async () => {
    const res = await h.post('/admin/projections/trades/rebuild', {}, auth);
    expect(res.statusCode).toBe(202);
    expect(json(res)).toMatchObject({ ok: true, rebuild_id: expect.any(String) });
    const unknown = await h.post('/admin/projections/nope/rebuild', {}, auth);
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).error).toBe('projection_not_found');
    await until(async () => (await h.runner.status()).every((p) => p.rebuild === null), 'the rebuild to finish');
    expect(json(await h.get('/api/trades')).ok).toBe(true);
  });
});

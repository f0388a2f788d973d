import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmBody, json, matchedSell, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness({ corsOrigins: ['https://app.example'] });
});
afterAll(async () => {
  await h.close();
});

describe('service endpoints', () => {
  it('GET /health answers while the process is up', async () => {
    expect(json(await h.get('/health'))).toEqual({ ok: true, status: 'up' });
  });

  it('GET /ready answers 200 with the head and every projection', async () => {
    const res = await h.get('/ready');
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ ok: true, head_position: expect.stringMatching(/^\d+$/) });
  });

  it('GET /ready answers 503 not_ready once the read models stop', async () => {
    const other = await startHttpHarness();
    try {
      await other.runner.stop();
      const res = await other.get('/ready');
      expect(res.statusCode).toBe(503);
      expect(json(res).error).toBe('not_ready');
    } finally {
      await other.close();
    }
  });

  it('GET /metrics exposes command latency, node calls, projection lag and backlog', async () => {
    const { orderId, secret } = await matchedSell(h);
    await h.post(`/api/orders/${orderId}/confirm`, confirmBody(h, h.seller, orderId, secret));
    await h.post('/api/orders', { ...placeBody(h, h.seller), wallet: 'nope' });
    const res = await h.get('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/otc_ledger_command_duration_seconds_count\{command="place_order",outcome="ok"\} [1-9]/);
    expect(res.body).toMatch(/otc_ledger_command_duration_seconds_count\{command="place_order",outcome="wallet_must_be_native_rtc_address"\} 1/);
    expect(res.body).toMatch(/otc_ledger_command_duration_seconds_count\{command="confirm_settlement",outcome="ok"\} 1/);
    expect(res.body).toMatch(/otc_ledger_node_calls_total\{step="payout",outcome="ok"\} 1|otc_ledger_node_calls_total\{step="[a-z_]+",outcome="ok"\} [1-9]/);
    expect(res.body).toMatch(/otc_ledger_projection_lag_events\{projection="orders"\} \d+/);
    expect(res.body).toContain('otc_ledger_reconciler_backlog_orders');
    expect(res.body).toContain('otc_ledger_reconciler_oldest_in_flight_age_seconds');
    expect(res.body).toContain('otc_ledger_version_conflicts_total');
  });

  it('GET /metrics adds process and event-loop metrics, and orders per status from the read model (recovery above all)', async () => {
    const other = await startHttpHarness();
    try {
      const metric = async (pattern: RegExp): Promise<number> => {
        const body = (await other.get('/metrics')).body;
        const value = pattern.exec(body)?.[1];
        if (value === undefined) throw new Error(`no ${pattern} in /metrics:\n${body.slice(0, 2000)}`);
        return Number(value);
      };
      const before = (await other.get('/metrics')).body;
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
        expect(before).toContain(`# TYPE ${name} `);
      }
      // Every status has a series from the start, so an alert on recovery never sees a gap.
      expect(before).toMatch(/otc_ledger_orders\{status="settlement_recovery"\} 0/);
      expect(before).toMatch(/otc_ledger_orders_in_recovery 0/);
      expect(await metric(/otc_ledger_orders\{status="open"\} (\d+)/)).toBe(0);

      const { orderId, secret } = await matchedSell(other);
      other.fault('POST /wallet/transfer', 'reject_400');
      const confirmed = await other.post(`/api/orders/${orderId}/confirm`, confirmBody(other, other.seller, orderId, secret));
      expect(json(confirmed).error).toBe('settlement_recovery');
      const placed = await other.post('/api/orders', placeBody(other, other.buyer, { side: 'buy' }));
      await other.runner.waitFor(BigInt(json(placed).position as string), 5_000);
      expect(await metric(/otc_ledger_orders_in_recovery (\d+)/)).toBe(1);
      expect(await metric(/otc_ledger_orders\{status="settlement_recovery"\} (\d+)/)).toBe(1);
      expect(await metric(/otc_ledger_orders\{status="open"\} (\d+)/)).toBe(1);
      expect(await metric(/otc_ledger_orders\{status="completed"\} (\d+)/)).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('GET /openapi.json describes every route of api.md', async () => {
    const doc = json(await h.get('/openapi.json'));
    const paths = Object.keys(doc.paths as object);
    for (const path of ['/api/orders', '/api/orders/{id}', '/api/orders/{id}/history', '/api/orders/{id}/match', '/api/orders/{id}/confirm', '/api/orders/{id}/cancel',
      '/api/orderbook', '/api/trades', '/api/stats', '/admin/reconcile', '/admin/recovery', '/admin/orders/{id}/redrive', '/admin/projections',
      '/admin/projections/{name}/rebuild', '/health', '/ready', '/metrics']) {
      expect(paths).toContain(path);
    }
    expect(Object.keys(doc.paths['/api/orders/{id}/confirm'].post.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '401', '403', '404', '409', '502']));
    expect(doc.info.description).toContain('Idempotency-Key');
    expect(doc.components.schemas.Order).toBeDefined();
  });

  it('GET /docs serves the interactive docs', async () => {
    const res = await h.get('/docs');
    expect([200, 302]).toContain(res.statusCode);
  });

  it('answers unknown routes with 404 not_found', async () => {
    for (const [method, url] of [['GET', '/nope'], ['POST', '/api/nope'], ['DELETE', '/api/orders']] as const) {
      const res = await h.app.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(json(res)).toMatchObject({ ok: false, error: 'not_found' });
    }
  });

  it('echoes a sane X-Request-Id and uses it as the events\' correlation_id', async () => {
    const requestId = 'client-req-12345678';
    const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), { 'x-request-id': requestId });
    expect(res.headers['x-request-id']).toBe(requestId);
    const events = await h.store.readStream(`order-${json(res).order.order_id}`);
    expect(events[0]?.metadata.correlation_id).toBe(requestId);
    const odd = await h.get('/health', { 'x-request-id': 'bad id with spaces' });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await h.app.inject({ method: 'OPTIONS', url: '/api/orders', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const denied = await h.get('/health', { origin: 'https://evil.example' });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a bare OPTIONS (no Origin, not a preflight) with 204 and no CORS grant, never a plain-text error', async () => {
    const res = await h.app.inject({ method: 'OPTIONS', url: '/api/orders' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

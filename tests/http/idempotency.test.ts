import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotencyStore } from '../../src/http/idempotency.js';
import { json, placeBody, startHttpHarness, until, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness();
});
afterAll(async () => {
  await h.close();
});

const key = (name: string) => ({ 'idempotency-key': `${name}-${Math.random().toString(36).slice(2)}` });

describe('Idempotency-Key', () => {
  it('replays the stored answer, with the generated preimage, and places nothing twice', async () => {
    const headers = key('place');
    const body = placeBody(h, h.seller);
    const first = await h.post('/api/orders', body, headers);
    expect(first.statusCode).toBe(201);
    const head = await h.store.headPosition();
    const again = await h.post('/api/orders', body, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.body).toBe(first.body);
    expect(json(again).htlc_secret).toBe(json(first).htlc_secret);
    expect(await h.store.headPosition()).toBe(head);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
  });

  it('replays a refusal too (the route ran), but never a validation failure', async () => {
    const headers = key('refusal');
    const forged = { ...placeBody(h, h.seller), amount_rtc: '12' };
    expect((await h.post('/api/orders', forged, headers)).statusCode).toBe(401);
    const again = await h.post('/api/orders', forged, headers);
    expect(again.statusCode).toBe(401);
    expect(again.headers['idempotent-replayed']).toBe('true');

    const invalidKey = key('invalid');
    expect((await h.post('/api/orders', { side: 'x' }, invalidKey)).statusCode).toBe(400);
    const valid = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), invalidKey);
    expect(valid.statusCode).toBe(201);
  });

  it('refuses the same key with a different body: 422 idempotency_key_reused', async () => {
    const headers = key('reuse');
    expect((await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), headers)).statusCode).toBe(201);
    const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy', amount_rtc: '2' }), headers);
    expect(res.statusCode).toBe(422);
    expect(json(res)).toMatchObject({ ok: false, error: 'idempotency_key_reused' });
  });

  it('scopes a key to its path: the same key on another path runs', async () => {
    const headers = key('scope');
    expect((await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), headers)).statusCode).toBe(201);
    const other = await h.post('/api/orders/otc_0123456789abcdef/cancel', { wallet: h.buyer.wallet }, headers);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a repeat while the first is still running: 409 idempotency_key_in_flight', async () => {
    const headers = key('inflight');
    const body = placeBody(h, h.seller);
    const locks = h.node.requestCount('POST /agent/jobs');
    h.fault('POST /agent/jobs', 'hang');
    const first = h.post('/api/orders', body, headers);
    await until(() => h.node.requestCount('POST /agent/jobs') > locks, 'the first request to reach the node');
    const second = await h.post('/api/orders', body, headers);
    expect(second.statusCode).toBe(409);
    expect(json(second).error).toBe('idempotency_key_in_flight');
    const done = await first;
    expect(done.statusCode).toBe(202);
    const third = await h.post('/api/orders', body, headers);
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.body).toBe(done.body);
  });

  it('refuses a malformed key with 400 idempotency_key_invalid', async () => {
    const res = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), { 'idempotency-key': 'x'.repeat(300) });
    expect(res.statusCode).toBe(400);
    expect(json(res).error).toBe('idempotency_key_invalid');
  });
});

describe('the idempotency table', () => {
  it('keeps answers across a restart, encrypted at rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-idem-'));
    const path = join(dir, 'idempotency.db');
    try {
      const scope = { key: 'k1', method: 'POST', path: '/api/orders' };
      const box = { encrypt: (s: string) => `sealed:${s}`, decrypt: (s: string) => s.slice(7) };
      const before = createIdempotencyStore({ path, box });
      expect(before.begin(scope, 'f1', 1_000).kind).toBe('started');
      before.complete(scope, { status: 201, body: '{"htlc_secret":"ab"}', headers: { etag: '"2"' } });
      before.close();
      const after = createIdempotencyStore({ path, box });
      expect(after.begin(scope, 'f1', 1_000 + 23 * 3_600_000)).toEqual({ kind: 'replay', answer: { status: 201, body: '{"htlc_secret":"ab"}', headers: { etag: '"2"' } } });
      expect(after.begin(scope, 'f2', 2_000).kind).toBe('reused');
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets a claim abandoned by a crashed process be taken over, and forgets expired answers', () => {
    const store = createIdempotencyStore({ path: ':memory:', staleInFlightMs: 1000, retentionMs: 86_400_000 });
    const scope = { key: 'k', method: 'POST', path: '/p' };
    expect(store.begin(scope, 'f', 0).kind).toBe('started');
    expect(store.begin(scope, 'f', 500).kind).toBe('in_flight');
    expect(store.begin(scope, 'f', 1_500).kind).toBe('started');
    store.complete(scope, { status: 200, body: '{}', headers: {} });
    expect(store.begin(scope, 'other', 86_400_000).kind).toBe('reused');
    expect(store.begin(scope, 'other', 1_500 + 86_400_001).kind).toBe('started');
    store.close();
  });
});

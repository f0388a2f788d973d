import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSecretBox } from '../../src/crypto/preimage.js';
import { createIdempotencyStore } from '../../src/http/idempotency.js';
import { apiDescription } from '../../src/http/openapiDescription.js';
import { leaseTtlMsFor } from '../../src/settlement/driver.js';
import { cancelBody, json, placeBody, startHttpHarness, until, type HttpHarness } from '../support/httpHarness.js';

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
    const placed = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), key('refusal-order'));
    const orderId = (json(placed).order as { order_id: string }).order_id;
    const notMaker = cancelBody(h, h.stranger, orderId);
    expect((await h.post(`/api/orders/${orderId}/cancel`, notMaker, headers)).statusCode).toBe(403);
    const again = await h.post(`/api/orders/${orderId}/cancel`, notMaker, headers);
    expect(again.statusCode).toBe(403);
    expect(again.headers['idempotent-replayed']).toBe('true');

    const invalidKey = key('invalid');
    expect((await h.post('/api/orders', { side: 'x' }, invalidKey)).statusCode).toBe(400);
    const valid = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }), invalidKey);
    expect(valid.statusCode).toBe(201);
  });

  it('scopes a key to the signing wallet: another wallet with the same key runs its own request', async () => {
    const headers = key('wallets');
    const myBody = placeBody(h, h.buyer, { side: 'buy' });
    const mine = await h.post('/api/orders', myBody, headers);
    expect(mine.statusCode).toBe(201);
    const theirs = await h.post('/api/orders', placeBody(h, h.stranger, { side: 'buy' }), headers);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect((json(theirs).order as { order_id: string }).order_id).not.toBe((json(mine).order as { order_id: string }).order_id);
    // The first wallet's key still replays its own answer.
    const repeat = await h.post('/api/orders', myBody, headers);
    expect(repeat.headers['idempotent-replayed']).toBe('true');
  });

  it('keeps no wallet-auth refusal, so a forged request cannot burn the wallet\'s key', async () => {
    const headers = key('burn');
    const real = placeBody(h, h.buyer, { side: 'buy' });
    const forged = { ...real, amount_rtc: '12' };
    const refused = await h.post('/api/orders', forged, headers);
    expect(refused.statusCode).toBe(401);
    expect(json(refused).error).toBe('wallet_auth_invalid_signature');
    const placed = await h.post('/api/orders', real, headers);
    expect(placed.statusCode).toBe(201);
    expect(placed.headers['idempotent-replayed']).toBeUndefined();
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
      const scope = { key: 'k1', wallet: '', method: 'POST', path: '/api/orders' };
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

  it('stores answers compactly (deflated, then sealed; "z1:"), replays them byte for byte, and reads rows stored before as they were', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-idem-'));
    try {
      // Shaped like a place answer (~0.8 KB), with text outside ASCII.
      const order = { order_id: 'otc_0123456789abcdef', side: 'sell', pair: 'RTC/USDC', status: 'open', maker_wallet: `RTC${'3f'.repeat(20)}`, amount_rtc: '10.000000', price: '0.100000000', htlc_hash: 'c4'.repeat(32), escrow_job_id: 'job_89abcdef01234567', created_at: '2026-12-02T02:30:00.000Z', updated_at: '2026-12-02T02:30:00.000Z', expires_at: '2026-12-03T02:30:00.000Z', quote_address: `0x${'5a'.repeat(20)}`, settlement: { state: 'none', payout_tx: null }, note: 'é – ✓' };
      const body = JSON.stringify({ ok: true, order, htlc_secret: 'ab'.repeat(32), position: '42' });
      const scope = { key: 'k-compact', wallet: 'rtcabc', method: 'POST', path: '/api/orders' };
      const box = createSecretBox('11'.repeat(32));
      for (const [name, sealing] of [['sealed', box], ['unsealed', undefined]] as const) {
        const path = join(dir, `${name}.db`);
        const store = createIdempotencyStore({ path, ...(sealing ? { box: sealing } : {}) });
        expect(store.begin(scope, 'f', 1_000).kind).toBe('started');
        store.complete(scope, { status: 201, body, headers: {} });
        const raw = new Database(path, { readonly: true });
        const stored = (raw.prepare('SELECT body FROM idempotency_keys_by_wallet WHERE key = ?').get(scope.key) as { body: string }).body;
        // A row in the earlier format, written as the code before this one wrote it.
        const earlier = sealing ? sealing.encrypt(Buffer.from(body, 'utf8').toString('hex'), { purpose: 'idempotency_answer', key: 'k-old', wallet: scope.wallet, method: scope.method, path: scope.path }) : body;
        expect(stored.startsWith('z1:')).toBe(true);
        expect(stored).not.toContain('htlc_secret');
        // Well under the earlier format's size (sealed: about 4/3 of the body; unsealed: the body).
        expect(stored.length).toBeLessThan(earlier.length * 0.8);
        raw.close();
        const writer = new Database(path);
        writer.prepare(`INSERT INTO idempotency_keys_by_wallet (key, wallet, method, path, fingerprint, state, status, body, headers, created_at_ms)
          VALUES ('k-old', ?, ?, ?, 'f', 'done', 201, ?, '{}', 1000)`).run(scope.wallet, scope.method, scope.path, earlier);
        writer.close();
        expect(store.begin(scope, 'f', 2_000)).toEqual({ kind: 'replay', answer: { status: 201, body, headers: {} } });
        expect(store.begin({ ...scope, key: 'k-old' }, 'f', 2_000)).toEqual({ kind: 'replay', answer: { status: 201, body, headers: {} } });
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('carries the rows of the wallet-less table over under the unsigned scope', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otc-idem-'));
    const path = join(dir, 'idempotency.db');
    try {
      const legacy = new Database(path);
      legacy.exec(`CREATE TABLE idempotency_keys (
        key TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, fingerprint TEXT NOT NULL,
        state TEXT NOT NULL, status INTEGER, body TEXT, headers TEXT, created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (key, method, path))`);
      legacy.prepare(`INSERT INTO idempotency_keys VALUES ('old', 'POST', '/admin/reconcile', 'f', 'done', 200, '{}', '{}', 1000)`).run();
      legacy.close();
      const store = createIdempotencyStore({ path });
      const scope = { key: 'old', wallet: '', method: 'POST', path: '/admin/reconcile' };
      expect(store.begin(scope, 'f', 2_000)).toEqual({ kind: 'replay', answer: { status: 200, body: '{}', headers: {} } });
      expect(store.begin({ ...scope, wallet: 'rtcabc' }, 'f', 2_000).kind).toBe('started');
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets a claim abandoned by a crashed process be taken over, and forgets expired answers', () => {
    const store = createIdempotencyStore({ path: ':memory:', staleInFlightMs: 1000, retentionMs: 86_400_000 });
    const scope = { key: 'k', wallet: '', method: 'POST', path: '/p' };
    expect(store.begin(scope, 'f', 0).kind).toBe('started');
    expect(store.begin(scope, 'f', 500).kind).toBe('in_flight');
    expect(store.begin(scope, 'f', 1_500).kind).toBe('started');
    store.complete(scope, { status: 200, body: '{}', headers: {} });
    expect(store.begin(scope, 'other', 86_400_000).kind).toBe('reused');
    expect(store.begin(scope, 'other', 1_500 + 86_400_001).kind).toBe('started');
    store.close();
  });
});

describe('what the OpenAPI description says of it', () => {
  it('states the take-over window main.ts configures (twice the lease at the default node timeout)', () => {
    const takeOverS = (leaseTtlMsFor(loadConfig({}).nodeTimeoutMs) * 2) / 1000;
    expect(apiDescription()).toContain(`(${takeOverS} s with the default`);
    expect(apiDescription()).not.toContain('120 s');
  });

  it('states the text/plain answer the code gives: 400 invalid_json, even for JSON text', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(placeBody(h, h.buyer, { side: 'buy' })) });
    expect(res.statusCode).toBe(400);
    expect(json(res).error).toBe('invalid_json');
    expect(apiDescription()).toMatch(/`text\/plain` body is read as\s+a string, never parsed as JSON, so it is 400 `invalid_json`/);
  });
});

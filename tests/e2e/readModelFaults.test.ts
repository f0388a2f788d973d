import { existsSync, openSync, readdirSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/audit/verify.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { RunningLedger } from '../../src/main.js';
import { openReadDb } from '../../src/projections/registry.js';
import { generateWallet, get, placeBuyBody, post, until, useLedgerStarter } from './support.js';

/**
 * Issue 13 part 3: the read model database deleted or damaged under a running service. /ready
 * says so, list reads answer 503 read_model_unavailable (an order is still readable from its own
 * stream), commands go on, and a rebuild restores every read model from the untouched event store.
 */

const ADMIN_TOKEN = 'read-model-faults-admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const start = useLedgerStarter('read-model-faults', ADMIN_TOKEN);


async function placeTwo(base: string): Promise<string[]> {
  const buyer = generateWallet();
  const ids: string[] = [];
  for (const amount of ['10', '11']) {
    const placed = await post(base, '/api/orders', placeBuyBody(buyer, amount));
    expect(placed.status).toBe(201);
    ids.push(placed.body.order.order_id as string);
  }
  return ids;
}

async function expectOutOfService(base: string, damage: string, orderId: string): Promise<void> {
  const ready = await get(base, '/ready');
  expect(ready.status).toBe(503);
  expect(ready.body).toMatchObject({ ok: false, error: 'not_ready', read_model: damage });
  for (const path of ['/api/orders?status=all', '/api/trades', '/api/orderbook?pair=RTC/USDC', '/api/stats?pair=RTC/USDC']) {
    const answer = await get(base, path);
    expect({ path, status: answer.status, error: answer.body.error }).toEqual({ path, status: 503, error: 'read_model_unavailable' });
  }
  // The order's own stream is the truth for one order: still readable. Metrics still scrape.
  expect((await get(base, `/api/orders/${orderId}`)).status).toBe(200);
  expect((await get(base, '/metrics')).status).toBe(200);
}

async function rebuildAndExpectRestored(base: string, orderIds: readonly string[]): Promise<void> {
  const rebuilt = await post(base, '/admin/projections/orders/rebuild', {}, admin);
  expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(202);
  expect(rebuilt.body.rebuild_id).toMatch(/^restore-/);
  await until(async () => (await get(base, '/ready')).status === 200, 'the read models to be restored');
  const listed = await get(base, '/api/orders?status=all&limit=200');
  expect(listed.status).toBe(200);
  expect((listed.body.orders as Array<{ order_id: string }>).map((o) => o.order_id).sort()).toEqual([...orderIds].sort());
}

async function verifyAfterClose(ledger: RunningLedger, path: string, streams: number): Promise<void> {
  await ledger.close();
  const store = new SqliteEventStore({ path: join(path, 'events.db') });
  const readDb = openReadDb(join(path, 'read.db'), { readonly: true });
  try {
    const report = await verifyLedger({ store, readDb });
    expect(report.findings).toEqual([]);
    expect(report.streams).toBe(streams);
  } finally {
    readDb.close();
    await store.close();
  }
}

describe('the read model database lost under a running service (issue 13)', () => {
  it('deleted: /ready 503, reads 503 read_model_unavailable, commands go on, a rebuild restores it', async () => {
    const { ledger, path } = await start();
    const base = ledger.url;
    const ids = await placeTwo(base);
    expect((await get(base, '/ready')).status).toBe(200);
    const head = await ledger.store.headPosition();

    rmSync(join(path, 'read.db'));
    await expectOutOfService(base, 'missing', ids[0]!);
    expect(await ledger.store.headPosition()).toBe(head);
    // Commands only need the event store.
    ids.push(...(await placeTwo(base)));

    await rebuildAndExpectRestored(base, ids);
    await verifyAfterClose(ledger, path, ids.length);
  });

  it('corrupted: /ready 503, reads 503, the damaged file is kept aside and a rebuild restores the read models', async () => {
    const { ledger, path } = await start();
    const base = ledger.url;
    const ids = await placeTwo(base);
    const head = await ledger.store.headPosition();

    // Garbage over the header, as a failing disk or a stray write would leave it.
    const fd = openSync(join(path, 'read.db'), 'r+');
    writeSync(fd, Buffer.alloc(100, 0xa5), 0, 100, 0);
    closeSync(fd);
    await expectOutOfService(base, 'corrupt', ids[0]!);

    await rebuildAndExpectRestored(base, ids);
    expect(readdirSync(path).some((f) => /^read\.db\.damaged-\d+$/.test(f))).toBe(true);
    expect(existsSync(join(path, 'read.db'))).toBe(true);
    expect(await ledger.store.headPosition()).toBe(head);
    await verifyAfterClose(ledger, path, ids.length);
  });

  it('a healthy read DB: /ready 200 and a rebuild is the ordinary blue/green one (no restore)', async () => {
    const { ledger } = await start();
    await placeTwo(ledger.url);
    expect((await get(ledger.url, '/ready')).status).toBe(200);
    const rebuilt = await post(ledger.url, '/admin/projections/orders/rebuild', {}, admin);
    expect(rebuilt.status).toBe(202);
    expect(rebuilt.body.rebuild_id).not.toMatch(/^restore-/);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/audit/verify.js';
import { ORDER_STREAM_PREFIX } from '../../src/aggregates/order/index.js';
import { SqliteEventStore, type SqliteWriterMode } from '../../src/eventstore/sqlite.js';
import type { EventStore } from '../../src/eventstore/types.js';
import type { RunningLedger } from '../../src/main.js';
import { openReadDb } from '../../src/projections/registry.js';
import { baseEnv, generateWallet, get, placeBuyBody, post, startFromEnv, tempDir } from './support.js';

/**
 * Issue 13 part 3: the machine under the event store fails. A full disk or a read-only file system
 * during appends answers the command 503 with a stable code, writes nothing, leaves reads
 * answering, and the service takes commands again once the fault is gone.
 */

const dirs: Array<{ remove(): void }> = [];
const running: RunningLedger[] = [];
afterAll(async () => {
  for (const r of running) await r.close().catch(() => undefined);
  for (const d of dirs) d.remove();
});

async function start(writer: SqliteWriterMode): Promise<{ ledger: RunningLedger; store: SqliteEventStore; path: string }> {
  const dir = tempDir('machine-faults');
  dirs.push(dir);
  const ledger = await startFromEnv(baseEnv(dir.path, { LEDGER_SQLITE_WRITER: writer }));
  running.push(ledger);
  const store = ledger.store as SqliteEventStore;
  expect(store.writer).toBe(writer);
  return { ledger, store, path: dir.path };
}

async function orderStreams(store: EventStore): Promise<number> {
  return (await store.listStreams(ORDER_STREAM_PREFIX, 0n, 10_000)).length;
}

async function verifyAfterClose(ledger: RunningLedger, path: string): Promise<void> {
  await ledger.close();
  const store = new SqliteEventStore({ path: `${path}/events.db` });
  const readDb = openReadDb(`${path}/read.db`, { readonly: true });
  try {
    expect((await verifyLedger({ store, readDb })).findings).toEqual([]);
  } finally {
    readDb.close();
    await store.close();
  }
}

// With every writer of the SQLite store (issue 14 lever 3): on the request thread, its writer thread, or adaptively.
describe.each<SqliteWriterMode>(['inline', 'worker', 'adaptive'])('a full disk or a read-only data dir during appends (issue 13), %s writer', (writer) => {
  it('disk full: the command gets 503 store_full, no order is half-written, reads answer, and it recovers when space returns', async () => {
    const { ledger, store, path } = await start(writer);
    const base = ledger.url;
    const buyer = generateWallet();
    const placed = await post(base, '/api/orders', placeBuyBody(buyer, '10'));
    expect(placed.status).toBe(201);
    const firstId = placed.body.order.order_id as string;

    store.simulateFault('disk_full');
    // The file may still have room in its last page: place until an append needs a new one.
    let refused: Awaited<ReturnType<typeof post>> | null = null;
    let streamsBefore = 0;
    for (let i = 0; i < 200 && refused === null; i++) {
      streamsBefore = await orderStreams(store);
      const answer = await post(base, '/api/orders', placeBuyBody(buyer, '10'));
      if (answer.status !== 201) refused = answer;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body).toMatchObject({ ok: false, error: 'store_full' });
    expect(await orderStreams(store)).toBe(streamsBefore);

    // Reads go on: the order itself (from its stream), lists (read model), health.
    expect((await get(base, `/api/orders/${firstId}`)).status).toBe(200);
    expect((await get(base, '/api/orders?status=all')).status).toBe(200);
    expect((await get(base, '/health')).status).toBe(200);

    store.simulateFault(null);
    const after = await post(base, '/api/orders', placeBuyBody(buyer, '10'));
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    expect(await orderStreams(store)).toBe(streamsBefore + 1);
    await verifyAfterClose(ledger, path);
  });

  it('read-only: the command gets 503 store_unavailable, spends nothing (the same signed request succeeds later), reads answer', async () => {
    const { ledger, store, path } = await start(writer);
    const base = ledger.url;
    const buyer = generateWallet();
    expect((await post(base, '/api/orders', placeBuyBody(buyer, '10'))).status).toBe(201);
    const head = await store.headPosition();

    store.simulateFault('read_only');
    const body = placeBuyBody(buyer, '11');
    const key = { 'idempotency-key': `read-only-${Date.now()}` };
    const refused = await post(base, '/api/orders', body, key);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ ok: false, error: 'store_unavailable' });
    expect(await store.headPosition()).toBe(head);
    expect((await get(base, '/api/orders?status=all')).status).toBe(200);

    store.simulateFault(null);
    // Not even the signature was recorded, and the 503 was not kept under the Idempotency-Key:
    // the very same request, key and all, now places the order.
    const retried = await post(base, '/api/orders', body, key);
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    await verifyAfterClose(ledger, path);
  });
});

describe('the SQLite store\'s writer thread stops (issue 14 lever 3)', () => {
  it('commands get 503 store_unavailable and write nothing, reads answer, and a restart on the same data dir takes commands again', async () => {
    const { ledger, store, path } = await start('worker');
    const base = ledger.url;
    const buyer = generateWallet();
    const placed = await post(base, '/api/orders', placeBuyBody(buyer, '10'));
    expect(placed.status).toBe(201);
    const head = await store.headPosition();

    await store.terminateWriterThread();
    const refused = await post(base, '/api/orders', placeBuyBody(buyer, '10'));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ ok: false, error: 'store_unavailable' });
    expect(await store.headPosition()).toBe(head);
    expect((await get(base, `/api/orders/${placed.body.order.order_id as string}`)).status).toBe(200);
    expect((await get(base, '/health')).status).toBe(200);
    // Not a passing fault: /ready says so until the restart.
    const ready = await get(base, '/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toContain('LEDGER_SQLITE_WRITER');
    await ledger.close();

    const restarted = await startFromEnv(baseEnv(path, { LEDGER_SQLITE_WRITER: 'worker' }));
    running.push(restarted);
    const after = await post(restarted.url, '/api/orders', placeBuyBody(buyer, '10'));
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    await verifyAfterClose(restarted, path);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/audit/verify.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { generateWallet, get, placeBuyBody, post, until, useLedgerStarter } from './support.js';

/**
 * Issue 14 lever 6: POST /admin/projections/:name/rebuild on the embedded store runs the blue/green
 * rebuild on a worker thread (rebuildInWorker) while the server keeps answering, then the runner
 * follows the switched copy; the read models equal a fresh rebuild afterwards.
 */
const ADMIN_TOKEN = 'admin-rebuild-thread-token-0123456789ab';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const startLedgerOnTempDir = useLedgerStarter('rebuild-thread', ADMIN_TOKEN);

const servingSuffix = (path: string, name: string): string | undefined => {
  const db = openReadDb(join(path, 'read.db'), { readonly: true });
  try {
    return activeCopy(db, name)?.suffix;
  } finally {
    db.close();
  }
};

describe('admin rebuild on a worker thread', () => {
  it('answers 202 at once, switches the copy built on the worker, and the server goes on serving and projecting', async () => {
    const { ledger, path } = await startLedgerOnTempDir();
    const buyer = generateWallet();
    const ids: string[] = [];
    for (const amount of ['10', '11', '12']) {
      const placed = await post(ledger.url, '/api/orders', placeBuyBody(buyer, amount));
      expect(placed.status).toBe(201);
      ids.push(placed.body.order.order_id as string);
    }
    const before = servingSuffix(path, 'orders');

    const started = await post(ledger.url, '/admin/projections/orders/rebuild', {}, admin);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.rebuild_id).toMatch(/^api-/);
    await until(async () => servingSuffix(path, 'orders') !== before, 'the rebuilt copy to be switched in');
    const listed = await get(ledger.url, '/admin/projections', admin);
    expect(listed.body.projections.find((p: { name: string }) => p.name === 'orders')).toMatchObject({ rebuild: null, state: 'running' });

    // The runner follows the new copy: an order placed after the switch is listed.
    const after = await post(ledger.url, '/api/orders', placeBuyBody(buyer, '13'));
    expect(after.status).toBe(201);
    ids.push(after.body.order.order_id as string);
    await until(async () => {
      const page = await get(ledger.url, '/api/orders?status=all&limit=50');
      return (page.body.orders as Array<{ order_id: string }>).length === ids.length;
    }, 'the new order to be listed');

    await ledger.close();
    const store = new SqliteEventStore({ path: join(path, 'events.db') });
    const readDb = openReadDb(join(path, 'read.db'), { readonly: true });
    try {
      expect((await verifyLedger({ store, readDb })).findings).toEqual([]);
    } finally {
      readDb.close();
      await store.close();
    }
  });
});

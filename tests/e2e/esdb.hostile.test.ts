import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningLedger } from '../../src/main.js';
import { EsdbStandIn, HOSTILE_SERVER } from '../support/esdbStandIn/server.js';
import { baseEnv, fundViaLedger, generateWallet, get, placeSell, startFromEnv, tempDir, until } from './support.js';

/**
 * The whole ledger on the esdb adapter against the stand-in behaving like a real KurrentDB node
 * (issue 15): a log mostly made of lease events, and the store gone for a while.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startOn(standIn: EsdbStandIn, name: string): Promise<RunningLedger> {
  const dir = tempDir(name);
  cleanups.push(() => dir.remove());
  const running = await startFromEnv(baseEnv(dir.path, { LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: standIn.connectionString }));
  cleanups.push(() => running.close());
  return running;
}

/** Lease events straight into the log, as other instances' drivers would write them. */
function writeLeaseEvents(standIn: EsdbStandIn, count: number): void {
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  for (let i = 0; i < count; i++) {
    standIn.log.append(`lease-order-driver:${i % 50}`, { kind: 'any' }, [{
      id: randomUUID(), type: 'LeaseTaken', contentType: 'application/json',
      data: json({ owner: `instance-${i}`, expires_at_ms: 0, ttl_ms: 60_000 }), customMetadata: json({}),
    }]);
  }
}

describe('the ledger on a log that is mostly not ledger events', () => {
  it('starts, catches up and is ready with 10,001 lease events after the last order event', async () => {
    const standIn = await EsdbStandIn.start({ faults: HOSTILE_SERVER });
    cleanups.push(() => standIn.stop());
    const first = await startOn(standIn, 'esdb-leases-a');
    const seller = generateWallet();
    await fundViaLedger(first.url, seller);
    const { orderId } = await placeSell(first.url, seller);
    await first.close();
    writeLeaseEvents(standIn, 10_001);

    const second = await startOn(standIn, 'esdb-leases-b');
    const ready = await get(second.url, '/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.projections.every((p: { lag: number }) => p.lag === 0)).toBe(true);
    const orders = await get(second.url, `/api/orders?status=all&wallet=${seller.wallet}`);
    expect((orders.body.orders as Array<{ order_id: string }>).map((o) => o.order_id)).toEqual([orderId]);
  }, 60_000);
});

describe('the ledger while its store is gone', () => {
  it('reports the reconnecting subscription in /ready and /metrics, then resumes without gap or duplicate', async () => {
    const standIn = await EsdbStandIn.start({ faults: HOSTILE_SERVER });
    cleanups.push(() => standIn.stop());
    const ledger = await startOn(standIn, 'esdb-outage');
    const seller = generateWallet();
    await fundViaLedger(ledger.url, seller);
    const before = await placeSell(ledger.url, seller);
    expect((await get(ledger.url, '/ready')).status).toBe(200);

    await standIn.stop();
    await until(async () => (await get(ledger.url, '/ready')).status === 503, '/ready turning 503');
    const notReady = await get(ledger.url, '/ready');
    expect(notReady.body).toMatchObject({ ok: false, error: 'not_ready' });
    const metrics = await fetch(`${ledger.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^otc_ledger_store_subscriptions_reconnecting 1$/m);

    await standIn.start();
    await until(async () => (await get(ledger.url, '/ready')).status === 200, '/ready back to 200');
    const after = await placeSell(ledger.url, seller);
    const list = await get(ledger.url, `/api/orders?status=all&wallet=${seller.wallet}&min_position=${after.position}`);
    expect(list.status).toBe(200);
    expect((list.body.orders as Array<{ order_id: string }>).map((o) => o.order_id).sort()).toEqual([before.orderId, after.orderId].sort());
    expect(list.body.total).toBe(2);
    expect(await fetch(`${ledger.url}/metrics`).then((r) => r.text())).toMatch(/^otc_ledger_store_subscriptions_reconnecting 0$/m);
  }, 60_000);
});

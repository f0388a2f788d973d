import { facts } from '../support/orderFixtures.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteLeases, type Leases } from '../../src/settlement/leases.js';
import { createStoreLeases } from '../../src/settlement/storeLeases.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';
import { startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

let h: SettlementHarness;
afterEach(async () => h?.close());

async function pendingLocks(count: number): Promise<string[]> {
  // Every lock's answer is lost before it takes effect: all orders wait in escrow_pending.
  h.fault('POST /agent/jobs', 'error_500', count);
  const t = trader(h);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(facts((await t.place(h.seller, 'sell', { amountMicroRtc: BigInt(1_000_000 + i) })).state).orderId as string);
  expect(h.node.jobs()).toHaveLength(0);
  return ids;
}

const pass = (leases: Leases) =>
  reconcilePass({
    store: h.store, node: h.gateway, leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000,
    stuckMs: 0, now: () => new Date(h.clock.nowMs), candidates: scanAllOrders({ store: h.store }),
  });

describe('two reconciler passes at once', () => {
  it('lock each pending escrow exactly once with leases in the event store (instances sharing only the store)', async () => {
    h = await startSettlementHarness();
    const ids = await pendingLocks(6);
    const summaries = await Promise.all([pass(createStoreLeases(h.store)), pass(createStoreLeases(h.store))]);
    const jobsPerOrder = ids.map((id) => h.node.jobs().filter((j) => j.title.includes(id)).length);
    expect(jobsPerOrder).toEqual(ids.map(() => 1));
    expect(summaries[0].locked + summaries[1].locked).toBe(6);
  });

  it('lock each pending escrow exactly once: the shared lease file keeps them apart', async () => {
    h = await startSettlementHarness();
    const ORDERS = 6;
    const ids = await pendingLocks(ORDERS);

    // Two lease handles on one file: what two processes sharing a data dir have.
    const leaseFile = join(mkdtempSync(join(tmpdir(), 'otc-leases-')), 'leases.db');
    const [a, b] = [createSqliteLeases(leaseFile), createSqliteLeases(leaseFile)];
    const summaries = await Promise.all([pass(a), pass(b)]);
    a.close();
    b.close();

    const jobsPerOrder = ids.map((id) => h.node.jobs().filter((j) => j.title.includes(id)).length);
    expect(jobsPerOrder).toEqual(ids.map(() => 1));
    expect(summaries[0].locked + summaries[1].locked).toBe(ORDERS);
    for (const id of ids) expect((await h.ledger.getOrder(id))?.state.status).toBe('open');
  });
});

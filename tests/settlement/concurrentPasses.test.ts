import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteLeases } from '../../src/settlement/leases.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';
import { startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

let h: SettlementHarness;
afterEach(async () => h?.close());

describe('two reconciler passes at once', () => {
  it('lock each pending escrow exactly once: the shared lease file keeps them apart', async () => {
    h = await startSettlementHarness();
    const ORDERS = 6;
    // Every lock's answer is lost before it takes effect: all orders wait in escrow_pending.
    h.fault('POST /agent/jobs', 'error_500', ORDERS);
    const t = trader(h);
    const ids: string[] = [];
    for (let i = 0; i < ORDERS; i++) ids.push((await t.place(h.seller, 'sell', { amountMicroRtc: BigInt(1_000_000 + i) })).state.orderId as string);
    expect(h.node.jobs()).toHaveLength(0);

    // Two lease handles on one file: what two processes sharing a data dir have.
    const leaseFile = join(mkdtempSync(join(tmpdir(), 'otc-leases-')), 'leases.db');
    const pass = (leases: ReturnType<typeof createSqliteLeases>) =>
      reconcilePass({
        store: h.store, node: h.gateway, leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000,
        stuckMs: 0, now: () => new Date(h.clock.nowMs), candidates: scanAllOrders({ store: h.store }),
      });
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

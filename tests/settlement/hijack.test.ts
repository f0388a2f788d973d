import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrderRefused, orderStream } from '../../src/aggregates/order/index.js';
import { generateWallet } from '../../src/crypto/signer.js';
import { BRIDGE_WORKER_WALLET } from '../../src/gateways/node.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';
import { postControl } from '../gateways/support.js';
import { facts } from '../support/orderFixtures.js';
import { matchedSell, req, startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

/**
 * Integration, against the sandbox node over real HTTP: a third party (or the seller under a second
 * wallet) takes the escrow job through the node's public claim/deliver, which let any wallet do so.
 * The ledger must never accept that job, never queue a payout for it, and park the order.
 */
let h: SettlementHarness;
beforeEach(async () => {
  h = await startSettlementHarness();
});
afterEach(async () => {
  await h.close();
});

const jobOf = async (orderId: string): Promise<string> => facts((await h.ledger.getOrder(orderId))?.state).escrow.jobId as string;
const takeAs = (jobId: string, worker: string, deliver = true) => postControl(h.sandbox.url, `jobs/${jobId}/take-as`, { worker_wallet: worker, deliver });
const types = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).map((e) => e.type);

async function expectParkedUnpaid(orderId: string, jobId: string, balancesBefore: { worker: bigint; buyer: bigint }) {
  const order = (await h.ledger.getOrder(orderId))?.state;
  expect(order?.status).toBe('settlement_recovery');
  expect(facts(order).recoveryReason).toBe('escrow_hijacked');
  const written = await types(orderId);
  expect(written).not.toContain('EscrowReleased');
  expect(written).not.toContain('PayoutQueued');
  // Nothing was accepted: the job still waits at delivered, and nobody was paid by the ledger.
  expect(h.node.job(jobId)?.status).toBe('delivered');
  expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(0);
  expect(h.node.transfers()).toEqual([]);
  expect(h.node.balanceMicroRtc(BRIDGE_WORKER_WALLET)).toBe(balancesBefore.worker);
  expect(h.node.balanceMicroRtc(h.buyer.wallet)).toBe(balancesBefore.buyer);
}

const balances = () => ({ worker: h.node.balanceMicroRtc(BRIDGE_WORKER_WALLET), buyer: h.node.balanceMicroRtc(h.buyer.wallet) });

describe('an escrow job taken by a worker other than the ledger\'s', () => {
  it('a third party claims and delivers, then the seller confirms: nothing is accepted or paid, the order is parked', async () => {
    const { orderId, secret } = await matchedSell(h);
    const jobId = await jobOf(orderId);
    const before = balances();
    expect(await takeAs(jobId, generateWallet().wallet)).toBe(200);
    const confirmed = await trader(h).confirm(h.seller, orderId, secret);
    expect(confirmed.state.status).toBe('settlement_recovery');
    await expectParkedUnpaid(orderId, jobId, before);
  });

  it('the seller takes it with a second wallet: the same', async () => {
    const { orderId, secret } = await matchedSell(h);
    const jobId = await jobOf(orderId);
    const before = balances();
    const secondWallet = generateWallet();
    expect(await takeAs(jobId, secondWallet.wallet)).toBe(200);
    await trader(h).confirm(h.seller, orderId, secret);
    await expectParkedUnpaid(orderId, jobId, before);
  });

  it('the operator\'s re-drive is refused with escrow_hijacked and writes nothing', async () => {
    const { orderId, secret } = await matchedSell(h);
    const jobId = await jobOf(orderId);
    const before = balances();
    await takeAs(jobId, generateWallet().wallet);
    await trader(h).confirm(h.seller, orderId, secret);
    const written = (await types(orderId)).length;
    const redrive = h.ledger.redrive(orderId, { operator: 'ops', reason: 'try again' }, req());
    await expect(redrive).rejects.toBeInstanceOf(OrderRefused);
    await expect(h.ledger.redrive(orderId, { operator: 'ops', reason: 'try again' }, req())).rejects.toMatchObject({ code: 'escrow_hijacked' });
    expect((await types(orderId)).length).toBe(written);
    // The reconciler's look-up of the parked release sees the same hijack and releases nothing either.
    await h.reconcile();
    await expectParkedUnpaid(orderId, jobId, before);
  });

  it('the escrow watch finds it on an open order before anyone takes it, and takes the order off the book', async () => {
    const t = trader(h);
    const placed = await t.place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId;
    const jobId = await jobOf(orderId);
    expect(await takeAs(jobId, generateWallet().wallet, false)).toBe(200);
    await reconcilePass({
      store: h.store, node: h.gateway, leases: h.leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000, stuckMs: 60_000,
      now: () => new Date(h.clock.nowMs), candidates: async () => [], escrowWatch: () => scanAllOrders({ store: h.store })(new Date(h.clock.nowMs), 0),
    });
    const order = (await h.ledger.getOrder(orderId))?.state;
    expect(order?.status).toBe('settlement_recovery');
    expect(facts(order).recoveryReason).toBe('escrow_hijacked');
    await expect(t.match(h.buyer, orderId)).rejects.toMatchObject({ code: 'order_not_open' });
  });

  it('the ledger\'s own worker settles as before (the allowed case)', async () => {
    const { orderId, secret } = await matchedSell(h);
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    expect(h.node.job(await jobOf(orderId))?.workerWallet).toBe(BRIDGE_WORKER_WALLET);
  });
});

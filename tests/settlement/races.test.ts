import { facts } from '../support/orderFixtures.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrderRefused, orderStream } from '../../src/aggregates/order/index.js';
import { generatePreimage } from '../../src/crypto/preimage.js';
import { generateWallet } from '../../src/crypto/signer.js';
import { reconcilePass } from '../../src/settlement/reconciler.js';
import type { NodeGateway } from '../../src/gateways/node.js';
import { matchedSell, startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

let h: SettlementHarness;
beforeEach(async () => {
  h = await startSettlementHarness();
});
afterEach(async () => h.close());

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'rejected' ? (r.reason instanceof OrderRefused ? r.reason.code : String(r.reason)) : 'ok';
const eventTypes = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).map((e) => e.type);

describe('racing commands on one order', () => {
  it('lets exactly one of two confirms claim settlement, and releases once', async () => {
    const { orderId, secret } = await matchedSell(h);
    const t = trader(h);
    const first = t.confirm(h.seller, orderId, secret, '0xa');
    const second = t.confirm(h.seller, orderId, secret, '0xb');
    const results = await Promise.allSettled([first, second]);
    expect(results.map(codeOf).sort()).toEqual(['ok', 'order_not_matched']);
    expect((await eventTypes(orderId)).filter((t) => t === 'SettlementClaimed')).toHaveLength(1);
    expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(1);
    expect(h.node.transfers()).toHaveLength(1);
  });

  it('lets exactly one of several takers match a buy order, and locks only the winner\'s escrow', async () => {
    const t = trader(h);
    const placed = await t.place(h.buyer, 'buy');
    const orderId = facts(placed.state).orderId as string;
    const takers = [h.seller, h.stranger, generateWallet()];
    for (const w of takers) h.node.fund(w.wallet, 1_000_000_000n);
    const results = await Promise.allSettled(takers.map((w) => t.match(w, orderId)));
    expect(results.map(codeOf).filter((c) => c === 'ok')).toHaveLength(1);
    expect(results.map(codeOf).filter((c) => c !== 'ok')).toEqual(['order_not_open', 'order_not_open']);
    expect(h.node.jobs()).toHaveLength(1);
    const order = await h.ledger.getOrder(orderId);
    expect(order?.state.status).toBe('matched');
    expect(h.node.jobs()[0]?.posterWallet).toBe(facts(order?.state).takerWallet);
  });

  it('lets exactly one of cancel and match win on a sell order, with no orphaned escrow', async () => {
    const t = trader(h);
    const placed = await t.place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    const results = await Promise.allSettled([t.cancel(h.seller, orderId), t.match(h.buyer, orderId)]);
    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c !== 'ok')).toEqual(['order_not_open']);
    const order = (await h.ledger.getOrder(orderId))?.state;
    const job = h.node.jobs()[0];
    if (order?.status === 'cancelled') expect(job?.status).toBe('cancelled');
    else expect(order?.status === 'matched' && job?.status === 'open').toBe(true);
  });
});

describe('buy orders: the taker sells and locks', () => {
  it('locks the taker\'s escrow after the match and settles when the taker confirms', async () => {
    const t = trader(h);
    const placed = await t.place(h.buyer, 'buy');
    const orderId = facts(placed.state).orderId as string;
    const matched = await t.match(h.seller, orderId);
    expect(matched.state.status).toBe('matched');
    expect(matched.htlcSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(h.node.jobs()[0]?.posterWallet).toBe(h.seller.wallet);
    const done = await t.confirm(h.seller, orderId, matched.htlcSecret as string);
    expect(done.state.status).toBe('completed');
    expect(h.node.transfers()[0]?.toWallet).toBe(h.buyer.wallet);
  });

  it('re-opens the order when the taker\'s lock is refused', async () => {
    const t = trader(h);
    const placed = await t.place(h.buyer, 'buy');
    const orderId = facts(placed.state).orderId as string;
    h.fault('POST /agent/jobs', 'reject_400');
    const attempt = await t.match(h.seller, orderId, generatePreimage().htlcHash);
    expect(attempt.state.status).toBe('open');
    expect(facts(attempt.state).takerWallet).toBeNull();
    expect(await eventTypes(orderId)).toEqual(['OrderPlaced', 'Matched', 'EscrowLockFailed', 'MatchAborted']);
  });
});

describe('cancel, expiry and refunds', () => {
  it('refunds a cancelled sell order\'s escrow', async () => {
    const t = trader(h);
    const placed = await t.place(h.seller, 'sell');
    const cancelled = await t.cancel(h.seller, facts(placed.state).orderId as string);
    expect(cancelled.state.status).toBe('cancelled');
    expect(h.node.jobs()[0]?.status).toBe('cancelled');
    // Reward and fee both come back: the seller is where they started.
    expect(h.node.balanceMicroRtc(h.seller.wallet)).toBe(1_000_000_000_000n);
  });

  it('counts a job the node already expired as refunded, not stuck', async () => {
    const t = trader(h);
    const placed = await t.place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    h.node.expireJob(facts(placed.state).escrow.jobId as string);
    const cancelled = await t.cancel(h.seller, orderId);
    expect(cancelled.state.status).toBe('cancelled');
    expect(await eventTypes(orderId)).toContain('RefundIssued');
  });

  it('keeps a refund the node refused pending, and the reconciler finishes it', async () => {
    const t = trader(h);
    const placed = await t.place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    h.fault('POST /agent/jobs/:id/cancel', 'reject_400');
    const attempt = await t.cancel(h.seller, orderId);
    expect(attempt.state.status).toBe('refund_pending');
    const summary = await h.reconcile();
    expect(summary.refunded).toBe(1);
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('cancelled');
  });

  it('expires an unclaimed matched order at settle_by and refunds the seller', async () => {
    const { orderId } = await matchedSell(h);
    h.clock.nowMs += 86_400_000 + 1000;
    const summary = await h.reconcile(120_000);
    expect(summary.expired).toBe(1);
    expect(summary.refunded).toBe(1);
    const state = (await h.ledger.getOrder(orderId))?.state;
    expect(state?.status).toBe('expired');
    expect(facts(state).escrow.status).toBe('refunded');
  });

  it('expires an open buy order at expires_at without any node call', async () => {
    const t = trader(h);
    const placed = await t.place(h.buyer, 'buy', { ttlSeconds: 3600 });
    const calls = h.node.snapshot();
    h.clock.nowMs += 3600_000;
    await h.reconcile(120_000);
    expect((await h.ledger.getOrder(facts(placed.state).orderId as string))?.state.status).toBe('expired');
    expect(JSON.stringify(h.node.snapshot().request_counts)).toBe(JSON.stringify(calls.request_counts));
  });

  it('never touches an in-flight order whose last event is younger than the stuck threshold', async () => {
    const t = trader(h);
    h.fault('POST /agent/jobs', 'error_500');
    const placed = await t.place(h.seller, 'sell');
    const summary = await h.reconcile(120_000);
    expect(summary.locked).toBe(0);
    expect((await h.ledger.getOrder(facts(placed.state).orderId as string))?.state.status).toBe('escrow_pending');
  });
});

describe('preimages never leak', () => {
  it('stores no preimage in clear anywhere in the log', async () => {
    const { orderId, secret } = await matchedSell(h);
    await trader(h).confirm(h.seller, orderId, secret);
    const all = await h.store.readAll(0n, 10_000);
    expect(all.length).toBeGreaterThan(5);
    expect(JSON.stringify(all.map((e) => ({ d: e.data, m: e.metadata })))).not.toContain(secret);
  });
});

describe('claims that must never turn into refunds', () => {
  it('parks a reverted claim at settle_by in recovery instead of refunding the seller, and a re-drive pays the buyer', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/claim', 'reject_400');
    expect((await trader(h).confirm(h.seller, orderId, secret)).state.status).toBe('matched');
    h.clock.nowMs += 86_400_000 + 1000;
    const summary = await h.reconcile(120_000);
    expect(summary.refunded).toBe(0);
    const parked = (await h.ledger.getOrder(orderId))?.state;
    expect(parked?.status).toBe('settlement_recovery');
    expect(facts(parked).recoveryReason).toBe('settle_by_passed_after_claim');
    expect(h.node.jobs()[0]?.status).toBe('open');
    const redriven = await h.ledger.redrive(orderId, { operator: 'dana', reason: 'release the claimed trade' }, { requestId: 'op-late' });
    expect(redriven.state.status).toBe('completed');
    expect(h.node.transfers()[0]?.toWallet).toBe(h.buyer.wallet);
  });

  it('parks a refund the node cannot do (the job was claimed by a worker) in recovery, where an operator sees it', async () => {
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    expect((await h.gateway.claimJob(facts(placed.state).escrow.jobId as string)).kind).toBe('ok');
    const attempt = await trader(h).cancel(h.seller, orderId);
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(facts(attempt.state).recoveryReason).toBe('refund_blocked');
  });
});

describe('an escrow cancelled at the node behind the ledger\'s back', () => {
  it('is found before a buyer takes the order: the order goes to recovery and the match is refused', async () => {
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    h.node.cancelJobNodeSide(facts(placed.state).escrow.jobId as string);
    const attempt = await Promise.allSettled([trader(h).match(h.buyer, orderId)]);
    expect(attempt.map(codeOf)).toEqual(['order_not_open']);
    const state = (await h.ledger.getOrder(orderId))?.state;
    expect(state?.status).toBe('settlement_recovery');
    expect(facts(state).recoveryReason).toBe('escrow_job_cancelled');
  });
});

describe('the reconciler watches matched orders\' escrow', () => {
  it('parks a matched order whose job the node expired, long before settle_by', async () => {
    const { orderId } = await matchedSell(h);
    const jobId = facts((await h.ledger.getOrder(orderId))?.state).escrow.jobId as string;
    h.node.expireJob(jobId);
    await reconcilePass({
      store: h.store, node: h.gateway, leases: h.leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000, stuckMs: 120_000,
      now: () => new Date(h.clock.nowMs), candidates: async () => [], escrowWatch: async () => [orderId],
    });
    const state = (await h.ledger.getOrder(orderId))?.state;
    expect(state?.status).toBe('settlement_recovery');
    expect(facts(state).recoveryReason).toBe('escrow_job_expired');
  });

  it('leaves a matched order with a healthy escrow alone', async () => {
    const { orderId } = await matchedSell(h);
    const before = (await h.ledger.getOrder(orderId))?.version;
    await reconcilePass({
      store: h.store, node: h.gateway, leases: h.leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000, stuckMs: 120_000,
      now: () => new Date(h.clock.nowMs), candidates: async () => [], escrowWatch: async () => [orderId],
    });
    expect((await h.ledger.getOrder(orderId))?.version).toBe(before);
  });
});

describe('confirm after settle_by (docs/DECISIONS.md)', () => {
  it('is accepted until the expiry is recorded: the seller who claimed the quote leg can still release', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.clock.nowMs += 86_400_000 + 1000;
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    expect((await h.reconcile(120_000)).expired).toBe(0);
  });

  it('races the reconciler\'s expiry with exactly one winner: never a claim and a refund both', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.clock.nowMs += 86_400_000 + 1000;
    const [confirm] = await Promise.allSettled([trader(h).confirm(h.seller, orderId, secret), h.reconcile(120_000)]);
    const types = await eventTypes(orderId);
    const state = (await h.ledger.getOrder(orderId))?.state;
    if (confirm.status === 'fulfilled') {
      expect(state?.status).toBe('completed');
      expect(types).not.toContain('OrderExpired');
      expect(types).not.toContain('RefundIssued');
    } else {
      expect(codeOf(confirm)).toBe('order_not_matched');
      expect(state?.status).toBe('expired');
      expect(types).not.toContain('SettlementClaimed');
    }
  });
});

describe('a reconciler pass during a live confirm (lessons.md)', () => {
  it('leaves the order to the confirm that holds it, even with a stuck threshold of zero', async () => {
    const { orderId, secret } = await matchedSell(h);
    // The confirm's accept is held at the node's door until the pass has run.
    let acceptReached!: () => void;
    const reached = new Promise<void>((resolve) => (acceptReached = resolve));
    let letAcceptThrough!: () => void;
    const gate = new Promise<void>((resolve) => (letAcceptThrough = resolve));
    const held: NodeGateway = {
      ...h.gateway,
      acceptJob: async (...args) => {
        acceptReached();
        await gate;
        return h.gateway.acceptJob(...args);
      },
    };
    const confirming = trader(h).confirm(h.seller, orderId, secret, '0xquote', h.ledgerWith(held));
    await reached;
    const versionDuring = (await h.ledger.getOrder(orderId))?.version;
    const summary = await h.reconcile(0);
    expect(summary.recovered + summary.reverted).toBe(0);
    expect((await h.ledger.getOrder(orderId))?.version).toBe(versionDuring);
    expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(0);
    letAcceptThrough();
    expect((await confirming).state.status).toBe('completed');
    expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(1);
  });
});

describe('a refund whose escrow job the node no longer knows', () => {
  it('parks the order in recovery instead of retrying a refund that can never succeed', async () => {
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    const forgetful: NodeGateway = {
      ...h.gateway,
      cancelJob: async () => ({ kind: 'rejected', reason: 'Job not found', httpStatus: 404 }),
      getJob: async () => ({ kind: 'ok', value: null }),
    };
    const t = trader({ ...h, ledger: h.ledgerWith(forgetful) });
    const attempt = await t.cancel(h.seller, orderId);
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(facts(attempt.state).recoveryReason).toBe('escrow_job_missing');
  });
});

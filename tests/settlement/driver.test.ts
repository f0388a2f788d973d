import { facts } from '../support/orderFixtures.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import type { NodeGateway } from '../../src/gateways/node.js';
import { createLedger } from '../../src/app/ledger.js';
import { createSecretBox } from '../../src/crypto/preimage.js';
import { matchedSell, startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

let h: SettlementHarness;
afterEach(async () => h?.close());

const eventTypes = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).map((e) => e.type);
/** The node's look-ups fail once the accept has been sent: the release's outcome cannot be known. */
function lookupsFailAfterAccept(gateway: NodeGateway): NodeGateway {
  let acceptSent = false;
  return {
    ...gateway,
    acceptJob: (...args) => ((acceptSent = true), gateway.acceptJob(...args)),
    getJob: (jobId) => (acceptSent ? Promise.resolve({ kind: 'unknown', reason: 'lookup timed out' }) : gateway.getJob(jobId)),
  };
}

const jobOf = (orderId: string) => h.node.jobs().find((j) => j.title.includes(orderId));

describe('placing a sell order locks the seller\'s escrow first', () => {
  beforeEach(async () => {
    h = await startSettlementHarness();
  });

  it('locks and opens the order, showing a generated preimage once', async () => {
    const placed = await trader(h).place(h.seller, 'sell');
    expect(placed.state.status).toBe('open');
    expect(placed.htlcSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(facts(placed.state).escrow.status).toBe('locked');
    expect(jobOf(facts(placed.state).orderId as string)?.status).toBe('open');
    expect(await eventTypes(facts(placed.state).orderId as string)).toEqual(['OrderPlaced', 'EscrowLocked']);
  });

  it('asks the node to keep the escrow for the order TTL + settle window + an hour, for maker and taker locks', async () => {
    const sell = await trader(h).place(h.seller, 'sell', { ttlSeconds: 3600 });
    const buy = await trader(h).place(h.buyer, 'buy', { ttlSeconds: 7200 });
    await trader(h).match(h.seller, facts(buy.state).orderId as string);
    const ttlOf = (orderId: string) => {
      const job = jobOf(orderId);
      return job ? job.expiresAt - job.createdAt : null;
    };
    expect(ttlOf(facts(sell.state).orderId as string)).toBe(3600 + 86_400 + 3600);
    expect(ttlOf(facts(buy.state).orderId as string)).toBe(7200 + 86_400 + 3600);
  });

  it('rejects the order when the node refuses the lock', async () => {
    h.fault('POST /agent/jobs', 'reject_400');
    const placed = await trader(h).place(h.seller, 'sell');
    expect(placed.state.status).toBe('rejected');
    expect(await eventTypes(facts(placed.state).orderId as string)).toEqual(['OrderPlaced', 'EscrowLockFailed']);
  });

  it('finds a lock whose answer was lost by its title, without locking twice', async () => {
    h.fault('POST /agent/jobs', 'timeout_after_effect');
    const placed = await trader(h).place(h.seller, 'sell');
    expect(placed.state.status).toBe('open');
    expect(h.node.jobs()).toHaveLength(1);
    expect(facts(placed.state).escrow.jobId).toBe(h.node.jobs()[0]?.jobId);
  });

  it('leaves a lock that cannot be found pending, and the reconciler locks it later', async () => {
    h.fault('POST /agent/jobs', 'error_500');
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('escrow_pending');
    expect(h.node.jobs()).toHaveLength(0);
    const summary = await h.reconcile();
    expect(summary.locked).toBe(1);
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('open');
    expect(h.node.jobs()).toHaveLength(1);
    expect(await eventTypes(orderId)).toEqual(['OrderPlaced', 'NodeCallFailed', 'EscrowLocked']);
  });
});

describe('confirming settles: release, then payout, then the preimage', () => {
  beforeEach(async () => {
    h = await startSettlementHarness();
  });

  it('completes a trade when the payout confirms at once', async () => {
    const { orderId, secret } = await matchedSell(h);
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    expect(facts(done.state).tradeId).toBe(`trade_${orderId.slice(4)}`);
    expect(h.ledger.revealSecret(done.state)).toBe(secret);
    expect(await eventTypes(orderId)).toEqual([
      'OrderPlaced', 'EscrowLocked', 'Matched', 'SettlementClaimed', 'EscrowReleased', 'PayoutQueued', 'PayoutConfirmed',
    ]);
    expect(h.node.transfers()).toHaveLength(1);
    expect(h.node.transfers()[0]?.toWallet).toBe(h.buyer.wallet);
  });

  it('reverts to matched when the node refuses the release and nothing moved', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/claim', 'reject_400');
    const attempt = await trader(h).confirm(h.seller, orderId, secret);
    expect(attempt.state.status).toBe('matched');
    expect(jobOf(orderId)?.status).toBe('open');
    h.clock.nowMs += 1000; // a fresh signature: the first one is spent
    const retry = await trader(h).confirm(h.seller, orderId, secret);
    expect(retry.state.status).toBe('completed');
  });

  it('parks a refused accept in recovery (a delivered job cannot be refunded), and a re-drive resumes without claiming again', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/accept', 'reject_400');
    const attempt = await trader(h).confirm(h.seller, orderId, secret);
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(facts(attempt.state).recoveryReason).toBe('release_refused');
    expect(jobOf(orderId)?.status).toBe('delivered');
    const claimsBefore = h.node.requestCount('POST /agent/jobs/:id/claim');
    const redriven = await h.ledger.redrive(orderId, { operator: 'carol', reason: 'node fixed' }, { requestId: 'op-accept' });
    expect(redriven.state.status).toBe('completed');
    expect(h.node.requestCount('POST /agent/jobs/:id/claim')).toBe(claimsBefore);
  });

  it('never reverts a release once one of its calls was lost, even if a retry is then refused', async () => {
    const { orderId, secret } = await matchedSell(h);
    // The first claim's answer is lost (as far as the ledger knows, it may land later); the retry is refused.
    let claims = 0;
    const lossy: NodeGateway = {
      ...h.gateway,
      claimJob: (jobId) => (++claims === 1 ? Promise.resolve({ kind: 'unknown', reason: 'timed out' }) : h.gateway.claimJob(jobId)),
    };
    h.fault('POST /agent/jobs/:id/claim', 'reject_400');
    const attempt = await trader(h).confirm(h.seller, orderId, secret, '0xquote', h.ledgerWith(lossy));
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(await eventTypes(orderId)).not.toContain('SettlementReverted');
  });

  it('looks a lost accept up and never releases twice', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/accept', 'timeout_after_effect');
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(1);
    expect(h.node.transfers()).toHaveLength(1);
  });

  it('resumes an accept that hung without effect', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/accept', 'hang');
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(2);
  });

  it('goes to recovery when a lost release cannot be looked up; released is never matched again', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/accept', 'timeout_after_effect');
    const flaky = lookupsFailAfterAccept(h.gateway);
    const attempt = await trader(h).confirm(h.seller, orderId, secret, '0xquote', h.ledgerWith(flaky));
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(facts(attempt.state).recoveryReason).toBe('release_outcome_unknown');
    expect(jobOf(orderId)?.status).toBe('completed');
    expect(await eventTypes(orderId)).not.toContain('SettlementReverted');
    // An operator re-drive looks the job up and goes on.
    const redriven = await h.ledger.redrive(orderId, { operator: 'alice', reason: 'node back' }, { requestId: 'op-1' });
    expect(redriven.state.status).toBe('completed');
    expect(h.node.transfers()).toHaveLength(1);
  });

  it('lets the reconciler resolve an unknown release by looking the job up', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/accept', 'timeout_after_effect');
    const flaky = lookupsFailAfterAccept(h.gateway);
    await trader(h).confirm(h.seller, orderId, secret, '0xquote', h.ledgerWith(flaky));
    const summary = await h.reconcile(0);
    expect(summary.recovered).toBe(1);
    expect(summary.completed).toBe(1);
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('completed');
    expect(h.node.requestCount('POST /agent/jobs/:id/accept')).toBe(1);
  });

  it('leaves a refused payout in recovery for an operator: the reconciler never retries money movement', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /wallet/transfer', 'reject_400');
    await trader(h).confirm(h.seller, orderId, secret);
    const summary = await h.reconcile(0);
    expect(summary.left).toBe(1);
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('settlement_recovery');
    expect(h.node.requestCount('POST /wallet/transfer')).toBe(1);
  });

  it('moves to recovery when the payout is refused, and a re-drive pays once', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /wallet/transfer', 'reject_400');
    const attempt = await trader(h).confirm(h.seller, orderId, secret);
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(facts(attempt.state).escrow.status).toBe('released');
    expect(h.ledger.revealSecret(attempt.state)).toBeNull();
    const redriven = await h.ledger.redrive(orderId, { operator: 'alice', reason: 'retry' }, { requestId: 'op-2' });
    expect(redriven.state.status).toBe('completed');
    expect(h.node.transfers()).toHaveLength(1);
  });

  it('asks again after a payout answer is lost, and the node pays once', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /wallet/transfer', 'timeout_after_effect');
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    expect(h.node.keyRequestCount(`otc_payout:${orderId}`)).toBe(2);
    expect(h.node.transfers()).toHaveLength(1);
  });

  it('sends a seller-cancelled job to recovery instead of paying out', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.node.cancelJobNodeSide(jobOf(orderId)?.jobId as string);
    const attempt = await trader(h).confirm(h.seller, orderId, secret);
    expect(attempt.state.status).toBe('settlement_recovery');
    expect(facts(attempt.state).recoveryReason).toBe('escrow_job_cancelled');
    expect(h.node.transfers()).toHaveLength(0);
  });
});

describe('payouts that are queued but not final', () => {
  beforeEach(async () => {
    h = await startSettlementHarness({ autoConfirm: 'off' });
  });

  it('keeps the preimage hidden while the payout is only queued, then completes on look-up', async () => {
    const { orderId, secret } = await matchedSell(h);
    const queued = await trader(h).confirm(h.seller, orderId, secret);
    expect(queued.state.status).toBe('payout_pending');
    expect(h.ledger.revealSecret(queued.state)).toBeNull();
    expect(h.node.confirmTransfer(h.node.transfers()[0]?.pendingId as number)).toBe(true);
    const summary = await h.reconcile(60_000);
    expect(summary.completed).toBe(1);
    const done = await h.ledger.getOrder(orderId);
    expect(done?.state.status).toBe('completed');
    expect(h.ledger.revealSecret(done!.state)).toBe(secret);
  });

  it('a voided payout goes to recovery and a re-drive pays under a fresh key', async () => {
    const { orderId, secret } = await matchedSell(h);
    await trader(h).confirm(h.seller, orderId, secret);
    h.node.voidTransfer(h.node.transfers()[0]?.pendingId as number);
    await h.reconcile(60_000);
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('settlement_recovery');
    h.node.setAutoConfirm('immediate');
    const redriven = await h.ledger.redrive(orderId, { operator: 'bob', reason: 'voided by node' }, { requestId: 'op-3' });
    expect(redriven.state.status).toBe('completed');
    expect(h.node.transferByKey(`otc_payout:${orderId}:redrive-1`)?.phase).toBe('confirmed');
    expect(h.node.transfers().filter((t) => t.phase === 'confirmed')).toHaveLength(1);
  });
});

describe('a preimage encrypted under another key', () => {
  beforeEach(async () => {
    h = await startSettlementHarness();
  });

  it('is reported and shown as null instead of failing the read', async () => {
    const { orderId, secret } = await matchedSell(h);
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    const unreadable: string[] = [];
    const otherInstance = createLedger({
      store: h.store, node: h.gateway, leases: h.leases, secretBox: createSecretBox('99'.repeat(32)),
      settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(), onSecretUnreadable: (id) => unreadable.push(id),
    });
    expect(otherInstance.revealSecret(done.state)).toBeNull();
    expect(unreadable).toEqual([orderId]);
  });
});

describe('an escrow found by title must really be this order\'s', () => {
  beforeEach(async () => {
    h = await startSettlementHarness();
  });

  it('ignores a decoy job posted under the order\'s title with another amount, and locks the real escrow', async () => {
    h.fault('POST /agent/jobs', 'error_500');
    const placed = await trader(h).place(h.seller, 'sell', { amountMicroRtc: 100_000_000n });
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('escrow_pending');
    // The seller posts a 0.01 RTC job under the title the ledger will look for.
    const decoy = await h.gateway.lockEscrow({ orderId, party: 'maker', posterWallet: h.seller.wallet, amountMicroRtc: 10_000n, ttlSeconds: 86_400 });
    expect(decoy.kind).toBe('ok');
    await h.reconcile();
    const state = (await h.ledger.getOrder(orderId))?.state;
    expect(state?.status).toBe('open');
    const job = h.node.job(facts(state).escrow.jobId as string);
    expect(job?.rewardMicroRtc).toBe(100_000_000n);
    expect(facts(state).escrow.jobId).not.toBe(decoy.kind === 'ok' ? decoy.value.jobId : '');
  });

  it('ignores a job under the order\'s title posted by someone else', async () => {
    h.fault('POST /agent/jobs', 'error_500');
    const placed = await trader(h).place(h.seller, 'sell', { amountMicroRtc: 10_000_000n });
    const orderId = facts(placed.state).orderId as string;
    const decoy = await h.gateway.lockEscrow({ orderId, party: 'maker', posterWallet: h.stranger.wallet, amountMicroRtc: 10_000_000n, ttlSeconds: 86_400 });
    expect(decoy.kind).toBe('ok');
    await h.reconcile();
    const state = (await h.ledger.getOrder(orderId))?.state;
    expect(h.node.job(facts(state).escrow.jobId as string)?.posterWallet).toBe(h.seller.wallet);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BRIDGE_WORKER_WALLET, escrowJobTitle } from '../../src/gateways/node.js';
import { conflictJobStatus, createRustchainGateway } from '../../src/gateways/rustchain.js';
import { PLATFORM_FEE_WALLET, transferTxHash } from '../../src/sandbox/index.js';
import {
  BUYER,
  SELLER,
  closedLoopbackPort,
  deliveredJob,
  expectOk,
  fetchState,
  lockRequest,
  postControl,
  startHarness,
  TEST_TIMEOUT_MS,
} from './support.js';
import type { HttpHarness } from './support.js';

const PAYOUT_KEY = 'otc_payout:otc_0000000000000001';

describe('rustchain adapter against the sandbox node over HTTP: escrow jobs', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await startHarness();
    h.node.fund(SELLER, 100_000_000n);
  });
  afterEach(async () => h.close());

  it('locks reward + 5 % fee from the poster and returns the job with the exact reward', async () => {
    const job = expectOk(await h.gateway.lockEscrow(lockRequest({ amountMicroRtc: 10_000_000n })));
    expect(job).toMatchObject({ status: 'open', posterWallet: SELLER, rewardMicroRtc: 10_000_000n, title: escrowJobTitle('otc_0000000000000001', 'maker') });
    expect(job.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(h.node.balanceMicroRtc(SELLER)).toBe(100_000_000n - 10_500_000n);
    const stored = h.node.job(job.jobId);
    expect(stored?.tags).toEqual(['otc_bridge', 'escrow']);
    expect(stored?.category).toBe('other');
  });

  it('refuses a lock the poster cannot fund (400, rejected) and moves nothing', async () => {
    const outcome = await h.gateway.lockEscrow(lockRequest({ amountMicroRtc: 99_000_000n }));
    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 400, reason: 'Insufficient balance for escrow' });
    expect(h.node.balanceMicroRtc(SELLER)).toBe(100_000_000n);
    expect(h.node.jobs()).toHaveLength(0);
  });

  it('releases through claim, deliver and accept: reward to the worker, fee to the platform', async () => {
    const jobId = await deliveredJob(h.gateway, lockRequest({ amountMicroRtc: 2_000_000n }));
    expectOk(await h.gateway.acceptJob(jobId, SELLER));
    expect(expectOk(await h.gateway.getJob(jobId))?.status).toBe('completed');
    expect(h.node.balanceMicroRtc(BRIDGE_WORKER_WALLET)).toBe(2_000_000n);
    expect(h.node.balanceMicroRtc(PLATFORM_FEE_WALLET)).toBe(100_000n);
    expect(h.node.balanceMicroRtc(SELLER)).toBe(100_000_000n - 2_100_000n);
  });

  it('refunds reward + fee on cancel of an open job', async () => {
    const job = expectOk(await h.gateway.lockEscrow(lockRequest()));
    expectOk(await h.gateway.cancelJob(job.jobId, SELLER));
    expect(expectOk(await h.gateway.getJob(job.jobId))?.status).toBe('cancelled');
    expect(h.node.balanceMicroRtc(SELLER)).toBe(100_000_000n);
  });

  it('answers a repeated claim with 409 "Job is not open (status: claimed)" as rejected', async () => {
    const job = expectOk(await h.gateway.lockEscrow(lockRequest()));
    expectOk(await h.gateway.claimJob(job.jobId));
    const again = await h.gateway.claimJob(job.jobId);
    expect(again).toEqual({ kind: 'rejected', reason: 'Job is not open (status: claimed)', httpStatus: 409 });
    expect(again.kind === 'rejected' && conflictJobStatus(again.reason)).toBe('claimed');
  });

  it('refuses to cancel a claimed job before its expiry', async () => {
    const job = expectOk(await h.gateway.lockEscrow(lockRequest()));
    expectOk(await h.gateway.claimJob(job.jobId));
    const outcome = await h.gateway.cancelJob(job.jobId, SELLER);
    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 409 });
  });

  it('looks up a missing job as ok(null) and sees a node-side expiry with the escrow back', async () => {
    expect(await h.gateway.getJob('job_doesnotexist00')).toEqual({ kind: 'ok', value: null });
    const job = expectOk(await h.gateway.lockEscrow(lockRequest()));
    expect(await postControl(h.server.url, `expire-job/${job.jobId}`, {})).toBe(200);
    expect(expectOk(await h.gateway.getJob(job.jobId))?.status).toBe('expired');
    expect(h.node.balanceMicroRtc(SELLER)).toBe(100_000_000n);
  });

  it('finds a job by its exact title', async () => {
    const job = expectOk(await h.gateway.lockEscrow(lockRequest({ orderId: 'otc_find', party: 'taker' })));
    const found = expectOk(await h.gateway.findJobByTitle(escrowJobTitle('otc_find', 'taker')));
    expect(found?.jobId).toBe(job.jobId);
    expect(expectOk(await h.gateway.findJobByTitle(escrowJobTitle('otc_find', 'maker')))).toBeNull();
  });

  it('reads balances in exact micro-RTC', async () => {
    expect(expectOk(await h.gateway.balance(SELLER))).toBe(100_000_000n);
    expect(expectOk(await h.gateway.balance('nobody'))).toBe(0n);
  });
});

describe('rustchain adapter against the sandbox node over HTTP: payouts', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await startHarness();
    h.node.fund(BRIDGE_WORKER_WALLET, 50_000_000n);
  });
  afterEach(async () => h.close());

  it('queues a transfer with the deterministic tx_hash and lists it as pending for the buyer', async () => {
    const result = expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n }));
    expect(result).toMatchObject({ phase: 'pending', txHash: transferTxHash(PAYOUT_KEY) });
    expect(result.txHash).toHaveLength(32);
    const pending = expectOk(await h.gateway.listPending(BUYER));
    expect(pending).toEqual([
      { id: result.pendingId, fromWallet: BRIDGE_WORKER_WALLET, toWallet: BUYER, amountMicroRtc: 5_000_000n, reason: PAYOUT_KEY, status: 'pending', txHash: result.txHash },
    ]);
  });

  it('pays once for the same key sent twice: the repeat is the status look-up', async () => {
    const first = expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n }));
    const second = expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n }));
    expect(second).toEqual(first);
    expect(await postControl(h.server.url, `transfers/key/${encodeURIComponent(PAYOUT_KEY)}/confirm`, {})).toBe(200);
    const third = expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n }));
    expect(third.phase).toBe('confirmed');
    const state = await fetchState(h.server.url);
    expect(state.request_counts.idempotency_keys[PAYOUT_KEY]).toBe(3);
    expect(state.transfers).toHaveLength(1);
    expect(state.balances[BUYER]?.amount_i64).toBe(5_000_000);
    expect(state.balances[BRIDGE_WORKER_WALLET]?.amount_i64).toBe(45_000_000);
  });

  it('rejects the same key with a different body as 409 idempotency_key_conflict', async () => {
    expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n }));
    const conflict = await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 6_000_000n });
    expect(conflict).toEqual({ kind: 'rejected', reason: 'idempotency_key_conflict', httpStatus: 409 });
    expect(h.node.transfers()).toHaveLength(1);
  });

  it('rejects a transfer beyond the available balance with the node text', async () => {
    const outcome = await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 50_000_001n });
    expect(outcome).toEqual({ kind: 'rejected', reason: 'Insufficient available balance', httpStatus: 400 });
  });

  it('reports a voided transfer as voided and never moves the money', async () => {
    const queued = expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n }));
    expect(await postControl(h.server.url, `transfers/${queued.pendingId}/void`, {})).toBe(200);
    expect(expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 5_000_000n })).phase).toBe('voided');
    expect(h.node.balanceMicroRtc(BUYER)).toBe(0n);
  });

  it('confirms immediately when the sandbox is configured to', async () => {
    expect(await postControl(h.server.url, 'config', { auto_confirm: 'immediate' })).toBe(200);
    expect(expectOk(await h.gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 1n })).phase).toBe('confirmed');
    expect(h.node.balanceMicroRtc(BUYER)).toBe(1n);
  });

  it('refuses a transfer without the right admin key (401, rejected) and never echoes the key', async () => {
    const wrong = createRustchainGateway({ baseUrl: h.server.url, adminKey: 'not-the-key', timeoutMs: TEST_TIMEOUT_MS });
    try {
      const outcome = await wrong.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 1n });
      expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 401 });
      expect(JSON.stringify(outcome)).not.toContain('not-the-key');
    } finally {
      await wrong.close();
    }
  });
});

describe('rustchain adapter: amounts are exact in micro-RTC', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await startHarness();
    h.node.fund(SELLER, 30_000_000_000n);
    h.node.fund(BRIDGE_WORKER_WALLET, 30_000_000_000n);
  });
  afterEach(async () => h.close());

  it.each([100_000n, 9_999_999_999n, 1_005_000n, 10_000n])('locks and pays %s µRTC exactly', async (amountMicroRtc) => {
    const job = expectOk(await h.gateway.lockEscrow(lockRequest({ orderId: `otc_${amountMicroRtc}`, amountMicroRtc })));
    expect(job.rewardMicroRtc).toBe(amountMicroRtc);
    expect(expectOk(await h.gateway.getJob(job.jobId))?.rewardMicroRtc).toBe(amountMicroRtc);
    const fee = (amountMicroRtc * 5n) / 100n;
    expect(h.node.balanceMicroRtc(SELLER)).toBe(30_000_000_000n - amountMicroRtc - fee);
    const key = `otc_payout:otc_${amountMicroRtc}`;
    expectOk(await h.gateway.transfer({ key, toWallet: BUYER, amountMicroRtc }));
    expect(h.node.transferByKey(key)?.amountMicroRtc).toBe(amountMicroRtc);
    expect(expectOk(await h.gateway.listPending(BUYER))[0]?.amountMicroRtc).toBe(amountMicroRtc);
  });
});

describe('rustchain adapter: connection failures', () => {
  it('classifies a refused connection on 127.0.0.1 as rejected with no HTTP status', async () => {
    const port = await closedLoopbackPort();
    const gateway = createRustchainGateway({ baseUrl: `http://127.0.0.1:${port}`, adminKey: 'k', timeoutMs: TEST_TIMEOUT_MS });
    try {
      const outcome = await gateway.balance(SELLER);
      expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: null });
      expect(outcome.kind === 'rejected' && outcome.reason).toContain('ECONNREFUSED');
      expect((await gateway.transfer({ key: PAYOUT_KEY, toWallet: BUYER, amountMicroRtc: 1n })).kind).toBe('rejected');
    } finally {
      await gateway.close();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BRIDGE_WORKER_WALLET } from '../../src/gateways/node.js';
import { deliveredJob, expectOk, fetchState, lockRequest, postControl, SELLER, BUYER, startHarness } from './support.js';
import type { HttpHarness } from './support.js';

const ACCEPT = 'POST /agent/jobs/:id/accept';
const TRANSFER = 'POST /wallet/transfer';

describe('fault modes on the release (accept) map to the right outcome class', () => {
  let h: HttpHarness;
  let jobId: string;
  beforeEach(async () => {
    h = await startHarness();
    h.node.fund(SELLER, 10_000_000n);
    jobId = await deliveredJob(h.gateway, lockRequest({ amountMicroRtc: 1_000_000n }));
  });
  afterEach(async () => h.close());

  const injectOnce = async (mode: string): Promise<void> => {
    expect(await postControl(h.server.url, 'faults', { endpoint: ACCEPT, mode, count: 1 })).toBe(200);
  };

  const jobStatusInState = async (): Promise<string | undefined> =>
    (await fetchState(h.server.url)).jobs.find((j) => j.job_id === jobId)?.status;

  it('error_500 is unknown and has no effect', async () => {
    await injectOnce('error_500');
    const outcome = await h.gateway.acceptJob(jobId, SELLER);
    expect(outcome.kind).toBe('unknown');
    expect(outcome.kind === 'unknown' && outcome.reason).toMatch(/^http_500/);
    expect(await jobStatusInState()).toBe('delivered');
  });

  it('reject_400 is rejected and has no effect', async () => {
    await injectOnce('reject_400');
    expect(await h.gateway.acceptJob(jobId, SELLER)).toMatchObject({ kind: 'rejected', httpStatus: 400 });
    expect(await jobStatusInState()).toBe('delivered');
  });

  it('drop_before_effect is unknown and has no effect', async () => {
    await injectOnce('drop_before_effect');
    expect((await h.gateway.acceptJob(jobId, SELLER)).kind).toBe('unknown');
    expect(await jobStatusInState()).toBe('delivered');
    expect(h.node.balanceMicroRtc(BRIDGE_WORKER_WALLET)).toBe(0n);
  });

  it('timeout_after_effect is unknown although the release happened (visible in GET state)', async () => {
    await injectOnce('timeout_after_effect');
    const outcome = await h.gateway.acceptJob(jobId, SELLER);
    expect(outcome.kind).toBe('unknown');
    const state = await fetchState(h.server.url);
    expect(state.jobs.find((j) => j.job_id === jobId)?.status).toBe('completed');
    expect(state.balances[BRIDGE_WORKER_WALLET]?.amount_i64).toBe(1_000_000);
    // The look-up the driver does next resolves the unknown.
    expect(expectOk(await h.gateway.getJob(jobId))?.status).toBe('completed');
  });

  it('hang is unknown and has no effect', async () => {
    await injectOnce('hang');
    expect((await h.gateway.acceptJob(jobId, SELLER)).kind).toBe('unknown');
    expect(await jobStatusInState()).toBe('delivered');
  });

  it('a fault applies to the next N calls only, then the endpoint works again', async () => {
    expect(await postControl(h.server.url, 'faults', { endpoint: ACCEPT, mode: 'error_500', count: 2 })).toBe(200);
    expect((await h.gateway.acceptJob(jobId, SELLER)).kind).toBe('unknown');
    expect((await h.gateway.acceptJob(jobId, SELLER)).kind).toBe('unknown');
    expectOk(await h.gateway.acceptJob(jobId, SELLER));
    expect(h.node.requestCount(ACCEPT)).toBe(3);
  });

  it('refuses a fault for an endpoint the node does not have', async () => {
    expect(await postControl(h.server.url, 'faults', { endpoint: 'POST /nope', mode: 'hang', count: 1 })).toBe(400);
    expect(await postControl(h.server.url, 'faults', { endpoint: ACCEPT, mode: 'explode', count: 1 })).toBe(400);
  });
});

describe('fault modes on the payout transfer', () => {
  let h: HttpHarness;
  const key = 'otc_payout:otc_faulty';
  beforeEach(async () => {
    h = await startHarness();
    h.node.fund(BRIDGE_WORKER_WALLET, 10_000_000n);
  });
  afterEach(async () => h.close());

  it('a lost answer (timeout_after_effect) then a retry with the same key pays exactly once', async () => {
    h.node.injectFault(TRANSFER, 'timeout_after_effect', 1);
    expect((await h.gateway.transfer({ key, toWallet: BUYER, amountMicroRtc: 3_000_000n })).kind).toBe('unknown');
    const replay = expectOk(await h.gateway.transfer({ key, toWallet: BUYER, amountMicroRtc: 3_000_000n }));
    expect(replay.phase).toBe('pending');
    expect(h.node.confirmTransfer(Number(replay.pendingId))).toBe(true);
    expect(h.node.keyRequestCount(key)).toBe(2);
    expect(h.node.transfers()).toHaveLength(1);
    expect(h.node.balanceMicroRtc(BUYER)).toBe(3_000_000n);
  });

  it('drop_before_effect leaves no transfer behind', async () => {
    h.node.injectFault(TRANSFER, 'drop_before_effect', 1);
    expect((await h.gateway.transfer({ key, toWallet: BUYER, amountMicroRtc: 3_000_000n })).kind).toBe('unknown');
    expect(h.node.transfers()).toHaveLength(0);
    expect(h.node.keyRequestCount(key)).toBe(1);
  });
});

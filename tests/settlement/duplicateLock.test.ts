import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { generateWallet } from '../../src/crypto/signer.js';
import { escrowJobTitle } from '../../src/gateways/node.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { createUndiciTransport, type NodeTransport } from '../../src/gateways/transport.js';
import { DEFAULT_SANDBOX_ADMIN_KEY } from '../../src/sandbox/index.js';
import { postControl } from '../gateways/support.js';
import { facts } from '../support/orderFixtures.js';
import { NODE_TIMEOUT_MS, startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

/**
 * `POST /agent/jobs` is not idempotent at the node. A lock request delivered twice (a retrying
 * proxy, found by the simulator at seeds 1 and 2) used to leave a second escrow the ledger never
 * recorded. Now the lock step keeps the posting it records and cancels the other (docs/RELIABILITY.md).
 * Against the sandbox node over real HTTP, through a transport that delivers the posting twice.
 */
let h: SettlementHarness;
let gateways: RustchainGateway[] = [];
beforeEach(async () => {
  h = await startSettlementHarness();
});
afterEach(async () => {
  for (const g of gateways) await g.close();
  gateways = [];
  await h.close();
});

/** A proxy that retries every job posting once and answers the first (or the second) reply. */
function duplicatingGateway(options: { answer: 'first' | 'second'; afterBoth?: (jobIds: string[]) => Promise<void> }) {
  const inner = createUndiciTransport();
  const transport: NodeTransport = async (request) => {
    if (request.method !== 'POST' || new URL(request.url).pathname !== '/agent/jobs') return inner(request);
    const first = await inner(request);
    const second = await inner(request);
    await options.afterBoth?.([first, second].map((r) => (JSON.parse(r.body) as { job_id: string }).job_id));
    return options.answer === 'first' ? first : second;
  };
  const gateway = createRustchainGateway({ baseUrl: h.sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: NODE_TIMEOUT_MS, transport });
  gateways.push(gateway, { close: () => inner.close() } as RustchainGateway);
  return gateway;
}

const placeThrough = (gateway: RustchainGateway) => trader({ ...h, ledger: h.ledgerWith(gateway) }).place(h.seller, 'sell', { amountMicroRtc: 10_000_000n });
const jobsOf = (orderId: string) => h.node.jobs().filter((j) => j.title === escrowJobTitle(orderId, 'maker'));
const types = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).map((e) => e.type);

describe('a duplicated job posting', () => {
  it.each(['first', 'second'] as const)('keeps the posting it records (answered the %s) and cancels the other: the seller pays one escrow', async (answer) => {
    const before = h.node.balanceMicroRtc(h.seller.wallet);
    const placed = await placeThrough(duplicatingGateway({ answer }));
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('open');
    const jobs = jobsOf(orderId);
    expect(jobs).toHaveLength(2);
    const recorded = facts(placed.state).escrow.jobId;
    expect(jobs.find((j) => j.jobId === recorded)?.status).toBe('open');
    expect(jobs.find((j) => j.jobId !== recorded)?.status).toBe('cancelled');
    // One reward + the node's 5 % fee held; the stray's came back.
    expect(h.node.balanceMicroRtc(h.seller.wallet)).toBe(before - 10_500_000n);
    expect(await types(orderId)).toEqual(['OrderPlaced', 'EscrowLocked']);
  });

  it('parks the order as hijacked when another worker took the stray before the sweep (it cannot be cancelled)', async () => {
    const thief = generateWallet().wallet;
    const gateway = duplicatingGateway({
      answer: 'first',
      afterBoth: async ([, strayId]) => {
        expect(await postControl(h.sandbox.url, `jobs/${strayId}/take-as`, { worker_wallet: thief, deliver: false })).toBe(200);
      },
    });
    const placed = await placeThrough(gateway);
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('settlement_recovery');
    expect(facts(placed.state).recoveryReason).toBe('escrow_hijacked');
    expect(await types(orderId)).toEqual(['OrderPlaced', 'EscrowLocked', 'SettlementRecoveryRequired']);
    expect(jobsOf(orderId).map((j) => j.status).sort()).toEqual(['claimed', 'open']);
  });

  it('records nothing while the sweep cannot finish; the reconciler then adopts one posting and cancels the other', async () => {
    h.fault('GET /agent/jobs', 'error_500');
    const placed = await placeThrough(duplicatingGateway({ answer: 'first' }));
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('escrow_pending');
    expect(await types(orderId)).toEqual(['OrderPlaced', 'NodeCallFailed']);
    await h.reconcile();
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('open');
    expect(jobsOf(orderId).map((j) => j.status).sort()).toEqual(['cancelled', 'open']);
    expect(await types(orderId)).toEqual(['OrderPlaced', 'NodeCallFailed', 'EscrowLocked']);
  });

  it('adopts the first posting when the retry was refused for lack of funds (simulator seed 36), instead of recording a failed lock', async () => {
    const seller = generateWallet();
    h.node.fund(seller.wallet, 10_500_000n);
    const placed = await trader({ ...h, ledger: h.ledgerWith(duplicatingGateway({ answer: 'second' })) }).place(seller, 'sell', { amountMicroRtc: 10_000_000n });
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('open');
    expect(jobsOf(orderId).map((j) => j.status)).toEqual(['open']);
    expect(facts(placed.state).escrow.jobId).toBe(jobsOf(orderId)[0]?.jobId);
    expect(await types(orderId)).toEqual(['OrderPlaced', 'EscrowLocked']);
  });

  it('a lock refused with no posting of ours at the node is still a failed lock', async () => {
    const seller = generateWallet();
    h.node.fund(seller.wallet, 1_000_000n);
    const placed = await trader(h).place(seller, 'sell', { amountMicroRtc: 10_000_000n });
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('rejected');
    expect(await types(orderId)).toEqual(['OrderPlaced', 'EscrowLockFailed']);
  });

  it('a single posting is recorded with nothing cancelled (the no-op case)', async () => {
    const placed = await trader(h).place(h.seller, 'sell', { amountMicroRtc: 10_000_000n });
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('open');
    expect(jobsOf(orderId).map((j) => j.status)).toEqual(['open']);
    expect(h.node.jobs().some((j) => j.status === 'cancelled')).toBe(false);
  });
});

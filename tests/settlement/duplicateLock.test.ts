import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import type { AppendResult, EventStore, ExpectedVersion, NewEvent } from '../../src/eventstore/types.js';
import { driveOrder } from '../../src/settlement/driver.js';
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

/**
 * A process that dies right after an append that recorded a lock commits (SIGKILL after the
 * commit): every later append fails. The lock step used to append the lock and the park as two
 * writes, so a crash between them left the order open with the lock recorded, the park lost, and
 * the stray another worker took at the node unrecorded (simulator seeds 2205 and 3479).
 */
class DiesAfterLockAppend implements EventStore {
  readonly name = 'dies-after-lock-append';
  readonly appends: string[][] = [];
  private dead = false;
  constructor(private readonly inner: EventStore) {}
  async append(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
    if (this.dead) throw new Error('the process is gone');
    const result = await this.inner.append(stream, events, expected);
    this.appends.push(events.map((e) => e.type));
    if (events.some((e) => e.type === 'EscrowLocked')) this.dead = true;
    return result;
  }
  readStream: EventStore['readStream'] = (stream, fromVersion) => this.inner.readStream(stream, fromVersion);
  readAll: EventStore['readAll'] = (after, max) => this.inner.readAll(after, max);
  headPosition: EventStore['headPosition'] = () => this.inner.headPosition();
  listStreams: EventStore['listStreams'] = (prefix, after, max) => this.inner.listStreams(prefix, after, max);
  subscribeAll: EventStore['subscribeAll'] = (after, handler) => this.inner.subscribeAll(after, handler);
  close = async (): Promise<void> => undefined;
}

describe('a lock found taken by another worker is recorded and parked in one append (simulator seeds 2205 and 3479)', () => {
  const ctx = { correlationId: 'resume-after-restart', causationId: null, actor: 'reconciler', now: () => new Date(h.clock.nowMs) };
  /** The reconciler's resume drive of the order over a store whose process dies after the lock's append. */
  async function resumeDyingAfterLock(orderId: string) {
    const store = new DiesAfterLockAppend(h.store);
    const drive = driveOrder({ store, node: h.gateway, leases: h.leases, settleWindowSeconds: 86_400, leaseTtlMs: 60_000 }, orderId, ctx, 'resume');
    // The status the drive left, or the crash it met: an append after the lock's would meet it.
    const ended = await drive.then((r) => r.state.status, (error: Error) => error.message);
    return { store, ended };
  }
  const take = async (jobId: string) =>
    expect(await postControl(h.sandbox.url, `jobs/${jobId}/take-as`, { worker_wallet: generateWallet().wallet, deliver: false })).toBe(200);
  const recovery = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).find((e) => e.type === 'SettlementRecoveryRequired')?.data;

  it('a stray of a duplicated posting taken before the sweep: the park survives a crash right after the lock is written', async () => {
    // Both postings land, the sweep cannot list jobs: nothing is recorded (NodeCallFailed).
    h.fault('GET /agent/jobs', 'error_500');
    const placed = await placeThrough(duplicatingGateway({ answer: 'first' }));
    const orderId = facts(placed.state).orderId as string;
    expect(await types(orderId)).toEqual(['OrderPlaced', 'NodeCallFailed']);
    const [older, newer] = jobsOf(orderId);
    await take(older?.jobId as string);
    const { store, ended } = await resumeDyingAfterLock(orderId);
    expect(ended).toBe('settlement_recovery');
    expect(store.appends).toEqual([['EscrowLocked', 'SettlementRecoveryRequired']]);
    const order = (await h.ledger.getOrder(orderId))?.state;
    expect(order?.status).toBe('settlement_recovery');
    expect(facts(order)).toMatchObject({ recoveryReason: 'escrow_hijacked', escrow: { jobId: newer?.jobId } });
    expect((await recovery(orderId))?.detail).toContain(`a duplicated lock left a second escrow: the escrow job ${older?.jobId} is claimed by`);
    expect(jobsOf(orderId).map((j) => j.status)).toEqual(['claimed', 'open']);
  });

  it('the posting itself taken after a lost answer: recorded and parked in one append', async () => {
    h.fault('POST /agent/jobs', 'timeout_after_effect');
    h.fault('GET /agent/jobs', 'error_500');
    const placed = await trader(h).place(h.seller, 'sell', { amountMicroRtc: 10_000_000n });
    const orderId = facts(placed.state).orderId as string;
    const [job] = jobsOf(orderId);
    await take(job?.jobId as string);
    const { store, ended } = await resumeDyingAfterLock(orderId);
    expect(ended).toBe('settlement_recovery');
    expect(store.appends).toEqual([['EscrowLocked', 'SettlementRecoveryRequired']]);
    expect(facts((await h.ledger.getOrder(orderId))?.state)).toMatchObject({ recoveryReason: 'escrow_hijacked', escrow: { jobId: job?.jobId } });
  });

  it('an open posting with no stray is recorded alone, the order stays open (the no-op case)', async () => {
    h.fault('GET /agent/jobs', 'error_500');
    const placed = await placeThrough(duplicatingGateway({ answer: 'first' }));
    const orderId = facts(placed.state).orderId as string;
    const { store, ended } = await resumeDyingAfterLock(orderId);
    expect(ended).toBe('open');
    expect(store.appends).toEqual([['EscrowLocked']]);
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('open');
    expect(jobsOf(orderId).map((j) => j.status).sort()).toEqual(['cancelled', 'open']);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { generateWallet } from '../../src/crypto/signer.js';
import { escrowJobTitle } from '../../src/gateways/node.js';
import { postControl } from '../gateways/support.js';
import { facts } from '../support/orderFixtures.js';
import { startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';
import { runSimulation } from '../../src/sim/run.js';

/**
 * Bugs the deterministic simulator found (docs/RELIABILITY.md lists each with the seed that found
 * it), pinned here against the sandbox node over real HTTP, so they stay fixed whatever the
 * simulator's choices become.
 */
let h: SettlementHarness;
beforeEach(async () => {
  h = await startSettlementHarness();
});
afterEach(async () => {
  await h.close();
});

const types = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).map((e) => e.type);
const jobsTitled = (title: string) => h.node.jobs().filter((j) => j.title === title);

describe('a lock whose answer was lost, and whose job another worker took before the look-up (simulator seed 7)', () => {
  async function lockAnswerLostThenTaken(deliver: boolean) {
    // The lock takes effect but its answer is lost, and the look-up right after it fails too.
    h.fault('POST /agent/jobs', 'timeout_after_effect');
    h.fault('GET /agent/jobs', 'error_500');
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    expect(placed.state.status).toBe('escrow_pending');
    const [job] = jobsTitled(escrowJobTitle(orderId, 'maker'));
    expect(job?.status).toBe('open');
    expect(await postControl(h.sandbox.url, `jobs/${job?.jobId}/take-as`, { worker_wallet: generateWallet().wallet, deliver })).toBe(200);
    return { orderId, jobId: job?.jobId as string };
  }

  it('the reconciler records that job and parks the order as hijacked; it never locks a second escrow', async () => {
    const { orderId, jobId } = await lockAnswerLostThenTaken(true);
    await h.reconcile();
    const order = (await h.ledger.getOrder(orderId))?.state;
    expect(order?.status).toBe('settlement_recovery');
    expect(facts(order).recoveryReason).toBe('escrow_hijacked');
    expect(facts(order).escrow.jobId).toBe(jobId);
    expect(jobsTitled(escrowJobTitle(orderId, 'maker'))).toHaveLength(1);
    expect(h.node.requestCount('POST /agent/jobs')).toBe(1);
    expect(await types(orderId)).toEqual(['OrderPlaced', 'NodeCallFailed', 'EscrowLocked', 'SettlementRecoveryRequired']);
  });

  it('a job only claimed (not delivered) is the same hijack', async () => {
    const { orderId } = await lockAnswerLostThenTaken(false);
    await h.reconcile();
    expect(facts((await h.ledger.getOrder(orderId))?.state).recoveryReason).toBe('escrow_hijacked');
    expect(h.node.requestCount('POST /agent/jobs')).toBe(1);
  });

  it('an open job is still simply recorded (the no-op case: nothing was taken)', async () => {
    h.fault('POST /agent/jobs', 'timeout_after_effect');
    h.fault('GET /agent/jobs', 'error_500');
    const placed = await trader(h).place(h.seller, 'sell');
    const orderId = facts(placed.state).orderId as string;
    await h.reconcile();
    expect((await h.ledger.getOrder(orderId))?.state.status).toBe('open');
    expect(await types(orderId)).toEqual(['OrderPlaced', 'NodeCallFailed', 'EscrowLocked']);
    expect(h.node.requestCount('POST /agent/jobs')).toBe(1);
  });
});

/**
 * The seeds themselves, cut to the shortest run that still failed before the fix (each left an
 * escrow job another worker took at the node, unrecorded, its order open: a crash between the
 * lock's append and the park's). The deterministic pin is tests/settlement/duplicateLock.test.ts
 * ("recorded and parked in one append"); these show the seeds' whole runs now end clean.
 */
describe('orphan escrow job after a crash between the lock and the park (simulator seeds 2205 and 3479)', () => {
  it.each([[2205, 100], [3479, 130]])('seed %i at %i steps runs clean, every escrow job at the node accounted for', async (seed, steps) => {
    const result = await runSimulation({ seed, steps });
    expect(result.violation, result.violation ? `${result.violation.message}\n${result.violation.trace.join('\n')}` : '').toBeNull();
    expect(result.checks['no_orphan_escrow']).toBeGreaterThan(0);
    expect(result.faults['ledger_crash']).toBeGreaterThan(0);
    expect(result.faults['escrow_hijack']).toBeGreaterThan(0);
  }, 90_000);
});

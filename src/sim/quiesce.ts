/**
 * Liveness (docs/RELIABILITY.md): faults stop, the chain leg settles (buyers lock what is still
 * lockable, sellers claim about half, every other swap is refunded from T on), and past every
 * deadline the reconciler and the follower get a bounded number of passes to bring every order to
 * a terminal state or a visible recovery state; then the stricter money and read-model checks run.
 */
import { heldEscrow, isTerminal, type OrderState } from '../aggregates/order/index.js';
import { chainClaim, chainOrderOf, chainRefund, follow, lockFor } from './chainActors.js';
import { Violation, type Sim } from './context.js';
import { checkClaimsPaid, checkReadModels, checkStep, checkTrades } from './stepChecks.js';
import { SIM_SETTINGS, type LedgerInstance } from './world.js';

function stopFaults(sim: Sim): void {
  sim.net.faultRate = 0;
  sim.net.restartingFor = 0;
  sim.chain.options.faultRate = 0;
  for (const i of sim.instances) i.instance.crashRate = 0;
  sim.restartDead(1);
  sim.node.setAutoConfirm('immediate');
  for (const t of sim.node.transfers()) if (t.phase === 'pending') sim.node.confirmTransfer(t.pendingId);
  sim.log('faults stop');
}

const first = (sim: Sim): LedgerInstance => sim.instances[0] as LedgerInstance;

/** Mines until the pool is in a final block and the follower has read up to it. */
async function settleChain(sim: Sim): Promise<void> {
  for (let round = 0; round < sim.chain.options.confirmations + 6; round++) {
    sim.chain.mine(BigInt(sim.ts()));
    const line = await follow(first(sim));
    sim.log(`settle chain: ${line}`);
    const caughtUp = line.startsWith('follower caught_up') || line.startsWith('follower advanced');
    if (caughtUp && sim.chain.pending().length === 0 && round >= sim.chain.options.confirmations) return;
  }
}

/** Every matched chain order still in its lock window and without a live swap gets its buyer's valid lock. */
async function lockWhatIsLockable(sim: Sim, states: ReadonlyMap<string, OrderState>): Promise<void> {
  const head = sim.chain.head().timestampSeconds;
  const live = new Set(sim.chain.allSwaps().filter((s) => !s.claimed && !s.refunded).map((s) => s.terms.hashlock.slice(2).toLowerCase()));
  for (const [orderId, state] of states) {
    const order = chainOrderOf(orderId, state);
    if (order === null || live.has(order.hashlock.slice(2).toLowerCase())) continue;
    if (BigInt(Math.floor(Date.parse(order.state.quoteLeg?.lockBy ?? '') / 1000)) <= head + 60n) continue;
    sim.log(`liveness: ${lockFor(sim, order, 'valid')}`);
  }
}

/**
 * The refund of an escrow job the ledger's worker holds waits for the job's expiry at the node
 * (src/settlement/custody.ts): the latest such expiry among refund_pending orders, in ms, or null.
 */
function heldRefundsDueMs(sim: Sim, states: ReadonlyMap<string, OrderState>): number | null {
  let latest: number | null = null;
  for (const state of states.values()) {
    const escrow = state.status === 'refund_pending' ? heldEscrow(state) : null;
    const job = escrow?.hold === undefined ? undefined : sim.node.job(escrow.jobId);
    if (job !== undefined) latest = Math.max(latest ?? 0, job.expiresAt * 1000);
  }
  return latest;
}

/** Past every expires_at, settle_by and T on the first pass, past the stuck threshold on each later one, and past every held job's expiry a refund waits for. */
function advanceClock(sim: Sim, pass: number, states: ReadonlyMap<string, OrderState>): void {
  sim.clock.nowMs += pass === 1 ? 2 * 3_600_000 + SIM_SETTINGS.settleWindowSeconds * 1000 : SIM_SETTINGS.stuckMs + 1_000;
  const heldMs = heldRefundsDueMs(sim, states);
  if (heldMs !== null && sim.clock.nowMs <= heldMs) {
    sim.clock.nowMs = heldMs + 1_000;
    sim.checker.counts['liveness_waited_held_refund'] = (sim.checker.counts['liveness_waited_held_refund'] ?? 0) + 1;
    sim.log(`liveness: the clock moves past the expiry of every held escrow job a refund waits for`);
  }
}

export async function quiesce(sim: Sim, livenessPasses: number): Promise<void> {
  stopFaults(sim);
  await lockWhatIsLockable(sim, await sim.states());
  await settleChain(sim);
  sim.log(`liveness: ${await chainClaim(sim, true)}`);
  await settleChain(sim);
  await checkStep(sim);
  let unfinished: string[] = [];
  for (let pass = 1; pass <= livenessPasses; pass++) {
    advanceClock(sim, pass, await sim.states());
    sim.chain.mine(BigInt(sim.ts()));
    sim.log(`liveness: ${chainRefund(sim, true)}`);
    await settleChain(sim);
    const summary = await first(sim).reconcile(SIM_SETTINGS.stuckMs);
    sim.countLapses(summary.lapsed);
    sim.log(`liveness pass ${pass}: examined ${summary.examined}, lapsed ${summary.lapsed}, left ${summary.left}`);
    await checkStep(sim);
    const states = await sim.states();
    unfinished = [...states].filter(([, s]) => !isTerminal(s.status) && s.status !== 'settlement_recovery').map(([id, s]) => `${id} (${s.status})`);
    sim.checker.counts['liveness_pass'] = (sim.checker.counts['liveness_pass'] ?? 0) + 1;
    if (unfinished.length === 0) break;
  }
  if (unfinished.length > 0) throw new Violation(unfinished.map((u) => `liveness: ${u} is neither terminal nor in visible recovery after ${livenessPasses} reconciler passes`));
  const states = await sim.states();
  const quiet = sim.checker.quiescent(states);
  if (quiet.length > 0) throw new Violation(quiet);
  checkClaimsPaid(sim, states);
  await checkReadModels(sim);
  checkTrades(sim, states);
}

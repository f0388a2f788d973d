/**
 * The worker's hold on the escrow job from the match on (quote-chain.md, custody), and the refund
 * of a held job. The node lets the poster cancel an `open` job and its endpoints do not
 * authenticate, so a seller could take the RTC back while the buyer locks the quote. A claimed job
 * cannot be cancelled before its expiry: the ledger's worker claims it before the buyer is offered
 * a lock. The hold is one driver step like the others: authorised by the Matched (or the taker's
 * EscrowLocked) event already in the stream, recorded by EscrowHeld after the node answered, and
 * every outcome that may have taken effect is looked up.
 *
 * Refund of a held job: the project waits for the job's expiry at the node, then cancels it, which
 * returns reward and fee to the poster in full (accept + a transfer back would cost the seller the
 * node's 5 % fee). The cost to the seller is time: docs/QUOTE-CHAIN.md, "Custody".
 */
import type { DueStep } from '../aggregates/order/index.js';
import { BRIDGE_WORKER_WALLET, type EscrowJob, type NodeGateway, type NodeOutcome } from '../gateways/node.js';
import { hijackDetail, hijacked, hijackerOf } from './hijack.js';
import type { StepResult } from './steps.js';

type HoldStep = Extract<DueStep, { kind: 'hold' }>;
type RefundStep = Extract<DueStep, { kind: 'refund' }>;

/** The node says the escrow is gone (cancelled, expired, missing) while the order needs it: an alert and an operator case. */
export const ESCROW_LOST = 'escrow_lost';

const ours = (job: EscrowJob): boolean => job.workerWallet === BRIDGE_WORKER_WALLET;
const isHeldByUs = (job: EscrowJob): boolean => ours(job) && (job.status === 'claimed' || job.status === 'delivered');

const failedHold = (key: string, outcome: 'rejected' | 'unknown', reason: string): StepResult => ({
  commands: [{ type: 'RecordNodeCallFailed', step: 'hold', key, outcome, reason }],
  outcome,
  continue: false,
});

/** The escrow of a live order is no longer at the node: parked for an operator, reported as `escrow_lost` (an alert). */
export function escrowLost(status: string, why: string): StepResult {
  return {
    commands: [{ type: 'RequireRecovery', reason: `escrow_job_${status}`, detail: `the escrow job is ${status} at the node ${why}` }],
    outcome: ESCROW_LOST,
    continue: false,
  };
}

function held(step: HoldStep, job: EscrowJob, now: Date): StepResult {
  const expiresAt = job.expiresAt === null ? null : new Date(job.expiresAt);
  return {
    commands: [{ type: 'RecordEscrowHeld', jobId: step.jobId, workerWallet: BRIDGE_WORKER_WALLET, expiresAt, now }],
    outcome: 'ok',
    continue: true,
  };
}

/** What a look-up of the job says of the hold; null when the job is still open (claim it). */
function holdFromJob(step: HoldStep, job: EscrowJob | null, now: Date): StepResult | null {
  if (job === null) return escrowLost('missing', 'while its order is matched');
  const hijacker = hijackerOf(job);
  if (hijacker !== null) return hijacked(hijackDetail(job, hijacker));
  if (isHeldByUs(job)) return held(step, job, now);
  if (job.status === 'open') return null;
  // Cancelled or expired behind the ledger's back, or completed with no settlement claimed.
  return escrowLost(job.status, 'before the ledger\'s worker could hold it');
}

/**
 * Look the job up, claim it while it is open, and look it up again: the job's worker at the node
 * decides, so a retried claim (409 "not open") or a lost answer is recorded the same as a fresh one.
 */
export async function holdStep(node: NodeGateway, step: HoldStep, now: Date): Promise<StepResult> {
  const before = await node.getJob(step.jobId);
  if (before.kind !== 'ok') return failedHold(step.key, 'unknown', `job look-up failed: ${before.reason}`);
  const known = holdFromJob(step, before.value, now);
  if (known !== null) return known;
  const claim = await node.claimJob(step.jobId);
  const after = await node.getJob(step.jobId);
  if (after.kind !== 'ok') return failedHold(step.key, claim.kind === 'rejected' ? 'rejected' : 'unknown', reasonOf(claim, after));
  const decided = holdFromJob(step, after.value, now);
  if (decided !== null) return decided;
  // Still open: the claim did not take effect; the next drive tries again.
  return failedHold(step.key, 'rejected', claim.kind === 'ok' ? 'the claim was answered but the job is still open' : claim.reason);
}

const reasonOf = (claim: NodeOutcome<void>, lookup: NodeOutcome<unknown>): string =>
  `${claim.kind === 'ok' ? 'claimed' : claim.reason}; job look-up failed: ${lookup.kind === 'ok' ? 'ok' : lookup.reason}`;

/** A refund that must wait: nothing is written, the reconciler asks again on a later pass. */
const WAITING: StepResult = { commands: [], outcome: 'ok', continue: false };

/**
 * The refund of a held job: cancelled (refunding reward and fee) once the node has expired it, never
 * before (the node refuses a claimed job's cancel until then). The job's status at the node decides,
 * not the ledger's clock: a cancel refused while the job is still held by our worker waits.
 * `settleFromJob` answers every other status as a refund of an un-held job would. `gate` is the
 * final look-up of a chain-verified order (refundGate.ts), run right before the cancel: a result
 * from it holds the refund back.
 */
export async function heldRefundStep(
  node: NodeGateway,
  step: RefundStep,
  now: Date,
  settleFromJob: (lookup: NodeOutcome<EscrowJob | null>, afterRefusal: boolean) => StepResult | null,
  refunded: () => StepResult,
  gate: () => Promise<StepResult | null>,
): Promise<StepResult> {
  const lookup = await node.getJob(step.jobId);
  if (lookup.kind !== 'ok') return { commands: [{ type: 'RecordNodeCallFailed', step: 'refund', key: step.key, outcome: 'unknown', reason: lookup.reason }], outcome: 'unknown', continue: false };
  const job = lookup.value;
  // Delivered by our worker is a release begun, never a refund: parked (refund_blocked), like any held job that cannot be cancelled.
  if (job === null || job.status !== 'claimed' || !ours(job)) {
    // An open job (never expected once held) is simply cancelled, as an un-held job would be.
    if (job?.status !== 'open') return settleFromJob(lookup, true) ?? WAITING;
    return (await gate()) ?? cancelHeld(node, step, refunded, settleFromJob);
  }
  if (!pastExpiry(job, now)) return WAITING;
  // Only now, right before the cancel, is the chain looked up again (not on every pass before the expiry).
  return (await gate()) ?? cancelHeld(node, step, refunded, settleFromJob);
}

async function cancelHeld(
  node: NodeGateway,
  step: RefundStep,
  refunded: () => StepResult,
  settleFromJob: (lookup: NodeOutcome<EscrowJob | null>, afterRefusal: boolean) => StepResult | null,
): Promise<StepResult> {
  const result = await node.cancelJob(step.jobId, step.wallet);
  if (result.kind === 'ok') return refunded();
  const again = await node.getJob(step.jobId);
  if (again.kind === 'ok' && again.value?.status === 'claimed' && ours(again.value)) return WAITING;
  return settleFromJob(again, true) ?? WAITING;
}

/** The node cancels a claimed job only after its expiry; the ledger's clock only decides when to ask. */
function pastExpiry(job: EscrowJob, now: Date): boolean {
  return job.expiresAt !== null && now.getTime() > Date.parse(job.expiresAt);
}

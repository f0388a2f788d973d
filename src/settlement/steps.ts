import { escrowHeld, type DueStep, type OrderCommand, type PlacedOrder, type StepMode } from '../aggregates/order/index.js';
import { watchEscrow } from './escrowWatch.js';
import { ESCROW_HIJACKED, hijackDetail, hijacked, hijackerOf } from './hijack.js';
import { escrowJobTitle, MAX_JOB_TTL_SECONDS, type EscrowJob, type NodeGateway, type NodeOutcome } from '../gateways/node.js';
import { releaseEscrow } from './release.js';
import { heldRefundStep, holdStep } from './custody.js';
import { refundGate, type FinalLookUp } from './refundGate.js';

/**
 * How a node call ended (see gateways/node.ts); a look-up that learned nothing new is `ok`.
 * `hijacked`: the escrow job was taken by a worker other than the ledger's (an alert).
 * `escrow_lost`: the job of a live order was cancelled or expired at the node behind the ledger's back (an alert).
 * `held_back`: a chain-verified refund not sent, since the final look-up just before it could not
 * prove that no swap under the hashlock can still be claimed (refundGate.ts); no node call was made.
 */
export type StepOutcome = 'ok' | 'rejected' | 'unknown' | 'hijacked' | 'escrow_lost' | 'held_back';

/** What one external step produced: result commands to append, and whether to go on driving. */
export interface StepResult {
  readonly commands: readonly OrderCommand[];
  readonly outcome: StepOutcome;
  readonly continue: boolean;
}

export interface StepDeps {
  readonly node: NodeGateway;
  /** The final look-up a chain-verified refund runs right before its node call (refundGate.ts); absent in manual mode. */
  readonly finalLookUp?: FinalLookUp | null;
}

/** The margin an escrow job outlives the longest wait after its order's expiry, so it never expires under a live order. */
const ESCROW_MARGIN_SECONDS = 3600;

/**
 * How long after `expires_at` an order may still need its escrow (the "tail"): the settle window
 * in manual mode; with a chain, also a match just before expiry whose lock lands at `lock_by` with
 * the longest timelock, plus the release slack (T <= job expiry - release slack, quote-chain.md).
 */
export function escrowTailSeconds(settleWindowSeconds: number, quoteTailSeconds = 0): number {
  return Math.max(settleWindowSeconds, quoteTailSeconds);
}

/** The chain-verified part of the tail: quote lock window + claim window max + release slack. */
export function quoteTailSecondsFor(w: { lockWindowSeconds: number; claimWindowMaxSeconds: number; escrowReleaseSlackSeconds?: number }): number {
  return w.lockWindowSeconds + w.claimWindowMaxSeconds + (w.escrowReleaseSlackSeconds ?? 0);
}

/** The node keeps an escrow job this long: order TTL + the tail + an hour, within its cap. */
export function escrowTtlSeconds(orderTtlSeconds: number, tailSeconds: number): number {
  return Math.min(orderTtlSeconds + tailSeconds + ESCROW_MARGIN_SECONDS, MAX_JOB_TTL_SECONDS);
}

/** The longest order TTL whose escrow still fits the node's cap uncut: the inverse of the above. */
export function maxOrderTtlSecondsFor(tailSeconds: number): number {
  return MAX_JOB_TTL_SECONDS - tailSeconds - ESCROW_MARGIN_SECONDS;
}

export async function runStep(
  deps: StepDeps,
  state: PlacedOrder,
  step: DueStep,
  mode: StepMode,
  tailSeconds: number,
  now: Date,
): Promise<StepResult> {
  switch (step.kind) {
    case 'lock': return lockStep(deps.node, state, step, tailSeconds, now);
    case 'lock_lookup': return lockLookupStep(deps.node, state, step, now);
    case 'release': return releaseStep(deps.node, state, step, mode, now);
    case 'release_lookup': return releaseLookupStep(deps.node, step, now);
    case 'escrow_watch': return watchEscrow(deps.node, step);
    case 'payout':
    case 'payout_lookup': return payoutStep(deps.node, step, now);
    case 'hold': return holdStep(deps.node, step, now);
    case 'refund': return refundStep(deps, state, step, mode, now);
  }
}

const failed = (step: DueStep['kind'], key: string, outcome: 'rejected' | 'unknown', reason: string): StepResult => ({
  commands: [{ type: 'RecordNodeCallFailed', step, key, outcome, reason }],
  outcome,
  continue: false,
});

type LockStep = Extract<DueStep, { kind: 'lock' | 'lock_lookup' }>;

/** A lock whose answer was lost may have created the job: find it, else lock (the next step). */
async function lockLookupStep(node: NodeGateway, state: PlacedOrder, step: LockStep, now: Date): Promise<StepResult> {
  const found = await node.findJobByTitle(escrowJobTitle(state.orderId, step.party), isOurEscrowHeldOrTaken(step));
  if (found.kind !== 'ok') return failed('lock_lookup', step.key, 'unknown', reasonOf(found));
  if (found.value) return lockedOrHijacked(node, state, step, found.value, now);
  return NOTHING_FOUND;
}

/** At most this many stray postings are cancelled per lock (a proxy that retries more often is broken). */
const MAX_STRAYS_PER_LOCK = 3;
/** Where a stray posting can still hold the seller's RTC: open (cancel it), or taken by another worker. */
const STRAY_STATUSES = ['open', 'claimed', 'delivered'] as const;

type Sweep = { readonly kind: 'clean' } | { readonly kind: 'incomplete' } | { readonly kind: 'taken'; readonly job: EscrowJob; readonly worker: string };

/**
 * `POST /agent/jobs` is not idempotent at the node: a lock request delivered twice (a retrying
 * proxy) leaves two jobs under the order's title, both ours (same poster, same amount). Any one of
 * them can be the order's escrow; the ledger keeps the one it records and cancels the others (a
 * cancel refunds the poster's reward and fee), so no escrow stays at the node unrecorded. A proxy
 * answers only after its last attempt, so every duplicate exists by the time the answer (or the
 * look-up after a lost one) arrives. A stray another worker already took cannot be cancelled: it
 * is reported, and the order parked for an operator like any hijacked escrow.
 */
async function sweepStrayLocks(node: NodeGateway, state: PlacedOrder, step: LockStep, keptJobId: string): Promise<Sweep> {
  const title = escrowJobTitle(state.orderId, step.party);
  const stray = (job: EscrowJob): boolean =>
    job.jobId !== keptJobId && isOurEscrow(step)({ ...job, status: 'open' }) && (job.status === 'open' || hijackerOf(job) !== null);
  for (let i = 0; i < MAX_STRAYS_PER_LOCK; i++) {
    const found = await node.findJobByTitle(title, stray, STRAY_STATUSES);
    if (found.kind !== 'ok') return { kind: 'incomplete' };
    if (found.value === null) return { kind: 'clean' };
    const worker = hijackerOf(found.value);
    if (worker !== null) return { kind: 'taken', job: found.value, worker };
    if ((await node.cancelJob(found.value.jobId, step.wallet)).kind !== 'ok') return { kind: 'incomplete' };
  }
  return { kind: 'incomplete' };
}

/**
 * The lock recorded once its strays are gone. A sweep that could not finish records nothing (an
 * unknown outcome): the look-up next time adopts one posting and sweeps again.
 */
async function lockedWithoutStrays(node: NodeGateway, state: PlacedOrder, step: LockStep, jobId: string, now: Date): Promise<StepResult> {
  const sweep = await sweepStrayLocks(node, state, step, jobId);
  if (sweep.kind === 'clean') return locked(step, jobId, now);
  if (sweep.kind === 'incomplete') return failed(step.kind, step.key, 'unknown', 'stray_escrow_sweep_incomplete');
  return lockedAndHijacked(step, jobId, `a duplicated lock left a second escrow: ${hijackDetail(sweep.job, sweep.worker)}`, now);
}

/**
 * The lock recorded and the order parked as hijacked in one command, so in one append: two appends
 * let a crash between them record the lock and lose the park, and a stray another worker took then
 * stayed at the node unrecorded with the order open (simulator seeds 2205 and 3479).
 */
function lockedAndHijacked(step: LockStep, jobId: string, detail: string, now: Date): StepResult {
  const alert = hijacked(detail);
  return { ...alert, commands: [{ type: 'RecordEscrowLocked', party: step.party, jobId, now, parkAs: { reason: ESCROW_HIJACKED, detail } }] };
}

/**
 * Our posting still holding the seller's RTC: open, or already taken by another worker between the
 * lost answer and this look-up. Looking for open jobs only would miss a taken one, lock a second
 * time and leave the first escrow unrecorded at the node, held by whoever took it.
 */
function isOurEscrowHeldOrTaken(step: LockStep): (job: EscrowJob) => boolean {
  return (job) => isOurEscrow(step)({ ...job, status: 'open' }) && (job.status === 'open' || hijackerOf(job) !== null);
}

/** A found escrow is recorded either way; one taken by another worker parks the order as hijacked. */
async function lockedOrHijacked(node: NodeGateway, state: PlacedOrder, step: LockStep, job: EscrowJob, now: Date): Promise<StepResult> {
  const hijacker = hijackerOf(job);
  if (hijacker === null) return lockedWithoutStrays(node, state, step, job.jobId, now);
  return lockedAndHijacked(step, job.jobId, hijackDetail(job, hijacker), now);
}

/** A look-up that found nothing to record: the driver goes on with the step itself. */
const NOTHING_FOUND: StepResult = { commands: [], outcome: 'ok', continue: true };

async function lockStep(
  node: NodeGateway,
  state: PlacedOrder,
  step: LockStep,
  tailSeconds: number,
  now: Date,
): Promise<StepResult> {
  const orderId = state.orderId;
  const title = escrowJobTitle(orderId, step.party);
  const ours = isOurEscrow(step);
  const result = await node.lockEscrow({
    orderId,
    party: step.party,
    posterWallet: step.wallet,
    amountMicroRtc: step.amountMicroRtc,
    ttlSeconds: escrowTtlSeconds(state.ttlSeconds, tailSeconds),
  });
  if (result.kind === 'ok') return ours(result.value) ? lockedWithoutStrays(node, state, step, result.value.jobId, now) : wrongEscrow(node, step, result.value);
  if (result.kind === 'rejected') return lockRejected(node, state, step, result.reason, now);
  const found = await node.findJobByTitle(title, isOurEscrowHeldOrTaken(step));
  if (found.kind === 'ok' && found.value) return lockedOrHijacked(node, state, step, found.value, now);
  return failed('lock', step.key, 'unknown', result.reason);
}

/**
 * A refusal proves only that this delivery did not lock: a proxy's earlier attempt may have (the
 * second posting of a duplicated lock refused for lack of funds, found by the simulator at seed
 * 36). So a refused lock looks for our posting first, adopts it if there is one, and records the
 * refusal only when there is none; a look-up that fails leaves the outcome unknown.
 */
async function lockRejected(node: NodeGateway, state: PlacedOrder, step: LockStep, reason: string, now: Date): Promise<StepResult> {
  const found = await node.findJobByTitle(escrowJobTitle(state.orderId, step.party), isOurEscrowHeldOrTaken(step));
  if (found.kind !== 'ok') return failed(step.kind, step.key, 'unknown', `${reason}; ${reasonOf(found)}`);
  if (found.value) return lockedOrHijacked(node, state, step, found.value, now);
  return { commands: [{ type: 'RecordEscrowLockFailed', party: step.party, reason }], outcome: 'rejected', continue: false };
}

/**
 * Only an open job posted by the seller for exactly the order's amount is this order's escrow: a
 * title alone proves nothing, since anyone can post a job under any title.
 */
function isOurEscrow(step: LockStep): (job: EscrowJob) => boolean {
  return (job) =>
    job.status === 'open' && job.rewardMicroRtc === step.amountMicroRtc && job.posterWallet.toLowerCase() === step.wallet.toLowerCase();
}

/** The node locked something other than what was asked: give it back and refuse the lock. */
async function wrongEscrow(node: NodeGateway, step: LockStep, job: EscrowJob): Promise<StepResult> {
  const returned = await node.cancelJob(job.jobId, step.wallet);
  const reason = `lock_mismatch: the node locked ${job.rewardMicroRtc} micro-RTC for ${job.posterWallet}` +
    (returned.kind === 'ok' ? '; that job was cancelled' : `; cancelling job ${job.jobId} failed (${returned.reason})`);
  return { commands: [{ type: 'RecordEscrowLockFailed', party: step.party, reason }], outcome: 'rejected', continue: false };
}

function locked(step: LockStep, jobId: string, now: Date): StepResult {
  return { commands: [{ type: 'RecordEscrowLocked', party: step.party, jobId, now }], outcome: 'ok', continue: true };
}

async function releaseStep(
  node: NodeGateway,
  state: PlacedOrder,
  step: Extract<DueStep, { kind: 'release' }>,
  mode: StepMode,
  now: Date,
): Promise<StepResult> {
  const target = { jobId: step.jobId, posterWallet: step.wallet, orderId: state.orderId };
  const outcome = await releaseEscrow(node, target, { mode, held: escrowHeld(state) });
  switch (outcome.kind) {
    case 'released':
      return { commands: [{ type: 'RecordEscrowReleased', jobId: step.jobId, now }], outcome: 'ok', continue: true };
    case 'not_released':
      return { commands: [{ type: 'RevertSettlement', reason: outcome.reason }], outcome: 'rejected', continue: false };
    case 'recovery':
      if (outcome.reason === ESCROW_HIJACKED) return hijacked(outcome.detail);
      return { commands: [{ type: 'RequireRecovery', reason: outcome.reason, detail: outcome.detail }], outcome: 'unknown', continue: false };
  }
}

/**
 * A release parked in recovery is resolved by looking the job up, which changes nothing at the
 * node: completed there means released here, and settlement goes on to the payout. Anything else
 * waits for an operator's re-drive.
 */
async function releaseLookupStep(node: NodeGateway, step: Extract<DueStep, { kind: 'release_lookup' }>, now: Date): Promise<StepResult> {
  const lookup = await node.getJob(step.jobId);
  if (lookup.kind !== 'ok') return { commands: [], outcome: 'unknown', continue: false };
  const hijacker = lookup.value === null ? null : hijackerOf(lookup.value);
  if (lookup.value !== null && hijacker !== null) return hijacked(hijackDetail(lookup.value, hijacker));
  if (lookup.value?.status !== 'completed') return { commands: [], outcome: 'ok', continue: false };
  return { commands: [{ type: 'RecordEscrowReleased', jobId: step.jobId, now }], outcome: 'ok', continue: true };
}

async function payoutStep(node: NodeGateway, step: Extract<DueStep, { kind: 'payout' | 'payout_lookup' }>, now: Date): Promise<StepResult> {
  const request = { key: step.key, toWallet: step.to, amountMicroRtc: step.amountMicroRtc };
  let result = await node.transfer(request);
  // The same request is also the look-up, and the node never pays a key twice: ask once more.
  if (result.kind === 'unknown') result = await node.transfer(request);
  if (result.kind === 'ok') {
    const { phase, txHash } = result.value;
    return {
      commands: [{ type: 'RecordPayoutStatus', payoutKey: step.key, txHash, phase, now }],
      outcome: phase === 'voided' ? 'rejected' : 'ok',
      continue: phase === 'confirmed',
    };
  }
  if (step.kind === 'payout_lookup' && result.kind === 'unknown') return failed('payout_lookup', step.key, 'unknown', result.reason);
  const reason = result.kind === 'rejected' ? 'payout_rejected' : 'payout_outcome_unknown';
  return { commands: [{ type: 'RequireRecovery', reason, detail: result.reason }], outcome: result.kind, continue: false };
}

/**
 * The refund: what the job's status already proves is recorded as it is; the cancel (the call that
 * moves the RTC) goes out only past the final look-up's gate (refundGate.ts) for a chain-verified order.
 */
async function refundStep(deps: StepDeps, state: PlacedOrder, step: Extract<DueStep, { kind: 'refund' }>, mode: StepMode, now: Date): Promise<StepResult> {
  const node = deps.node;
  const gate = () => refundGate(deps.finalLookUp, state, step);
  if (step.held) {
    return heldRefundStep(node, step, now, (lookup, afterRefusal) => refundFromJob(step, lookup, now, afterRefusal), () => refunded(step, now), gate);
  }
  if (mode === 'resume') {
    const settled = refundFromJob(step, await node.getJob(step.jobId), now, false);
    if (settled) return settled;
  }
  const heldBack = await gate();
  if (heldBack) return heldBack;
  const result = await node.cancelJob(step.jobId, step.wallet);
  if (result.kind === 'ok') return refunded(step, now);
  return refundFromJob(step, await node.getJob(step.jobId), now, true) ?? failed('refund', step.key, result.kind, result.reason);
}

const parked = (reason: string, detail: string): StepResult => ({
  commands: [{ type: 'RequireRecovery', reason, detail }],
  outcome: 'rejected',
  continue: false,
});

/**
 * What the job's status at the node says of a refund; null when only trying (again) can tell.
 * Cancelled or expired: the escrow is already back with its poster. Completed: it was released,
 * never to be refunded. Missing, or held by a worker after our cancel was refused: retrying would
 * fail forever out of sight, so the order is parked where an operator sees it.
 */
function refundFromJob(
  step: Extract<DueStep, { kind: 'refund' }>,
  lookup: NodeOutcome<EscrowJob | null>,
  now: Date,
  afterRefusal: boolean,
): StepResult | null {
  if (lookup.kind !== 'ok') return null;
  const job = lookup.value;
  if (job === null) return parked('escrow_job_missing', 'the node has no such job');
  const hijacker = hijackerOf(job);
  if (hijacker !== null) return hijacked(hijackDetail(job, hijacker));
  switch (job.status) {
    case 'cancelled':
    case 'expired':
      return refunded(step, now);
    case 'completed':
      return { ...parked('refund_found_released', 'the escrow job was completed at the node'), outcome: 'unknown' };
    case 'claimed':
    case 'delivered':
      return afterRefusal ? parked('refund_blocked', `the escrow job is ${job.status} at the node and cannot be cancelled`) : null;
    default:
      return null;
  }
}

function refunded(step: Extract<DueStep, { kind: 'refund' }>, now: Date): StepResult {
  return { commands: [{ type: 'RecordRefundIssued', party: step.party, jobId: step.jobId, now }], outcome: 'ok', continue: false };
}

export function reasonOf(outcome: NodeOutcome<unknown>): string {
  return outcome.kind === 'ok' ? 'ok' : outcome.reason;
}

import type { StepMode } from '../aggregates/order/index.js';
import { BRIDGE_WORKER_WALLET, type EscrowJob, type JobStatus, type NodeGateway, type NodeOutcome } from '../gateways/node.js';
import { ESCROW_HIJACKED, hijackDetail, hijackerOf } from './hijack.js';

export type ReleaseOutcome =
  | { readonly kind: 'released' }
  /** The job's status at the node proves the RTC never left escrow: the order may go back to matched. */
  | { readonly kind: 'not_released'; readonly reason: string }
  | { readonly kind: 'recovery'; readonly reason: string; readonly detail: string };

export interface ReleaseTarget {
  readonly jobId: string;
  readonly posterWallet: string;
  readonly orderId: string;
}

type ReleaseCall = 'claim' | 'deliver' | 'accept';

/** The calls still needed from a job status: a resumed release skips what the node shows done. */
function remainingCalls(status: JobStatus): ReleaseCall[] | null {
  if (status === 'open') return ['claim', 'deliver', 'accept'];
  if (status === 'claimed') return ['deliver', 'accept'];
  if (status === 'delivered') return ['accept'];
  return null;
}

const MAX_RESUMES = 2;

/** What the release knows before its first call: why the driver asks, and what the stream records of the job. */
export interface ReleaseStart {
  /** `inline`: the claim (SettlementClaimed) was just appended; `resume` (and any re-drive): anything may have happened since. */
  readonly mode: StepMode;
  /** EscrowHeld is in the stream: the ledger's worker claimed the job at the match (custody.ts). */
  readonly held: boolean;
}

/**
 * The calls the stream alone proves due, or null when only the job's status can tell (look it up).
 * Inline, a fresh release has no call of its own done yet, so the first call is the one the
 * look-up would have led to: claim for an open job; deliver for a job the ledger's worker holds,
 * since EscrowHeld was written only after a look-up showed it claimed by that worker, and while it
 * holds the job no other wallet can claim or deliver it. Starting at deliver there is as safe as
 * looking first: a held job the look-up would stop at (cancelled past its expiry, disputed, gone)
 * refuses a deliver, and every refusal is followed by the look-up, whose status decides exactly as
 * it would have up front. Resume keeps the look-up first: an earlier attempt (before a revert, a
 * crash or a re-drive) may have claimed or delivered the job already.
 */
function callsFromStream(start: ReleaseStart): ReleaseCall[] | null {
  if (start.mode !== 'inline') return null;
  return start.held ? ['deliver', 'accept'] : ['claim', 'deliver', 'accept'];
}

/**
 * Release is three node calls (claim → deliver → accept); only accept moves the RTC. Any refused
 * or lost call is followed by a look-up of the job, and the job's status decides: completed is
 * released; a job the node expired or cancelled goes to recovery. The order goes back to matched
 * only when a call was refused, no call of this release was ever lost, and the job is still
 * `open`: then nothing happened at all and the escrow can still be refunded at settle_by. A job
 * already claimed or delivered cannot be refunded, so a refusal there goes to recovery, where a
 * re-drive resumes the release. Released ⇒ never matched again.
 */
export async function releaseEscrow(node: NodeGateway, target: ReleaseTarget, start: ReleaseStart): Promise<ReleaseOutcome> {
  let calls = callsFromStream(start);
  if (calls === null) {
    // Not inline: start from the job's status, which skips what an earlier attempt already did
    // (this one GET is cheaper than a refused call).
    const looked = await fromLookup(node, target.jobId);
    if (looked.outcome) return looked.outcome;
    calls = looked.calls;
  }
  let anyLost = false;
  for (let resumes = 0; ; resumes++) {
    const failure = await runCalls(node, target, calls);
    if (failure === null) return { kind: 'released' };
    anyLost ||= failure.result.kind === 'unknown';
    const decided = await fromLookup(node, target.jobId);
    if (decided.outcome) return decided.outcome;
    // Refused, and the job still waits for that very call: the node said no to it.
    const refusedHere = failure.result.kind === 'rejected' && decided.calls[0] === failure.call;
    if (refusedHere) return refusal(failure.call, failure.result.reason, decided.calls, anyLost);
    if (resumes >= MAX_RESUMES) return { kind: 'recovery', reason: 'release_outcome_unknown', detail: failure.result.reason };
    // Lost, or refused because an earlier attempt got further: resume from the job's status.
    calls = decided.calls;
  }
}

function refusal(call: ReleaseCall, reason: string, remaining: readonly ReleaseCall[], anyLost: boolean): ReleaseOutcome {
  const untouched = remaining.length === 3;
  if (untouched && !anyLost) return { kind: 'not_released', reason: `escrow release refused at ${call}: ${reason}` };
  const why = anyLost ? 'after an earlier call of this release was lost' : 'with the job already part-way released';
  return { kind: 'recovery', reason: 'release_refused', detail: `refused at ${call} ${why}: ${reason}` };
}

async function runCalls(node: NodeGateway, target: ReleaseTarget, calls: readonly ReleaseCall[]) {
  for (const call of calls) {
    const result = await callNode(node, target, call);
    if (result.kind === 'rejected' || result.kind === 'unknown') return { call, result };
  }
  return null;
}

function callNode(node: NodeGateway, target: ReleaseTarget, call: ReleaseCall): Promise<NodeOutcome<void>> {
  if (call === 'claim') return node.claimJob(target.jobId);
  if (call === 'deliver') return node.deliverJob(target.jobId, `OTC settlement of ${target.orderId} by ${BRIDGE_WORKER_WALLET}`);
  return node.acceptJob(target.jobId, target.posterWallet);
}

async function fromLookup(node: NodeGateway, jobId: string): Promise<{ outcome: ReleaseOutcome | null; calls: ReleaseCall[] }> {
  const lookup = await node.getJob(jobId);
  if (lookup.kind !== 'ok') {
    return { outcome: { kind: 'recovery', reason: 'release_outcome_unknown', detail: `job look-up failed: ${lookup.reason}` }, calls: [] };
  }
  return classifyJob(lookup.value);
}

function classifyJob(job: EscrowJob | null): { outcome: ReleaseOutcome | null; calls: ReleaseCall[] } {
  if (job === null) return { outcome: { kind: 'recovery', reason: 'escrow_job_missing', detail: 'the node has no such job' }, calls: [] };
  // Claimed, delivered or completed by someone else: never accept it, never count it as released.
  const hijacker = hijackerOf(job);
  if (hijacker !== null) return { outcome: { kind: 'recovery', reason: ESCROW_HIJACKED, detail: hijackDetail(job, hijacker) }, calls: [] };
  if (job.status === 'completed') return { outcome: { kind: 'released' }, calls: [] };
  const calls = remainingCalls(job.status);
  if (calls === null) {
    return { outcome: { kind: 'recovery', reason: `escrow_job_${job.status}`, detail: `the node shows the escrow job ${job.status}` }, calls: [] };
  }
  return { outcome: null, calls };
}

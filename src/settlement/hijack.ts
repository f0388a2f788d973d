import { BRIDGE_WORKER_WALLET, type EscrowJob } from '../gateways/node.js';
import type { StepResult } from './steps.js';

/** The reason an order is parked with when its escrow was taken by a worker other than the ledger's. */
export const ESCROW_HIJACKED = 'escrow_hijacked';

/**
 * The wallet that took the escrow job, when it is not the ledger's own worker (invariant 10). The
 * node lets any wallet claim an open job, and whoever delivers is paid on accept: such a job must
 * never be accepted, and no payout may be queued against it.
 */
export function hijackerOf(job: EscrowJob): string | null {
  const taken = job.status === 'claimed' || job.status === 'delivered' || job.status === 'completed';
  if (!taken || job.workerWallet === BRIDGE_WORKER_WALLET) return null;
  return job.workerWallet ?? 'an unknown worker';
}

export const hijackDetail = (job: EscrowJob, worker: string): string =>
  `the escrow job ${job.jobId} is ${job.status} by ${worker}, not by the ledger's worker`;

/** Parks the order as hijacked; the driver reports the step's outcome as `hijacked`, for the alert. */
export const hijacked = (detail: string): StepResult => ({
  commands: [{ type: 'RequireRecovery', reason: ESCROW_HIJACKED, detail }],
  outcome: 'hijacked',
  continue: false,
});

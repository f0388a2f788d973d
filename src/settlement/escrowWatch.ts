import type { DueStep } from '../aggregates/order/index.js';
import { BRIDGE_WORKER_WALLET, type NodeGateway } from '../gateways/node.js';
import { escrowLost } from './custody.js';
import { hijackDetail, hijacked, hijackerOf } from './hijack.js';
import type { StepResult } from './steps.js';

/**
 * Looks the held escrow of an open, matched or lapsed order up (a GET: no effect at the node). Open,
 * or claimed by the ledger's own worker (the custody hold of a chain-verified match, kept while a
 * lapsed order waits for its maker's re-arm or cancel), is as it should be. A job cancelled, expired
 * or missing at the node went behind the ledger's back: the order is parked in recovery, so no buyer
 * takes it, waits on a quote leg, or claims a late lock against an escrow that is gone, and the step
 * reports `escrow_lost` (an alert). A look-up that fails changes nothing: the release checks the job
 * again before any RTC moves.
 */
export async function watchEscrow(node: NodeGateway, step: Extract<DueStep, { kind: 'escrow_watch' }>): Promise<StepResult> {
  const lookup = await node.getJob(step.jobId);
  if (lookup.kind !== 'ok') return { commands: [], outcome: 'unknown', continue: false };
  const job = lookup.value;
  if (job?.status === 'open') return { commands: [], outcome: 'ok', continue: false };
  const hijacker = job === null ? null : hijackerOf(job);
  if (job !== null && hijacker !== null) return hijacked(hijackDetail(job, hijacker));
  if (job?.status === 'claimed' && job.workerWallet === BRIDGE_WORKER_WALLET) return { commands: [], outcome: 'ok', continue: false };
  return escrowLost(job?.status ?? 'missing', 'while its order is live');
}

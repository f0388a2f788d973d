import type { DueStep } from '../aggregates/order/index.js';
import type { NodeGateway } from '../gateways/node.js';
import { hijackDetail, hijacked, hijackerOf } from './hijack.js';
import type { StepResult } from './steps.js';

/**
 * Looks the held escrow of an open or matched order up (a GET: no effect at the node). A job that
 * is no longer open was cancelled or expired behind the ledger's back: the order is parked in
 * recovery, so no buyer takes it or waits on a quote leg against an escrow that is gone, and an
 * operator sees it. A look-up that fails changes nothing: the release checks the job again before
 * any RTC moves.
 */
export async function watchEscrow(node: NodeGateway, step: Extract<DueStep, { kind: 'escrow_watch' }>): Promise<StepResult> {
  const lookup = await node.getJob(step.jobId);
  if (lookup.kind !== 'ok') return { commands: [], outcome: 'unknown', continue: false };
  if (lookup.value?.status === 'open') return { commands: [], outcome: 'ok', continue: false };
  const hijacker = lookup.value === null ? null : hijackerOf(lookup.value);
  if (lookup.value !== null && hijacker !== null) return hijacked(hijackDetail(lookup.value, hijacker));
  const status = lookup.value?.status ?? 'missing';
  return {
    commands: [{ type: 'RequireRecovery', reason: `escrow_job_${status}`, detail: `the escrow job is ${status} at the node` }],
    outcome: 'ok',
    continue: false,
  };
}

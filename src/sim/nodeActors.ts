/**
 * The node's side: an attacker taking escrow jobs through the node's public endpoints, and the node
 * itself confirming or voiding queued transfers and expiring jobs behind the ledger's back.
 */
import type { Sim } from './context.js';

export async function hijack(sim: Sim): Promise<string> {
  const held = sim.node.jobs().filter((j) => j.status === 'open' && j.title.startsWith('OTC Escrow '));
  if (held.length === 0) return 'no open escrow job';
  const job = sim.prng.pick(held);
  const deliver = sim.prng.chance(0.5);
  const reply = await sim.node.handle({ method: 'POST', path: `/__sandbox/jobs/${job.jobId}/take-as`, body: { worker_wallet: sim.attacker.wallet, deliver } });
  sim.noteFault('escrow_hijack', `${job.jobId} (${job.title}) ${deliver ? 'claimed and delivered' : 'claimed'} by the attacker`);
  return typeof reply === 'string' ? reply : `node answered ${reply.status}`;
}

export async function nodeTransfer(sim: Sim): Promise<string> {
  const pending = sim.node.transfers().filter((t) => t.phase === 'pending');
  if (pending.length === 0) return 'no pending transfer';
  const transfer = sim.prng.pick(pending);
  const voided = sim.prng.chance(0.15);
  if (voided) sim.node.voidTransfer(transfer.pendingId);
  else sim.node.confirmTransfer(transfer.pendingId);
  if (voided) sim.noteFault('node_voids_transfer', `${transfer.idempotencyKey}`);
  return `${voided ? 'voided' : 'confirmed'} ${transfer.idempotencyKey}`;
}

export async function nodeExpiresJob(sim: Sim): Promise<string> {
  const held = sim.node.jobs().filter((j) => sim.node.ledger.holdsEscrow(j as never) && j.title.startsWith('OTC Escrow '));
  if (held.length === 0 || !sim.prng.chance(0.3)) return 'nothing expired';
  const job = sim.prng.pick(held);
  sim.node.expireJob(job.jobId);
  sim.noteFault('node_ends_job', `${job.jobId} (${job.title}) expired node-side`);
  return `expired ${job.jobId}`;
}

/**
 * Custody of the escrow while a quote lock may exist (quote-chain.md): the node lets the poster
 * cancel an open job, so before a chain-verified order is offered for a quote lock the ledger's
 * worker claims the escrow job. The hold is one more driver step: authorised by the event that made
 * the order matched (Matched for a sell order, the taker's EscrowLocked for a buy order), recorded
 * by EscrowHeld after the node answered. Until then the order is matched but offers no lock
 * instructions (quoteLegResource), so no buyer locks against an escrow its seller can still take back.
 */
import type * as C from './commands.js';
import { refuse } from './errors.js';
import type { OrderEvent } from './events.js';
import { heldEscrow, type OrderState, type PlacedOrder } from './state.js';

/** True when the order's escrow must be held by the ledger's worker and is not yet. */
export function holdDue(state: OrderState): state is Extract<OrderState, { status: 'matched' }> {
  return state.status === 'matched' && state.quoteLeg !== null && state.escrow.hold === undefined;
}

/** True when the order's escrow job is held by the ledger's worker (recorded, not merely claimed at the node). */
export function escrowHeld(state: OrderState): boolean {
  return heldEscrow(state)?.hold !== undefined;
}

export function recordEscrowHeld(c: C.RecordEscrowHeld, state: PlacedOrder): OrderEvent[] {
  const held = heldEscrow(state);
  if (held !== null && held.jobId === c.jobId && held.hold !== undefined) return [];
  if (!holdDue(state)) refuse('hold_not_due', `no hold of the escrow job is due (order is ${state.status})`, state.status);
  if (state.escrow.jobId !== c.jobId) refuse('escrow_job_mismatch', 'that escrow job is not locked for this order', state.status);
  return [{
    type: 'EscrowHeld',
    data: { job_id: c.jobId, worker_wallet: c.workerWallet, expires_at: c.expiresAt?.toISOString() ?? null, held_at: c.now.toISOString() },
  }];
}

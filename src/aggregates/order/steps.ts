import type { NodeStepKind, Party } from './events.js';
import { holdDue } from './custody.js';
import { buyerWallet, escrowWallet, takerOf, type OrderState, type PayoutHistory, type RecoveryOrder } from './state.js';

/**
 * The driver's view of an order: the one external step that is due, with the deterministic key
 * that makes it idempotent at the node. The claim for each step is an event already in the stream
 * (OrderPlaced or Matched for a lock, SettlementClaimed for a release, EscrowReleased for a payout,
 * OrderCancelled/OrderExpired for a refund), so a step is never due before it is authorised.
 */
export type DueStep =
  | { readonly kind: 'lock'; readonly party: Party; readonly key: string; readonly wallet: string; readonly amountMicroRtc: bigint }
  /** A lock whose answer may have been lost: find the job it may have created before locking again. */
  | { readonly kind: 'lock_lookup'; readonly party: Party; readonly key: string; readonly wallet: string; readonly amountMicroRtc: bigint }
  | { readonly kind: 'release'; readonly key: string; readonly jobId: string; readonly wallet: string }
  /** A release parked with its outcome unknown: the job's status at the node may prove it happened. */
  | { readonly kind: 'release_lookup'; readonly key: string; readonly jobId: string; readonly wallet: string }
  /** The held escrow of an order on the book, matched or lapsed: still open (or held by our worker) at the node, or gone behind our back. */
  | { readonly kind: 'escrow_watch'; readonly key: string; readonly jobId: string; readonly wallet: string }
  /** The ledger's worker claims a chain-verified matched order's escrow job, so its poster cannot cancel it (custody.ts). */
  | { readonly kind: 'hold'; readonly key: string; readonly jobId: string; readonly wallet: string }
  | { readonly kind: 'payout'; readonly key: string; readonly to: string; readonly amountMicroRtc: bigint }
  | { readonly kind: 'payout_lookup'; readonly key: string; readonly to: string; readonly amountMicroRtc: bigint }
  /** `held`: the ledger's worker holds the job (EscrowHeld), so the node cancels it only after its expiry. */
  | { readonly kind: 'refund'; readonly party: Party; readonly key: string; readonly jobId: string; readonly wallet: string; readonly held: boolean };

// The recorded step names and the due steps are one list: tsc fails here if either gains a kind alone.
const sameKinds: [DueStep['kind'], NodeStepKind] extends [NodeStepKind, DueStep['kind']] ? true : never = true;
void sameKinds;

export const escrowKey = (orderId: string, party: Party): string => `otc_escrow:${orderId}:${party}`;
export const releaseKey = (orderId: string): string => `otc_release:${orderId}`;
export const holdKey = (orderId: string): string => `otc_hold:${orderId}`;
export const refundKey = (orderId: string, party: Party): string => `otc_refund:${orderId}:${party}`;

/**
 * `otc_payout:<order_id>` for the first payout. The node voids a key for good, so a payout
 * re-driven after a void needs a fresh key; the suffix counts voids, and only ever follows a void,
 * so no two keys of one order can both be confirmed.
 */
export function payoutKeyFor(state: { readonly orderId: string; readonly payouts: PayoutHistory }): string {
  const base = `otc_payout:${state.orderId}`;
  return state.payouts.voidedCount === 0 ? base : `${base}:redrive-${state.payouts.voidedCount}`;
}

/**
 * Why the driver asks. `inline`: a request just appended the claim, so the step is called straight
 * away. `resume`: anything may have happened since the last event (a crash, a timeout, a recovery),
 * so a step whose earlier call may have taken effect is looked up first. `watch`: only look the
 * held escrow up (a GET, no effect at the node).
 */
export type StepMode = 'inline' | 'resume' | 'watch';

export function dueStep(state: OrderState, mode: StepMode = 'inline'): DueStep | null {
  if (mode === 'watch') return watchStep(state);
  switch (state.status) {
    case 'escrow_pending':
      return { kind: mode === 'resume' ? 'lock_lookup' : 'lock', party: 'maker', key: escrowKey(state.orderId, 'maker'), wallet: state.makerWallet, amountMicroRtc: state.amountMicroRtc };
    case 'matching':
      return { kind: mode === 'resume' ? 'lock_lookup' : 'lock', party: 'taker', key: escrowKey(state.orderId, 'taker'), wallet: state.taker.wallet, amountMicroRtc: state.amountMicroRtc };
    case 'settlement_recovery':
      return mode === 'resume' ? releaseLookupStep(state) : null;
    case 'matched':
      return holdDue(state) ? { kind: 'hold', key: holdKey(state.orderId), jobId: state.escrow.jobId, wallet: escrowWallet(state) } : null;
    case 'settling':
      return state.released
        ? { kind: 'payout', key: payoutKeyFor(state), to: buyerWallet(state), amountMicroRtc: state.escrow.amountMicroRtc }
        : { kind: 'release', key: releaseKey(state.orderId), jobId: state.escrow.jobId, wallet: escrowWallet(state) };
    case 'payout_pending':
      return { kind: 'payout_lookup', key: state.payout.key, to: buyerWallet(state), amountMicroRtc: state.escrow.amountMicroRtc };
    case 'refund_pending': {
      const party = state.escrow.party;
      return { kind: 'refund', party, key: refundKey(state.orderId, party), jobId: state.escrow.jobId, wallet: escrowWallet(state), held: state.escrow.hold !== undefined };
    }
    default:
      return null;
  }
}

/** Only a claimed escrow still held in recovery can be proven released by a look-up. */
function releaseLookupStep(state: RecoveryOrder): DueStep | null {
  const claimed = state.parked;
  const held = (claimed.status === 'settling' && !claimed.released) || (claimed.status === 'matched' && claimed.claim !== null);
  if (!held) return null;
  return { kind: 'release_lookup', key: releaseKey(state.orderId), jobId: claimed.escrow.jobId, wallet: escrowWallet(claimed) };
}

function watchStep(state: OrderState): DueStep | null {
  // A lapsed sell order keeps its maker's escrow held until a re-arm or a refund: watched as a matched one.
  if (state.status === 'matched' || state.status === 'lapsed' || (state.status === 'open' && state.escrow !== null)) {
    const escrow = state.escrow;
    return { kind: 'escrow_watch', key: escrowKey(state.orderId, escrow.party), jobId: escrow.jobId, wallet: escrowWallet({ ...state, taker: takerOf(state), escrow }) };
  }
  return null;
}

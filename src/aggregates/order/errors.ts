/**
 * Every refusal the order decider can give, as a stable snake_case code naming the broken rule.
 * The HTTP layer maps each code to a status in one place (src/http/errorMap.ts).
 */
export type OrderRefusalCode =
  | 'order_exists'
  | 'order_not_found'
  | 'order_not_open'
  | 'order_expired'
  | 'order_not_matched'
  | 'order_not_in_recovery'
  | 'order_terminal'
  | 'self_match'
  | 'not_maker'
  /** Confirm by anyone but the seller or the buyer. */
  | 'not_party'
  | 'secret_mismatch'
  | 'quote_tx_required'
  | 'htlc_hash_required'
  | 'htlc_hash_not_allowed'
  | 'amount_must_be_positive'
  | 'price_must_be_positive'
  // A step result the driver reports when that step is not (or no longer) due; each names its rule.
  | 'escrow_lock_not_pending'
  | 'release_not_due'
  | 'escrow_job_mismatch'
  | 'settlement_not_claimed'
  | 'settlement_not_revertible'
  | 'payout_not_due'
  | 'nothing_in_flight'
  | 'refund_not_pending'
  /** The seller's confirm of a chain-verified order before the buyer's lock is verified. */
  | 'quote_lock_missing'
  /** A chain-verified match without both parties' quote addresses. */
  | 'eth_address_required'
  /** A confirm too close to the lock's timelock with no claim seen on chain. */
  | 'claim_window_closing'
  /** The escrow job was claimed by a worker other than the ledger's: never settled from it. */
  | 'escrow_hijacked'
  /** The worker's hold of the escrow job recorded when the order is not matched on a chain-verified leg. */
  | 'hold_not_due'
  /** A place, match or re-arm with an htlc_hash another order already used (400). */
  | 'htlc_hash_reused'
  /** A chain-verified match whose buyer's quote address lacks the amount at the finalized block (409). */
  | 'quote_funds_missing'
  /** The quote chain could not answer a read a command needs (503): never guessed. */
  | 'quote_chain_unavailable'
  /** A TTL beyond what the pair's escrow can outlive (chain-verified pairs: lower than api.md's cap). */
  | 'ttl_invalid'
  /** Re-arm of an order that is not lapsed. */
  | 'order_not_lapsed'
  /** A swap under the order's old hashlock may still be claimed: no re-arm, no refund yet. */
  | 'quote_lock_live'
  /** A refund hold released on an order whose refund is not held back (quote_lock_before_refund). */
  | 'refund_not_held'
  /** A reorganised observation the ledger already acted on irrevocably (a settlement under way or done): an alert, never undone. */
  | 'quote_observation_acted_on';

export class OrderRefused extends Error {
  constructor(
    readonly code: OrderRefusalCode,
    message: string,
    /** The order's status when refused, for answers that include it (409 order_not_matched). */
    readonly status: string | null = null,
  ) {
    super(message);
    this.name = 'OrderRefused';
  }
}

export function refuse(code: OrderRefusalCode, message: string, status: string | null = null): never {
  throw new OrderRefused(code, message, status);
}

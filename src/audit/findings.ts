/** One thing verify found wrong; `kind` is a stable snake_case code, `message` a precise sentence. */
export interface Finding {
  readonly kind: FindingKind;
  readonly stream?: string;
  readonly version?: number;
  readonly message: string;
}

export type FindingKind =
  | 'hash_chain_broken'
  | 'escrow_unsettled'
  | 'escrow_released_and_refunded'
  | 'payout_confirmed_twice'
  | 'rtc_not_conserved'
  | 'event_after_terminal'
  | 'trade_without_payout'
  | 'trade_id_mismatch'
  | 'secret_in_clear'
  | 'read_model_missing'
  | 'read_model_row_differs'
  | 'read_model_row_missing'
  | 'read_model_row_unexpected'
  | 'read_model_behind'
  | 'malformed_event'
  /** A readable event that cannot follow the order's state: the stream was not written by this decider. */
  | 'event_does_not_apply'
  | 'payout_without_release'
  // Invariant 9: an escrow refunded once the preimage was known (confirmed, or claimed on the quote chain).
  | 'refund_after_preimage_known'
  /** A claim seen on the quote chain after the RTC was already refunded: the seller has both legs (an operator case). */
  | 'preimage_revealed_after_refund'
  // Invariant 10: a release or payout after the escrow was found taken by a worker other than the ledger's.
  | 'payout_for_hijacked_escrow'
  // Quote-chain observations checked against the chain (quoteChainAudit.ts).
  | 'quote_observation_missing'
  | 'quote_observation_mismatch'
  | 'quote_chain_unreachable'
  // A ledger stream deleted or truncated in the event store (streamIntegrity.ts).
  | 'stream_deleted'
  | 'stream_truncated';

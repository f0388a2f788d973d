/**
 * The server's error codes (`{"ok": false, "error": <code>}`), as one union so a caller's switch is
 * checked by the compiler. A code added by a newer server still arrives as a plain string.
 */
export const ERROR_CODES = [
  // Validation (400), in the order the server checks them.
  'invalid_json', 'side_invalid', 'pair_unsupported', 'wallet_required', 'amount_invalid', 'amount_too_small',
  'amount_too_large', 'price_invalid', 'price_too_high', 'ttl_invalid', 'eth_address_invalid', 'htlc_hash_invalid',
  'htlc_hash_not_allowed', 'quote_tx_required', 'secret_required', 'secret_invalid_format', 'limit_must_be_integer',
  'limit_must_be_positive', 'offset_must_be_integer', 'offset_must_be_non_negative', 'status_invalid', 'wallet_invalid',
  'at_version_invalid', 'min_position_invalid', 'before_invalid', 'if_match_invalid', 'idempotency_key_invalid',
  'operator_required', 'reason_required', 'invalid_request', 'self_match', 'htlc_hash_reused',
  // Wallet auth (401), in the order the server checks them; then the admin token.
  'wallet_must_be_native_rtc_address', 'wallet_auth_required', 'wallet_auth_malformed', 'wallet_auth_timestamp_expired',
  'wallet_auth_public_key_does_not_match_wallet', 'wallet_auth_invalid_signature', 'wallet_auth_replayed', 'unauthorized',
  // Refusals of the order's rules.
  'not_maker', 'not_seller', 'not_party', 'secret_mismatch', 'order_not_found', 'not_found', 'version_not_found',
  'projection_not_found', 'order_not_open', 'order_not_matched', 'order_terminal', 'order_not_in_recovery',
  'quote_lock_missing', 'quote_funds_missing', 'claim_window_closing', 'match_cooldown', 'order_not_lapsed', 'quote_lock_live', 'escrow_lock_not_pending', 'release_not_due', 'escrow_job_mismatch', 'settlement_not_claimed',
  'settlement_not_revertible', 'payout_not_due', 'nothing_in_flight', 'refund_not_pending',
  'version_conflict', 'idempotency_key_in_flight', 'rebuild_in_progress', 'order_expired', 'version_mismatch',
  'payload_too_large', 'uri_too_long', 'unsupported_media_type', 'idempotency_key_reused', 'escrow_lock_failed',
  'rate_limited', 'escrow_release_failed', 'settlement_recovery', 'read_model_lagging', 'not_ready', 'internal_error',
  // The client's own: no answer arrived, or the answer was not the server's JSON.
  'network_error', 'invalid_response',
] as const;

export type KnownErrorCode = (typeof ERROR_CODES)[number];
/** A known code, or (from a newer server) any other string; `isKnownError` narrows. */
export type ErrorCode = KnownErrorCode | (string & {});

export const isKnownError = (code: string): code is KnownErrorCode => (ERROR_CODES as readonly string[]).includes(code);

/** Thrown only by `expectOk`, for callers (scripts, the CLI) that want an exception. */
export class LedgerError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'LedgerError';
  }
}

import { OrderRefused } from '../aggregates/order/errors.js';
import { TooManyOpenOrders } from '../app/openOrderCap.js';
import { MatchCooldownActive } from '../app/matchCooldown.js';
import { VersionMismatch } from '../commands/handleCommand.js';
import { WalletAuthError } from '../crypto/walletAuth.js';
import { VersionConflict } from '../eventstore/types.js';
import { RebuildBusy } from '../projections/rebuildLease.js';
import { storageFaultOf, StoreOverloaded } from '../eventstore/storageFault.js';
import { OrderStreamCorrupt } from '../orderStream/fold.js';

/**
 * The one table from error codes to HTTP statuses. Validation codes not listed are 400; anything
 * unrecognised is a 500 whose detail stays in the log.
 */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  unauthorized: 401,
  wallet_must_be_native_rtc_address: 401,
  wallet_auth_required: 401,
  wallet_auth_malformed: 401,
  wallet_auth_timestamp_expired: 401,
  wallet_auth_public_key_does_not_match_wallet: 401,
  wallet_auth_invalid_signature: 401,
  wallet_auth_replayed: 401,
  not_maker: 403,
  not_party: 403,
  secret_mismatch: 403,
  order_not_found: 404,
  not_found: 404,
  version_not_found: 404,
  projection_not_found: 404,
  order_not_open: 409,
  order_not_matched: 409,
  order_terminal: 409,
  order_exists: 409,
  order_not_in_recovery: 409,
  order_stream_corrupt: 409,
  escrow_hijacked: 409,
  escrow_lock_not_pending: 409,
  release_not_due: 409,
  escrow_job_mismatch: 409,
  settlement_not_claimed: 409,
  settlement_not_revertible: 409,
  payout_not_due: 409,
  nothing_in_flight: 409,
  refund_not_pending: 409,
  quote_lock_missing: 409,
  claim_window_closing: 409,
  order_not_lapsed: 409,
  quote_lock_live: 409,
  quote_observation_acted_on: 409,
  htlc_hash_reused: 400,
  match_cooldown: 429,
  eth_address_required: 400,
  quote_funds_missing: 409,
  quote_chain_unavailable: 503,
  hold_not_due: 409,
  refund_not_held: 409,
  version_conflict: 409,
  idempotency_key_in_flight: 409,
  rebuild_in_progress: 409,
  too_many_open_orders: 409,
  order_expired: 410,
  version_mismatch: 412,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  escrow_lock_failed: 422,
  rate_limited: 429,
  escrow_release_failed: 502,
  settlement_recovery: 502,
  read_model_lagging: 503,
  not_ready: 503,
  store_full: 503,
  store_unavailable: 503,
  store_busy: 503,
  read_model_unavailable: 503,
  internal_error: 500,
};

/** Sentences for the codes the HTTP layer itself produces; domain errors bring their own. */
const MESSAGES: Readonly<Record<string, string>> = {
  escrow_lock_failed: 'the node refused to lock the seller\'s escrow',
  escrow_release_failed: 'the node refused to release the escrow; nothing moved, confirm again',
  settlement_recovery: 'the escrow was released but the payout failed or is unknown; an operator will finish it',
  invalid_json: 'the body must be a JSON object',
  side_invalid: 'side must be "buy" or "sell"',
  pair_unsupported: 'pair must be one of RTC/USDC, RTC/ETH, RTC/ERG',
  wallet_required: 'wallet is required',
  amount_invalid: 'amount_rtc must be a decimal with at most 6 decimals',
  amount_too_small: 'amount_rtc must be at least 0.1 RTC',
  amount_too_large: 'amount_rtc is above the configured maximum order size',
  price_invalid: 'price_per_rtc must be a positive decimal with at most 9 decimals',
  price_too_high: 'price_per_rtc must be at most 1000',
  ttl_invalid: 'ttl_seconds must be an integer from 3600 to 2502000 (less when the settle window is longer than 24 h)',
  eth_address_invalid: 'eth_address must be 0x and 40 hex digits (USDC, ETH) or a base58 address of 30 to 60 characters (ERG)',
  htlc_hash_invalid: 'htlc_hash must be 64 hex digits, and only a seller gives one',
  quote_tx_required: 'quote_tx must be 1 to 200 printable characters',
  secret_required: 'secret is required',
  secret_invalid_format: 'secret must be 64 hex digits',
  limit_must_be_integer: 'limit must be an integer',
  limit_must_be_positive: 'limit must be at least 1',
  offset_must_be_integer: 'offset must be an integer',
  offset_must_be_non_negative: 'offset must be 0 or more',
  status_invalid: 'status must be an order status or "all"',
  at_version_invalid: 'at_version must be a positive integer',
  min_position_invalid: 'min_position must be a non-negative integer',
  before_invalid: 'before must name a recorded trade_id',
  if_match_invalid: 'If-Match must be a quoted version, like "3"',
  idempotency_key_invalid: 'Idempotency-Key must be 1 to 255 printable characters',
  operator_required: 'operator must be 1 to 100 printable characters',
  reason_required: 'reason must be 1 to 500 characters',
  invalid_request: 'the request is invalid',
  unauthorized: 'a valid admin bearer token is required',
  not_found: 'no such route',
  payload_too_large: 'the body is larger than the limit',
  uri_too_long: 'a path segment is too long',
  bad_url: 'the URL is not validly encoded',
  invalid_content_length: 'Content-Length does not match the body',
  unsupported_media_type: 'send JSON (Content-Type: application/json)',
  rate_limited: 'too many requests from this address; retry later',
  internal_error: 'internal error',
  store_full: 'the ledger\'s disk is full; nothing was written, retry once space is freed',
  store_unavailable: 'the ledger\'s storage refuses writes (read-only, failing or locked); nothing was written, retry later',
  store_busy: 'the ledger is overloaded; nothing was written, retry shortly',
  quote_chain_unavailable: 'the quote chain did not answer a read this command needs; nothing was written, retry shortly',
  read_model_unavailable: 'the read model cannot be read (missing, damaged or locked) until an operator rebuilds it; /api/orders/:id still answers',
};

/** An answer the HTTP layer decides on itself (auth, idempotency, lagging reads, 404s). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string = MESSAGES[code] ?? code,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorReply {
  readonly status: number;
  readonly body: { ok: false; error: string; message: string } & Record<string, unknown>;
  /** Response headers the refusal carries (Retry-After on a cool-down). */
  readonly headers?: Readonly<Record<string, string>>;
}

export const statusOfCode = (code: string, fallback = 400): number => STATUS_BY_CODE[code] ?? fallback;

export const messageOf = (code: string): string => MESSAGES[code] ?? code.replace(/_/g, ' ');

const reply = (code: string, message: string, extra: Record<string, unknown> = {}, status = statusOfCode(code)): ErrorReply => ({
  status,
  body: { ok: false, error: code, message, ...extra },
});

const CODE_SHAPE = /^[a-z][a-z0-9_]{1,63}$/;

/** Fastify's own refusals of a request, before any route code ran. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_BAD_URL: 'bad_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
};

type Shaped = { code?: unknown; statusCode?: unknown; validation?: unknown };

/** Maps anything thrown while handling a request to its status and body. */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof ApiError) return reply(error.code, error.message, { ...error.extra });
  if (error instanceof TooManyOpenOrders) return reply(error.code, error.message, { limit: error.limit });
  if (error instanceof MatchCooldownActive) {
    return { ...reply(error.code, error.message, { cooldown_until: error.until.toISOString() }), headers: { 'retry-after': String(error.retryAfterSeconds) } };
  }
  if (error instanceof OrderRefused) return reply(error.code, error.message, error.status === null ? {} : { status: error.status });
  if (error instanceof WalletAuthError) return reply(error.code, error.message, {}, 401);
  if (error instanceof VersionMismatch) return reply(error.code, error.message, { version: Number(error.actual) });
  if (error instanceof OrderStreamCorrupt) return reply(error.code, error.message, { version: Number(error.problem.version) });
  if (error instanceof VersionConflict) return reply('version_conflict', 'the order changed concurrently; read it again and retry');
  const shaped = (typeof error === 'object' && error !== null ? error : {}) as Shaped;
  if (Array.isArray(shaped.validation)) return validationReply(shaped.validation);
  if (shaped.statusCode === 429) return reply('rate_limited', messageOf('rate_limited'));
  const fastifyCode = typeof shaped.code === 'string' ? FASTIFY_CODES[shaped.code] : undefined;
  if (fastifyCode !== undefined) return reply(fastifyCode, messageOf(fastifyCode));
  if (typeof shaped.statusCode === 'number' && shaped.statusCode >= 400 && shaped.statusCode < 500) {
    // Fastify's other request-level refusals (bad URL encoding, bad headers): a client error, never a 500.
    return reply('bad_request', 'the request could not be read', {}, shaped.statusCode);
  }
  if (error instanceof RebuildBusy) return reply(error.code, 'a rebuild of this projection is already running');
  // A full or read-only disk is the machine's fault, not the request's nor a bug: 503, retry later.
  if (error instanceof StoreOverloaded) return reply(error.code, messageOf(error.code));
  const fault = storageFaultOf(error);
  if (fault !== null) return reply(fault, messageOf(fault));
  return reply('internal_error', messageOf('internal_error'), {}, 500);
}

/** The first issue's message is the code (the schemas are written that way); see schemas/. */
function validationReply(issues: readonly unknown[]): ErrorReply {
  const first = issues[0] as { message?: unknown } | undefined;
  const message = typeof first?.message === 'string' ? first.message : '';
  const code = CODE_SHAPE.test(message) ? message : 'invalid_request';
  return reply(code, messageOf(code), {}, statusOfCode(code, 400));
}

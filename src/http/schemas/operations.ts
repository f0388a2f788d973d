import {
  exampleBook, exampleHistory, exampleOrder, exampleRecoveryEntry, exampleStats, exampleTrade, EXAMPLE_ORDER_ID, EXAMPLE_SECRET_HEX, requestExamples,
} from './examples.js';

/**
 * What the OpenAPI document says about each route beyond its schemas: an operationId, a
 * description and an example for every success answer, an example request, and the error codes
 * the route can answer. The HTTP status of each code comes from errorMap.ts, so a code documented
 * here is always shown under the status the server really uses. Attached to the routes by the
 * transform in ../openapi.ts; a route missing here is flagged `x-undocumented` (a test refuses it).
 */
export interface AnswerDoc {
  readonly description: string;
  readonly example: unknown;
  /** Response headers worth knowing (ETag on commands). */
  readonly headers?: readonly ('etag' | 'idempotent-replayed')[];
}

export interface OperationDoc {
  readonly operationId: string;
  readonly answers: Readonly<Record<number, AnswerDoc>>;
  readonly body?: unknown;
  /** Example values of query or path parameters, by name. */
  readonly parameters?: Readonly<Record<string, string>>;
  readonly errors: readonly string[];
}

/** Refusals any route can give before its own code runs. */
const EVERY_ROUTE = ['bad_url', 'uri_too_long', 'internal_error'];
/** A POST with a JSON body. */
const BODY = ['invalid_json', 'invalid_content_length', 'payload_too_large', 'unsupported_media_type'];
const IDEMPOTENCY = ['idempotency_key_invalid', 'idempotency_key_reused', 'idempotency_key_in_flight'];
/** A command on one existing order: If-Match, and the append race. */
const ON_ORDER = ['order_not_found', 'if_match_invalid', 'version_mismatch', 'version_conflict'];
const RATE_LIMITED = ['rate_limited'];
/** In the order they are checked (see the Wallet auth section of the description). */
export const WALLET_AUTH_CODES = [
  'wallet_must_be_native_rtc_address', 'wallet_auth_required', 'wallet_auth_malformed', 'wallet_auth_timestamp_expired',
  'wallet_auth_public_key_does_not_match_wallet', 'wallet_auth_invalid_signature', 'wallet_auth_replayed',
];
const READ_MODEL = ['min_position_invalid', 'read_model_lagging'];
const ADMIN = ['unauthorized'];

const command = (...codes: string[]) => [...EVERY_ROUTE, ...BODY, ...IDEMPOTENCY, 'if_match_invalid', ...codes];
const ok = <T extends object>(body: T) => ({ ok: true, ...body });
const position = '42';

export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'POST /api/orders': {
    operationId: 'placeOrder',
    body: requestExamples.place,
    answers: {
      201: { description: 'Placed: a buy order is open; a sell order is open with its RTC locked in escrow (and htlc_secret when the ledger generated the preimage).', example: ok({ order: exampleOrder('open', 2), position, htlc_secret: EXAMPLE_SECRET_HEX }), headers: ['etag', 'idempotent-replayed'] },
      202: { description: 'Accepted: the escrow lock\'s outcome is not known yet (status escrow_pending); the reconciler finishes it. htlc_secret is included, as it is the only time it is shown.', example: ok({ order: { ...exampleOrder('open', 1), status: 'escrow_pending', escrow: { job_id: null, status: 'locking' } }, position, htlc_secret: EXAMPLE_SECRET_HEX }), headers: ['etag', 'idempotent-replayed'] },
    },
    errors: command(
      'side_invalid', 'pair_unsupported', 'wallet_required', 'amount_invalid', 'amount_too_small', 'amount_too_large', 'price_invalid',
      'price_too_high', 'ttl_invalid', 'eth_address_invalid', 'htlc_hash_invalid', ...WALLET_AUTH_CODES, 'escrow_lock_failed', ...RATE_LIMITED,
      // The open-order cap counts from the orders read model, caught up first (docs/DECISIONS.md).
      'too_many_open_orders', 'read_model_lagging',
      // A hashlock is used by one order only, ever (quote-chain.md).
      'htlc_hash_reused',
    ),
  },
  'GET /api/orders': {
    operationId: 'listOrders',
    parameters: { status: 'open', pair: 'RTC/USDC', side: 'sell', limit: '50', offset: '0' },
    answers: { 200: { description: 'One page of orders and the total that match the filters.', example: ok({ orders: [exampleOrder('open', 2)], total: 1, limit: 50, offset: 0 }) } },
    errors: [
      ...EVERY_ROUTE, 'limit_must_be_integer', 'limit_must_be_positive', 'offset_must_be_integer', 'offset_must_be_non_negative', 'pair_unsupported',
      'side_invalid', 'status_invalid', 'wallet_invalid', ...READ_MODEL,
    ],
  },
  'GET /api/orders/:id': {
    operationId: 'getOrder',
    parameters: { id: EXAMPLE_ORDER_ID },
    answers: { 200: { description: 'The order as it stands now; its version is also the ETag.', example: ok({ order: exampleOrder('matched', 3) }), headers: ['etag'] } },
    errors: [...EVERY_ROUTE, 'order_not_found', 'min_position_invalid'],
  },
  'GET /api/orders/:id/history': {
    operationId: 'getOrderHistory',
    parameters: { id: EXAMPLE_ORDER_ID },
    answers: { 200: { description: 'The audit timeline (every event with its metadata and hash-chain links), or with at_version the order as it stood after that event.', example: exampleHistory } },
    errors: [...EVERY_ROUTE, 'order_not_found', 'at_version_invalid', 'version_not_found', 'min_position_invalid'],
  },
  'POST /api/orders/:id/match': {
    operationId: 'matchOrder',
    parameters: { id: EXAMPLE_ORDER_ID },
    body: requestExamples.match,
    answers: {
      200: { description: 'Matched: the order is the taker\'s; for a buy order the taker\'s RTC is locked (htlc_secret when generated).', example: ok({ order: exampleOrder('matched', 3), position }), headers: ['etag', 'idempotent-replayed'] },
      202: { description: 'Accepted: the taker\'s escrow lock is not known yet (status matching); the reconciler finishes it.', example: ok({ order: { ...exampleOrder('matched', 3), status: 'matching' }, position }), headers: ['etag', 'idempotent-replayed'] },
    },
    errors: command(
      ...ON_ORDER, 'wallet_required', 'eth_address_invalid', 'htlc_hash_invalid', ...WALLET_AUTH_CODES, 'order_terminal', 'order_not_open', 'order_expired',
      'self_match', 'htlc_hash_required', 'htlc_hash_not_allowed', 'eth_address_required', 'escrow_lock_failed', 'match_cooldown', ...RATE_LIMITED,
      // The quote-leg refusals at match: a used hashlock; the buyer's quote address short of the amount at the
      // finalized block; the quote chain not answering that read (never guessed).
      'htlc_hash_reused', 'quote_funds_missing', 'quote_chain_unavailable',
    ),
  },
  'POST /api/orders/:id/confirm': {
    operationId: 'confirmSettlement',
    parameters: { id: EXAMPLE_ORDER_ID },
    body: requestExamples.confirm,
    answers: {
      200: { description: 'Settled: the escrow is released and the payout confirmed; the order is completed and shows htlc_secret.', example: ok({ settled: true, order: exampleOrder('completed', 6), trade_id: `trade_${EXAMPLE_ORDER_ID}`, position }), headers: ['etag', 'idempotent-replayed'] },
      202: { description: 'Claimed but not final: the payout is queued, or an outcome is still unknown; the reconciler finishes it.', example: ok({ settled: false, order: exampleOrder('payout_pending', 5), position }), headers: ['etag', 'idempotent-replayed'] },
    },
    errors: command(
      ...ON_ORDER, 'wallet_required', 'quote_tx_required', 'secret_required', 'secret_invalid_format', ...WALLET_AUTH_CODES, 'order_terminal', 'not_party',
      'order_not_matched', 'secret_mismatch', 'quote_lock_missing', 'claim_window_closing', 'escrow_release_failed', 'settlement_recovery', ...RATE_LIMITED,
    ),
  },
  'POST /api/orders/:id/cancel': {
    operationId: 'cancelOrder',
    parameters: { id: EXAMPLE_ORDER_ID },
    body: requestExamples.cancel,
    answers: { 200: { description: 'Cancelled (escrow_refunded true), or refund_pending while the reconciler retries the refund (escrow_refunded false).', example: ok({ order: exampleOrder('cancelled', 4), escrow_refunded: true, position }), headers: ['etag', 'idempotent-replayed'] } },
    errors: command(...ON_ORDER, 'wallet_required', ...WALLET_AUTH_CODES, 'order_terminal', 'not_maker', 'order_not_open', 'quote_lock_live', ...RATE_LIMITED),
  },
  'POST /api/orders/:id/rearm': {
    operationId: 'rearmOrder',
    parameters: { id: EXAMPLE_ORDER_ID },
    body: requestExamples.rearm,
    answers: { 200: { description: 'Re-armed: the lapsed sell order is open again under the fresh hashlock (htlc_secret when the ledger generated it).', example: ok({ order: exampleOrder('open', 6), position, htlc_secret: EXAMPLE_SECRET_HEX }), headers: ['etag', 'idempotent-replayed'] } },
    errors: command(
      ...ON_ORDER, 'wallet_required', 'htlc_hash_invalid', ...WALLET_AUTH_CODES, 'not_maker', 'order_not_lapsed', 'quote_lock_live', 'htlc_hash_reused', 'order_expired', ...RATE_LIMITED,
    ),
  },
  'GET /api/orderbook': {
    operationId: 'getOrderBook',
    parameters: { pair: 'RTC/USDC' },
    answers: { 200: { description: 'Depth by exact price, 50 levels a side, with spread and last price.', example: ok(exampleBook) } },
    errors: [...EVERY_ROUTE, 'pair_unsupported', ...READ_MODEL],
  },
  'GET /api/trades': {
    operationId: 'listTrades',
    parameters: { pair: 'RTC/USDC', limit: '50' },
    answers: { 200: { description: 'Completed trades, newest first.', example: ok({ trades: [exampleTrade] }) } },
    errors: [...EVERY_ROUTE, 'pair_unsupported', 'limit_must_be_integer', 'limit_must_be_positive', 'before_invalid', ...READ_MODEL],
  },
  'GET /api/stats': {
    operationId: 'getStats',
    parameters: { pair: 'RTC/USDC' },
    answers: { 200: { description: 'Volumes, prices and open interest of one pair.', example: ok(exampleStats) } },
    errors: [...EVERY_ROUTE, 'pair_unsupported', ...READ_MODEL],
  },
  'POST /admin/reconcile': {
    operationId: 'reconcileNow',
    answers: { 200: { description: 'One full reconciler pass ran; the summary counts what it examined and what each order became.', example: ok({ summary: { examined: 4, completed: 1, payout_pending: 1, recovered: 0, reverted: 0, refunded: 1, expired: 1, lapsed: 0, locked: 0, left: 0 } }) } },
    errors: [...EVERY_ROUTE, ...ADMIN, ...BODY, ...IDEMPOTENCY, ...READ_MODEL],
  },
  'GET /admin/recovery': {
    operationId: 'listRecovery',
    answers: { 200: { description: 'Orders in settlement_recovery or stuck in flight, with their last error and attempts.', example: ok({ orders: [exampleRecoveryEntry] }) } },
    errors: [...EVERY_ROUTE, ...ADMIN, ...READ_MODEL],
  },
  'POST /admin/orders/:id/redrive': {
    operationId: 'redriveOrder',
    parameters: { id: EXAMPLE_ORDER_ID },
    body: requestExamples.redrive,
    answers: { 200: { description: 'OperatorRedriveRequested was recorded and the driver ran; the order as it now stands.', example: ok({ order: exampleOrder('completed', 8), position }), headers: ['etag', 'idempotent-replayed'] } },
    errors: [...EVERY_ROUTE, ...ADMIN, ...BODY, ...IDEMPOTENCY, ...ON_ORDER, 'operator_required', 'reason_required', 'order_not_in_recovery'],
  },
  'GET /admin/projections': {
    operationId: 'listProjections',
    answers: { 200: { description: 'Each read model\'s checkpoint, lag and state, and a rebuild under way.', example: ok({ projections: [{ name: 'orders', position: '1042', lag: 0, state: 'running', rebuild: null }] }) } },
    errors: [...EVERY_ROUTE, ...ADMIN],
  },
  'GET /admin/verify': {
    operationId: 'verifyLedger',
    answers: { 200: { description: 'verify ran now, read-only: every order stream against the invariants and the read models against a fresh rebuild. No findings means a clean ledger.', example: ok({
      streams: 42, events: 311, read_models: true,
      findings: [{ kind: 'read_model_row_differs', stream: `order-${EXAMPLE_ORDER_ID}`, message: `orders row ${EXAMPLE_ORDER_ID} differs from a rebuild in status` }],
    }) } },
    errors: [...EVERY_ROUTE, ...ADMIN],
  },
  'GET /admin/chain': {
    operationId: 'chainStatus',
    answers: { 200: { description: 'The quote chain\'s head and finalized block and the follower\'s checkpoint; `chain` is null in manual mode.', example: ok({ chain: {
      mode: 'sandbox', chain_id: 31337, contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      head: { number: '120', hash: `0x${'ab'.repeat(32)}`, timestamp: '2026-01-01T00:20:00.000Z' },
      finalized: { number: '119', hash: `0x${'cd'.repeat(32)}`, timestamp: '2026-01-01T00:19:59.000Z' },
      checkpoint: { number: '119', hash: `0x${'cd'.repeat(32)}` }, lag_blocks: 0, last_reorg: null, problem: null,
    } }) } },
    errors: [...EVERY_ROUTE, ...ADMIN],
  },
  'POST /admin/projections/:name/rebuild': {
    operationId: 'rebuildProjection',
    parameters: { name: 'orders' },
    answers: { 202: { description: 'A rebuild started beside the serving copy; follow it in GET /admin/projections.', example: ok({ rebuild_id: 'r_m3k9x2' }) } },
    errors: [...EVERY_ROUTE, ...ADMIN, ...BODY, ...IDEMPOTENCY, 'projection_not_found', 'rebuild_in_progress'],
  },
  'GET /health': {
    operationId: 'health',
    answers: { 200: { description: 'The process is up (liveness).', example: { ok: true, status: 'up' } } },
    errors: ['internal_error'],
  },
  'GET /ready': {
    operationId: 'ready',
    answers: { 200: { description: 'The store answers and every read model runs within the allowed lag.', example: ok({ head_position: '1042', projections: [{ name: 'orders', lag: 0, state: 'running' }] }) } },
    errors: ['not_ready', 'internal_error'],
  },
  'GET /metrics': {
    operationId: 'metrics',
    answers: { 200: { description: 'Prometheus text exposition format.', example: '# TYPE otc_ledger_orders gauge\notc_ledger_orders{status="settlement_recovery"} 0\n' } },
    errors: ['internal_error'],
  },
};

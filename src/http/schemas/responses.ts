import { z } from 'zod';

/**
 * Response schemas. The zod serializer also enforces them: fields not declared here are dropped,
 * so no internal field (ciphertexts, folded state) can leak into an answer by accident.
 */

const nullableString = z.string().nullable();
const money = (description: string) => z.string().meta({ description });

export const orderResource = z
  .object({
    order_id: z.string(),
    side: nullableString,
    pair: nullableString,
    quote_currency: nullableString,
    status: z.string().meta({ description: 'escrow_pending, open, matching, matched, lapsed (no valid quote lock by lock_by: off the book until re-armed or cancelled), settling, payout_pending, settlement_recovery, refund_pending, completed, cancelled, expired, rejected' }),
    version: z.number().int().meta({ description: 'The stream version; also the ETag' }),
    maker_wallet: nullableString,
    taker_wallet: nullableString,
    seller_wallet: nullableString,
    buyer_wallet: nullableString,
    maker_eth_address: nullableString,
    taker_eth_address: nullableString,
    amount_rtc: money('"100.000000"'),
    amount_micro_rtc: money('"100000000"'),
    price_per_rtc: money('"0.100000000"'),
    price_per_rtc_nano_quote: money('"100000000"'),
    total_quote: money('decimal string, 9 decimals'),
    total_quote_nano: money('integer string'),
    htlc_hash: nullableString,
    htlc_secret: nullableString.meta({ description: 'Only once the payout is confirmed (status completed)' }),
    escrow: z.object({ job_id: nullableString, status: z.string() }),
    payout: z.object({ key: nullableString, status: z.string(), tx_hash: nullableString }),
    quote_tx: nullableString,
    created_at: nullableString,
    expires_at: nullableString,
    matched_at: nullableString,
    settle_by: nullableString,
    completed_at: nullableString,
    updated_at: nullableString,
    quote_leg: z
      .object({
        mode: z.string().meta({ description: 'evm, sandbox or manual' }),
        chain_id: z.number().int().nullable(),
        contract: nullableString.meta({ description: 'The HTLC contract the buyer locks in' }),
        token: nullableString.meta({ description: 'The token to lock (the zero address for ETH)' }),
        amount_base_units: nullableString.meta({ description: 'The least the buyer locks, in the token\'s base units' }),
        lock_by: nullableString.meta({ description: 'The lock must be in a block at or before this time' }),
        timelock_min: nullableString.meta({ description: 'The earliest valid timelock T' }),
        timelock_max: nullableString.meta({ description: 'The latest valid timelock T' }),
        status: nullableString.meta({ description: 'awaiting_custody (matched, the ledger\'s worker not yet holding the escrow job: no lock instructions yet, do not lock), awaiting_lock, locked, claimed, refunded, lapsed (no valid lock by lock_by), or null' }),
        swap_id: nullableString,
        lock_tx: nullableString,
        claim_tx: nullableString,
        refund_tx: nullableString,
        rejected_locks: z.array(z.object({ swap_id: z.string(), tx_hash: z.string(), reason: z.string(), timelock: z.string() })),
      })
      .nullable()
      .meta({ description: 'The quote leg: what the buyer must lock and what the ledger saw on the chain (the same in listings)' }),
  })
  .meta({ id: 'Order' });

/** `{ok: false, error, message}`, plus the fields a particular refusal carries (status, order, retryable). */
export const errorBody = z
  .looseObject({
    ok: z.literal(false),
    error: z.string().meta({ description: 'A stable snake_case code' }),
    message: z.string(),
    status: z.string().optional().meta({ description: 'The order status, on 409 order_not_matched and similar' }),
    retryable: z.boolean().optional(),
    order: orderResource.optional(),
    position: z.string().optional(),
  })
  .meta({ id: 'Error' });

const position = z.string().meta({ description: 'Global position of the last event written; pass as min_position to read your write' });

export const commandAnswer = z.object({
  ok: z.literal(true),
  order: orderResource,
  position,
  htlc_secret: z.string().optional().meta({ description: 'The generated preimage, shown this once to the seller' }),
});

export const confirmAnswer = z.object({
  ok: z.literal(true),
  settled: z.boolean(),
  order: orderResource,
  trade_id: z.string().optional(),
  position,
});

export const cancelAnswer = z.object({ ok: z.literal(true), order: orderResource, escrow_refunded: z.boolean(), position });

export const orderAnswer = z.object({ ok: z.literal(true), order: orderResource });

export const orderListAnswer = z.object({
  ok: z.literal(true),
  orders: z.array(orderResource),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const historyAnswer = z.object({
  ok: z.literal(true),
  order_id: z.string(),
  chain_valid: z.boolean().meta({ description: 'Every event\'s prev_hash and hash verify' }),
  events: z.array(
    z.object({
      version: z.number().int(),
      type: z.string(),
      recorded_at: z.string(),
      actor: z.string(),
      data: z.record(z.string(), z.unknown()).meta({ description: 'The event\'s data; a preimage or its ciphertext never appears' }),
      status_after: z.string().meta({ description: 'The order status this event led to' }),
      event_id: z.string(),
      correlation_id: z.string().meta({ description: 'The X-Request-Id of the request that wrote it (or of the reconciler pass)' }),
      causation_id: z.string().nullable().meta({ description: 'The event_id of the event that caused it, when one did' }),
      prev_hash: z.string().meta({ description: 'The previous event\'s hash (64 zeros for the first)' }),
      hash: z.string().meta({ description: 'sha256(prev_hash || canonical JSON of {data, stream, type, version}), hex' }),
      /** Set on the event where the order's fold broke (unreadable, or it cannot follow the order). */
      problem: z.object({ kind: z.string(), reason: z.string() }).nullable().meta({ description: 'Set on the event where the order\'s fold broke (unreadable, or it cannot follow the order); null otherwise' }),
    }),
  ),
});

/** Declares the error answers a route can give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBody> {
  const all = [400, 413, 415, 429, 500, ...statuses];
  return Object.fromEntries(all.map((s) => [s, errorBody])) as Record<number, typeof errorBody>;
}

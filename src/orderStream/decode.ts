import { z } from 'zod';
import { NODE_STEP_KINDS, ORDER_EVENT_TYPES, REORGED_KINDS, type OrderEvent, type OrderEventType } from '../aggregates/order/events.js';
import { SCHEMA_VERSION } from '../eventstore/chainedEvents.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { compileShape, type ShapeCheck } from './shapeCheck.js';

/**
 * The one validating decode of a recorded order event: its type must be known and its data must
 * have exactly the shape that type has under the event's schema version. Nothing reaches the fold
 * through a cast.
 */

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/, 'a non-negative decimal integer');
const instant = z.iso.datetime({ offset: true });
const text = z.string();
const party = z.enum(['maker', 'taker']);
const hash = z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hex digits');

const chainPosition = z.object({
  key: text, chain_id: z.number().int().positive(), swap_id: text, tx_hash: text, block_number: decimal, block_time_seconds: decimal,
});

const event = <T extends string, D extends z.ZodType>(type: T, data: D) => z.object({ type: z.literal(type), data });

/** Data shapes as written since schema version 1 (the chain's version may grow without them changing). */
const V1 = z.discriminatedUnion('type', [
  event('OrderPlaced', z.object({
    order_id: text,
    side: z.enum(['buy', 'sell']),
    pair: z.enum(['RTC/USDC', 'RTC/ETH', 'RTC/ERG']),
    maker_wallet: text,
    amount_micro_rtc: decimal,
    price_per_rtc_nano_quote: decimal,
    total_quote_nano: decimal,
    maker_eth_address: text.nullable(),
    htlc_hash: hash.nullable(),
    ttl_seconds: z.number().int().nonnegative(),
    placed_at: instant,
    expires_at: instant,
  })),
  event('EscrowLocked', z.object({ party, job_id: text, amount_micro_rtc: decimal, locked_at: instant })),
  event('EscrowLockFailed', z.object({ party, reason: text })),
  event('Matched', z.object({
    taker_wallet: text, taker_eth_address: text.nullable(), htlc_hash: hash.nullable(), matched_at: instant, settle_by: instant,
    quote_leg: z.object({ mode: z.enum(['sandbox', 'evm']), chain_id: z.number().int().positive(), lock_by: instant }).optional(),
  })),
  event('MatchAborted', z.object({ reason: text })),
  event('SettlementClaimed', z.object({ quote_tx: text, secret_ciphertext: text, claimed_at: instant })),
  event('EscrowReleased', z.object({ job_id: text, released_at: instant })),
  event('SettlementReverted', z.object({ reason: text })),
  event('PayoutQueued', z.object({ payout_key: text, tx_hash: text, to: text, amount_micro_rtc: decimal, queued_at: instant })),
  event('PayoutConfirmed', z.object({ payout_key: text, tx_hash: text, confirmed_at: instant, trade_id: text })),
  event('PayoutVoided', z.object({ payout_key: text, reason: text })),
  event('SettlementRecoveryRequired', z.object({ reason: text, detail: text })),
  event('OperatorRedriveRequested', z.object({ operator: text, reason: text })),
  event('OrderCancelled', z.object({ by: text, cancelled_at: instant })),
  event('OrderExpired', z.object({ deadline: z.enum(['expires_at', 'settle_by']), expired_at: instant })),
  event('RefundIssued', z.object({ party, job_id: text, refunded_at: instant })),
  event('QuoteLockObserved', chainPosition.extend({ timelock_seconds: decimal, amount_base_units: decimal })),
  event('QuoteLockRejected', chainPosition.extend({ timelock_seconds: decimal, reason: text })),
  event('QuoteClaimObserved', chainPosition.extend({ secret_ciphertext: text })),
  event('QuoteRefundObserved', chainPosition),
  event('EscrowHeld', z.object({ job_id: text, worker_wallet: text, expires_at: instant.nullable(), held_at: instant })),
  event('MatchLapsed', z.object({
    lock_by: instant, finalized_time_seconds: decimal, buyer_wallet: text, buyer_eth_address: text.nullable(), lapsed_at: instant,
  })),
  event('OrderRearmed', z.object({ htlc_hash: hash, rearmed_at: instant })),
  event('QuoteObservationReorged', z.object({ key: text, swap_id: text, tx_hash: text, block_number: decimal, kind: z.enum(REORGED_KINDS) })),
  event('RefundHoldReleased', z.object({ decision: z.enum(['no_swap', 'refund_allowed']), finalized_time_seconds: decimal, released_at: instant })),
  event('NodeCallFailed', z.object({ step: z.enum(NODE_STEP_KINDS), key: text, outcome: z.enum(['rejected', 'unknown']), reason: text })),
]) satisfies z.ZodType<OrderEvent>;

/** Fails to compile when an event type has no schema. */
const everyTypeDecodes: [Exclude<OrderEventType, z.infer<typeof V1>['type']>] extends [never] ? true : never = true;
void everyTypeDecodes;

/** Each event type's data check, compiled from V1 itself (one schema to maintain). */
const V1_CHECKS: ReadonlyMap<string, ShapeCheck> = new Map(V1.options.map((option) => [option.shape.type.value, compileShape(option.shape.data)]));

/** Schema versions → the data shapes in force from that version on. */
const SCHEMAS_SINCE: ReadonlyMap<number, z.ZodType<OrderEvent>> = new Map([[1, V1]]);

function schemaFor(version: number): z.ZodType<OrderEvent> | null {
  if (!Number.isInteger(version) || version < 1 || version > SCHEMA_VERSION) return null;
  for (let v = version; v >= 1; v--) {
    const schemas = SCHEMAS_SINCE.get(v);
    if (schemas !== undefined) return schemas;
  }
  return null;
}

export type DecodeFailure = { readonly kind: 'unknown_event' | 'malformed_event'; readonly reason: string };
export type Decoded = { readonly ok: true; readonly event: OrderEvent } | ({ readonly ok: false } & DecodeFailure);

const EVENT_TYPES: ReadonlySet<string> = new Set<OrderEventType>(ORDER_EVENT_TYPES);

export function decodeOrderEvent(recorded: RecordedEvent): Decoded {
  return decode(recorded, true);
}

/** The decode by zod alone, whatever the data: the reference the compiled check must agree with (tests). */
export function decodeWithZod(recorded: RecordedEvent): Decoded {
  return decode(recorded, false);
}

function decode(recorded: RecordedEvent, checkFirst: boolean): Decoded {
  if (!EVENT_TYPES.has(recorded.type)) return { ok: false, kind: 'unknown_event', reason: `unknown event type ${recorded.type}` };
  const schema = schemaFor(recorded.metadata.schema_version);
  if (schema === null) return { ok: false, kind: 'unknown_event', reason: `unknown schema version ${recorded.metadata.schema_version}` };
  // Data that zod would pass through unchanged is the event as it is: no copy, no zod (shapeCheck.ts).
  if (checkFirst && schema === V1 && V1_CHECKS.get(recorded.type)?.(recorded.data) === true) {
    return { ok: true, event: { type: recorded.type, data: recorded.data } as OrderEvent };
  }
  const parsed = schema.safeParse({ type: recorded.type, data: recorded.data });
  if (!parsed.success) return { ok: false, kind: 'malformed_event', reason: z.prettifyError(parsed.error).replace(/\n/g, '; ') };
  return { ok: true, event: parsed.data };
}

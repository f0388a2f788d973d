/**
 * The order aggregate's events, all past tense and JSON-safe: bigints as decimal strings, times as
 * ISO-8601 UTC strings. The type string equals the type name. Nothing here ever holds a preimage
 * in clear; `secret_ciphertext` of SettlementClaimed and QuoteClaimObserved are the only places a
 * preimage lives, encrypted.
 */

export type Side = 'buy' | 'sell';
export type Pair = 'RTC/USDC' | 'RTC/ETH' | 'RTC/ERG';
export const PAIRS: readonly Pair[] = ['RTC/USDC', 'RTC/ETH', 'RTC/ERG'];
/** Which party of the trade owns an escrow: the maker of a sell, the taker of a buy. */
export type Party = 'maker' | 'taker';
export type Deadline = 'expires_at' | 'settle_by';

export interface OrderPlaced {
  type: 'OrderPlaced';
  data: {
    order_id: string;
    side: Side;
    pair: Pair;
    maker_wallet: string;
    amount_micro_rtc: string;
    price_per_rtc_nano_quote: string;
    total_quote_nano: string;
    maker_eth_address: string | null;
    /** sha256 of the seller's preimage; set for sell orders, null for buy orders until matched. */
    htlc_hash: string | null;
    ttl_seconds: number;
    placed_at: string;
    expires_at: string;
  };
}

export interface EscrowLocked {
  type: 'EscrowLocked';
  data: { party: Party; job_id: string; amount_micro_rtc: string; locked_at: string };
}

export interface EscrowLockFailed {
  type: 'EscrowLockFailed';
  data: { party: Party; reason: string };
}

export interface Matched {
  type: 'Matched';
  data: {
    taker_wallet: string;
    taker_eth_address: string | null;
    /** Set for buy orders: the taker is the seller and owns the preimage. */
    htlc_hash: string | null;
    matched_at: string;
    settle_by: string;
    /**
     * Present when the pair's quote leg is read on a chain (sandbox or evm): the chain, and the time
     * by which the buyer's lock must be in a block. Absent in manual mode (and on events recorded before it).
     */
    quote_leg?: QuoteLegTerms;
  };
}

/** The chain-verified quote leg agreed at match. */
export interface QuoteLegTerms {
  mode: 'sandbox' | 'evm';
  chain_id: number;
  lock_by: string;
}

/** Where on the quote chain a fact was seen; `key` = chain id:tx hash:log index makes it idempotent. */
export interface ChainPosition {
  key: string;
  chain_id: number;
  swap_id: string;
  tx_hash: string;
  block_number: string;
  /** The block's timestamp, Unix seconds: chain time, never the ledger's clock. */
  block_time_seconds: string;
}

export interface MatchAborted {
  type: 'MatchAborted';
  data: { reason: string };
}

export interface SettlementClaimed {
  type: 'SettlementClaimed';
  data: { quote_tx: string; secret_ciphertext: string; claimed_at: string };
}

export interface EscrowReleased {
  type: 'EscrowReleased';
  data: { job_id: string; released_at: string };
}

export interface SettlementReverted {
  type: 'SettlementReverted';
  data: { reason: string };
}

export interface PayoutQueued {
  type: 'PayoutQueued';
  data: { payout_key: string; tx_hash: string; to: string; amount_micro_rtc: string; queued_at: string };
}

export interface PayoutConfirmed {
  type: 'PayoutConfirmed';
  data: { payout_key: string; tx_hash: string; confirmed_at: string; trade_id: string };
}

export interface PayoutVoided {
  type: 'PayoutVoided';
  data: { payout_key: string; reason: string };
}

export interface SettlementRecoveryRequired {
  type: 'SettlementRecoveryRequired';
  data: { reason: string; detail: string };
}

export interface OperatorRedriveRequested {
  type: 'OperatorRedriveRequested';
  data: { operator: string; reason: string };
}

export interface OrderCancelled {
  type: 'OrderCancelled';
  data: { by: string; cancelled_at: string };
}

export interface OrderExpired {
  type: 'OrderExpired';
  data: { deadline: Deadline; expired_at: string };
}

export interface RefundIssued {
  type: 'RefundIssued';
  data: { party: Party; job_id: string; refunded_at: string };
}

/**
 * The ledger's worker holds the escrow job (claimed it at the node), so its poster can no longer
 * cancel it: from the match on, before the buyer is told to lock the quote (quote-chain.md,
 * custody). `expires_at` is the job's expiry as the node reported it (ISO), which bounds T.
 */
export interface EscrowHeld {
  type: 'EscrowHeld';
  data: { job_id: string; worker_wallet: string; expires_at: string | null; held_at: string };
}

/** The buyer's HTLC lock, verified against the order's terms: the seller may now claim (and confirm). */
export interface QuoteLockObserved {
  type: 'QuoteLockObserved';
  data: ChainPosition & { timelock_seconds: string; amount_base_units: string };
}

/**
 * A lock naming the order or carrying its hashlock that does not count (wrong terms, late, or a
 * second lock). It never changes who is paid, but its seller may still claim it until its timelock.
 */
export interface QuoteLockRejected {
  type: 'QuoteLockRejected';
  data: ChainPosition & { timelock_seconds: string; reason: string };
}

/** A claim on chain whose preimage hashes to htlc_hash: a reveal, with the effect of a confirm. */
export interface QuoteClaimObserved {
  type: 'QuoteClaimObserved';
  /** The preimage only as ciphertext, bound to the order like a confirm's. */
  data: ChainPosition & { secret_ciphertext: string };
}

/** A swap with the order's hashlock refunded to its buyer. */
export interface QuoteRefundObserved {
  type: 'QuoteRefundObserved';
  data: ChainPosition;
}

/**
 * An observation recorded earlier whose log a reorganisation took off the canonical chain. A lock,
 * rejected lock or refund is forgotten (a lock made again is observed afresh); a claim is kept, since
 * its preimage was public once and the RTC stays the buyer's (invariant 9).
 */
export interface QuoteObservationReorged {
  type: 'QuoteObservationReorged';
  data: { key: string; swap_id: string; tx_hash: string; block_number: string; kind: ReorgedKind };
}

export const REORGED_KINDS = ['lock', 'rejected_lock', 'claim', 'refund'] as const;
export type ReorgedKind = (typeof REORGED_KINDS)[number];

/**
 * No valid quote lock in a finalized block by lock_by, and the final look-up found no swap under the
 * hashlock that can still be claimed. A sell order becomes `lapsed` (off the book, re-arm or cancel);
 * a buy order, whose maker (the buyer) never paid, ends `expired` once its taker's escrow is refunded.
 * The buyer is named so lapses can be counted per wallet and quote address (429 match_cooldown).
 */
export interface MatchLapsed {
  type: 'MatchLapsed';
  data: {
    lock_by: string;
    /** The finalized block's time (Unix seconds) the lapse was decided at: chain time, never the ledger's clock. */
    finalized_time_seconds: string;
    buyer_wallet: string;
    buyer_eth_address: string | null;
    lapsed_at: string;
  };
}

/** A lapsed sell order back on the book under a fresh hashlock (the old one is never offered again). */
export interface OrderRearmed {
  type: 'OrderRearmed';
  data: { htlc_hash: string; rearmed_at: string };
}

/**
 * A refund held back (`quote_lock_before_refund`: a swap under the hashlock was seen or looked up
 * live before the refund went out) released on the final look-up's word: at a finalized block of
 * this time the chain proves no swap under the hashlock can still be claimed, and what the order saw
 * agrees, so the parked refund is due again (the refund step looks the chain up once more first).
 */
export interface RefundHoldReleased {
  type: 'RefundHoldReleased';
  data: { decision: 'no_swap' | 'refund_allowed'; finalized_time_seconds: string; released_at: string };
}

/**
 * A node call that left the order where it was (a refused or unknown outcome the driver will retry).
 * Recorded so that audits see every attempt and the reconciler can count attempts and back off.
 */
export interface NodeCallFailed {
  type: 'NodeCallFailed';
  data: { step: NodeStepKind; key: string; outcome: 'rejected' | 'unknown'; reason: string };
}

/** The node interactions the driver makes (the kinds of DueStep), as recorded when one fails. */
export const NODE_STEP_KINDS = ['lock', 'lock_lookup', 'release', 'release_lookup', 'escrow_watch', 'hold', 'payout', 'payout_lookup', 'refund'] as const;
export type NodeStepKind = (typeof NODE_STEP_KINDS)[number];

export type OrderEvent =
  | OrderPlaced
  | EscrowLocked
  | EscrowLockFailed
  | Matched
  | MatchAborted
  | SettlementClaimed
  | EscrowReleased
  | SettlementReverted
  | PayoutQueued
  | PayoutConfirmed
  | PayoutVoided
  | SettlementRecoveryRequired
  | OperatorRedriveRequested
  | OrderCancelled
  | OrderExpired
  | RefundIssued
  | NodeCallFailed
  | QuoteLockObserved
  | QuoteLockRejected
  | QuoteClaimObserved
  | QuoteRefundObserved
  | EscrowHeld
  | MatchLapsed
  | OrderRearmed
  | QuoteObservationReorged
  | RefundHoldReleased;

export type OrderEventType = OrderEvent['type'];

export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'OrderPlaced',
  'EscrowLocked',
  'EscrowLockFailed',
  'Matched',
  'MatchAborted',
  'SettlementClaimed',
  'EscrowReleased',
  'SettlementReverted',
  'PayoutQueued',
  'PayoutConfirmed',
  'PayoutVoided',
  'SettlementRecoveryRequired',
  'OperatorRedriveRequested',
  'OrderCancelled',
  'OrderExpired',
  'RefundIssued',
  'NodeCallFailed',
  'QuoteLockObserved',
  'QuoteLockRejected',
  'QuoteClaimObserved',
  'QuoteRefundObserved',
  'EscrowHeld',
  'MatchLapsed',
  'OrderRearmed',
  'QuoteObservationReorged',
  'RefundHoldReleased',
];

// Stream names live in one module for every writer; the aggregate re-exports its own.
export { ORDER_STREAM_PREFIX, orderStream, orderIdFromStream } from '../../streamNames.js';

export const ORDER_ID_PATTERN = /^otc_[0-9a-f]{16}$/;

/** Deterministic: an order completes at most once, so its trade id can never be recorded twice. */
export function tradeIdFor(orderId: string): string {
  return `trade_${orderId.slice(4)}`;
}

import type { Pair, Party, Side } from './events.js';

export type OrderStatus = OrderState['status'];

export const TERMINAL_STATUSES = ['completed', 'cancelled', 'expired', 'rejected'] as const satisfies readonly OrderStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
/** Statuses where an external step is due: the driver owns them while their last event is fresh. */
export const IN_FLIGHT_STATUSES: readonly OrderStatus[] = ['escrow_pending', 'matching', 'settling', 'payout_pending', 'refund_pending'];
export const ORDER_STATUSES: readonly OrderStatus[] = [
  'escrow_pending', 'open', 'matching', 'matched', 'lapsed', 'settling', 'payout_pending',
  'settlement_recovery', 'refund_pending', 'completed', 'cancelled', 'expired', 'rejected',
];

/** An order's terms, fixed when it is placed. */
export interface OrderTerms {
  readonly orderId: string;
  readonly side: Side;
  readonly pair: Pair;
  readonly makerWallet: string;
  readonly makerEthAddress: string | null;
  readonly amountMicroRtc: bigint;
  readonly pricePerRtcNanoQuote: bigint;
  readonly totalQuoteNano: bigint;
  readonly ttlSeconds: number;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** What every placed order carries: its terms and the count of node calls that left it where it was. */
export interface OrderBase extends OrderTerms {
  /** Failed node calls since the order last moved forward. */
  readonly attempts: number;
  readonly lastError: string | null;
  /** The chain-verified quote leg, from the match on; null before it and in manual mode. */
  readonly quoteLeg: QuoteLeg | null;
}

/** Where a quote-chain fact was seen. */
export interface ChainSighting {
  readonly swapId: string;
  readonly txHash: string;
  readonly blockTimeSeconds: bigint;
}

/** The buyer's verified HTLC lock: the one that counts. */
export interface QuoteLock extends ChainSighting {
  /** T: the seller can claim strictly before it, the buyer refund from it on (chain time). */
  readonly timelockSeconds: bigint;
  readonly amountBaseUnits: bigint;
}

/** A lock that does not count, still claimable by its seller until its timelock. */
export interface RejectedLock extends ChainSighting {
  readonly timelockSeconds: bigint;
  readonly reason: string;
}

/**
 * The quote leg of a chain-verified order (sandbox or evm mode): what has been seen on the chain
 * under the order's hashlock. `claim` set means the preimage is public: the RTC is the buyer's.
 */
export interface QuoteLeg {
  readonly mode: 'sandbox' | 'evm';
  readonly chainId: number;
  readonly lockBy: string;
  readonly lock: QuoteLock | null;
  readonly rejected: readonly RejectedLock[];
  readonly claim: (ChainSighting & { readonly secretCiphertext: string }) | null;
  readonly refunds: readonly ChainSighting[];
  /** Observation keys already recorded: a repeat delivery decides []. */
  readonly observed: readonly string[];
}

/** The taker of a matched order. */
export interface Taker {
  readonly wallet: string;
  readonly ethAddress: string | null;
  readonly matchedAt: string;
  /** The settle window's end: a matched order not confirmed by then expires and refunds the seller. */
  readonly settleBy: string;
}

/** The seller's RTC held by the node as a RIP-302 job, posted by `party`. */
export interface Escrow {
  readonly party: Party;
  readonly jobId: string;
  readonly amountMicroRtc: bigint;
  /** Set once the ledger's worker holds the job (EscrowHeld): its poster can no longer cancel it. */
  readonly hold?: EscrowHold;
}

/** The ledger's worker claimed the escrow job at the node; the job lasts until `expiresAt`. */
export interface EscrowHold {
  readonly workerWallet: string;
  /** ISO time the node expires the job; null when it did not say. */
  readonly expiresAt: string | null;
}

/** A valid settlement claim: the seller's quote transaction and the preimage, encrypted. */
export interface Claim {
  readonly quoteTx: string;
  readonly secretCiphertext: string;
}

/** A payout the node accepted under `key`. */
export interface Payout {
  readonly key: string;
  readonly txHash: string;
}

/**
 * The payouts tried so far. The node voids a key for good, so each attempt after a void takes a
 * fresh key; `voided` is the latest voided payout, kept for the record.
 */
export interface PayoutHistory {
  readonly voidedCount: number;
  readonly voided: Payout | null;
}

export interface NoOrder {
  readonly status: 'none';
}

/** A sell order waiting for its maker's RTC to be locked. */
export interface EscrowPendingOrder extends OrderBase {
  readonly status: 'escrow_pending';
  readonly side: 'sell';
  /** sha256 of the seller's preimage: the HTLC hash both legs of the trade are locked under. */
  readonly htlcHash: string;
}

/** On the book: a sell order with its maker's escrow locked, or a buy order (no escrow until matched). */
export type OpenOrder = OrderBase & { readonly status: 'open' } & (
  | { readonly side: 'sell'; readonly htlcHash: string; readonly escrow: Escrow }
  | { readonly side: 'buy'; readonly htlcHash: null; readonly escrow: null }
);

/** A buy order taken, waiting for its taker's (the seller's) RTC to be locked. */
export interface MatchingOrder extends OrderBase {
  readonly status: 'matching';
  readonly side: 'buy';
  readonly htlcHash: string;
  readonly taker: Taker;
}

/** Both parties known and the seller's escrow held; `claim` survives a reverted settlement. */
export interface MatchedOrder extends OrderBase {
  readonly status: 'matched';
  readonly htlcHash: string;
  readonly taker: Taker;
  readonly escrow: Escrow;
  /** Set when a valid claim was made and reverted: proof that this order must never be refunded. */
  readonly claim: Claim | null;
}

/**
 * A sell order whose buyer locked no valid quote by lock_by (chain time, after an empty final
 * look-up): off the book with its maker's escrow still held, until the maker re-arms it with a fresh
 * hashlock or cancels it. The quote leg and the taker stay: a late lock by that taker may still be
 * claimed with the old preimage, and such a claim pays the taker (the atomic-swap rule).
 */
export interface LapsedOrder extends OrderBase {
  readonly status: 'lapsed';
  readonly side: 'sell';
  readonly htlcHash: string;
  readonly taker: Taker;
  readonly escrow: Escrow;
  readonly lapsedAt: string;
}

/** Claimed: the release is due while `released` is false, then the payout. */
export interface SettlingOrder extends OrderBase {
  readonly status: 'settling';
  readonly htlcHash: string;
  readonly taker: Taker;
  readonly escrow: Escrow;
  readonly released: boolean;
  readonly claim: Claim;
  readonly payouts: PayoutHistory;
}

export interface PayoutPendingOrder extends OrderBase {
  readonly status: 'payout_pending';
  readonly htlcHash: string;
  readonly taker: Taker;
  readonly escrow: Escrow;
  readonly claim: Claim;
  readonly payout: Payout;
  readonly payouts: PayoutHistory;
}

/** Cancelled or expired with its escrow still held: the refund to its owner is due. */
export interface RefundPendingOrder extends OrderBase {
  readonly status: 'refund_pending';
  readonly htlcHash: string | null;
  readonly taker: Taker | null;
  readonly escrow: Escrow;
  /** What the order ends as once the node has returned the escrow. */
  readonly endingAs: 'cancelled' | 'expired';
}

/** The states an order can be parked from, and resumed into by an operator's re-drive. */
export type ParkedOrder = OpenOrder | MatchedOrder | LapsedOrder | SettlingOrder | PayoutPendingOrder | RefundPendingOrder;

/** An outcome unknown or broken: waits for the reconciler or an operator, remembering what it was doing. */
export interface RecoveryOrder extends OrderBase {
  readonly status: 'settlement_recovery';
  readonly reason: string;
  readonly parked: ParkedOrder;
}

export interface CompletedOrder extends OrderBase {
  readonly status: 'completed';
  readonly htlcHash: string;
  readonly taker: Taker;
  readonly escrow: Escrow;
  readonly claim: Claim;
  readonly payout: Payout;
  readonly payouts: PayoutHistory;
  readonly completedAt: string;
  readonly tradeId: string;
}

export interface CancelledOrder extends OrderBase {
  readonly status: 'cancelled';
  readonly htlcHash: string | null;
  /** The escrow returned to its owner; null for an order that never held one. */
  readonly refunded: Escrow | null;
}

export interface ExpiredOrder extends OrderBase {
  readonly status: 'expired';
  readonly htlcHash: string | null;
  readonly taker: Taker | null;
  readonly refunded: Escrow | null;
}

/** A sell order whose maker's lock the node refused for good. */
export interface RejectedOrder extends OrderBase {
  readonly status: 'rejected';
  readonly side: 'sell';
  readonly htlcHash: string;
}

export type OrderState =
  | NoOrder
  | EscrowPendingOrder
  | OpenOrder
  | MatchingOrder
  | MatchedOrder
  | LapsedOrder
  | SettlingOrder
  | PayoutPendingOrder
  | RefundPendingOrder
  | RecoveryOrder
  | CompletedOrder
  | CancelledOrder
  | ExpiredOrder
  | RejectedOrder;

/** Any order that exists. */
export type PlacedOrder = Exclude<OrderState, NoOrder>;

export const initialState: OrderState = { status: 'none' };

export function isTerminal(status: OrderStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly OrderStatus[]).includes(status);
}

/**
 * A broken assumption in the code (never a user's mistake): it crashes rather than being refused.
 * Also what folding a stream throws for an event that cannot follow the state before it.
 */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}

/** The seller gives the RTC: the maker of a sell order, the taker of a buy order. */
export function sellerWallet(state: { side: Side; makerWallet: string; taker: Taker }): string {
  return state.side === 'sell' ? state.makerWallet : state.taker.wallet;
}

/** The buyer receives the RTC: the taker of a sell order, the maker of a buy order. */
export function buyerWallet(state: { side: Side; makerWallet: string; taker: Taker }): string {
  return state.side === 'sell' ? state.taker.wallet : state.makerWallet;
}

/** Whose RTC the escrow holds (the poster of its job): the party that locked it. */
export function escrowWallet(state: { makerWallet: string; taker: Taker | null; escrow: Escrow }): string {
  if (state.escrow.party === 'maker') return state.makerWallet;
  assert(state.taker !== null, 'a taker escrow has a taker');
  return state.taker.wallet;
}

/** Which party locks escrow: always the seller. */
export function sellerParty(side: Side): Party {
  return side === 'sell' ? 'maker' : 'taker';
}

/** The taker of any order that has one. */
export function takerOf(state: OrderState): Taker | null {
  switch (state.status) {
    case 'matching': case 'matched': case 'lapsed': case 'settling': case 'payout_pending': case 'completed':
      return state.taker;
    case 'refund_pending': case 'expired':
      return state.taker;
    case 'settlement_recovery':
      return takerOf(state.parked);
    default:
      return null;
  }
}

/** The claim of any order that has one (a reverted claim included). */
export function claimOf(state: OrderState): Claim | null {
  switch (state.status) {
    case 'matched': case 'settling': case 'payout_pending': case 'completed':
      return state.claim;
    case 'settlement_recovery':
      return claimOf(state.parked);
    default:
      return null;
  }
}

/** The escrow an order still holds at the node (locked, neither released nor refunded), if any. */
export function heldEscrow(state: OrderState): Escrow | null {
  switch (state.status) {
    case 'open': case 'matched': case 'lapsed': case 'refund_pending':
      return state.escrow;
    case 'settling':
      return state.released ? null : state.escrow;
    case 'settlement_recovery':
      return heldEscrow(state.parked);
    default:
      return null;
  }
}

/** The escrow released to the ledger's worker, if any. */
export function releasedEscrow(state: OrderState): Escrow | null {
  switch (state.status) {
    case 'settling':
      return state.released ? state.escrow : null;
    case 'payout_pending': case 'completed':
      return state.escrow;
    case 'settlement_recovery':
      return releasedEscrow(state.parked);
    default:
      return null;
  }
}

/** What became of the payout under `key`: none when the order never had one under it. */
export function payoutStatusUnder(state: OrderState, key: string): 'none' | 'queued' | 'confirmed' | 'voided' {
  switch (state.status) {
    case 'payout_pending':
      return state.payout.key === key ? 'queued' : 'none';
    case 'completed':
      return state.payout.key === key ? 'confirmed' : 'none';
    case 'settling':
      return state.payouts.voided?.key === key ? 'voided' : 'none';
    case 'settlement_recovery':
      return payoutStatusUnder(state.parked, key);
    default:
      return 'none';
  }
}

import type { Deadline, OrderEvent, Pair, Party, Side } from './events.js';

export type OrderStatus =
  | 'none'
  | 'escrow_pending'
  | 'open'
  | 'matching'
  | 'matched'
  | 'settling'
  | 'payout_pending'
  | 'settlement_recovery'
  | 'refund_pending'
  | 'completed'
  | 'cancelled'
  | 'expired'
  | 'rejected';

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['completed', 'cancelled', 'expired', 'rejected'];
/** Statuses where an external step is due: the driver owns them while their last event is fresh. */
export const IN_FLIGHT_STATUSES: readonly OrderStatus[] = ['escrow_pending', 'matching', 'settling', 'payout_pending', 'refund_pending'];
export const ORDER_STATUSES: readonly OrderStatus[] = [
  'escrow_pending', 'open', 'matching', 'matched', 'settling', 'payout_pending',
  'settlement_recovery', 'refund_pending', 'completed', 'cancelled', 'expired', 'rejected',
];

export type EscrowStatus = 'none' | 'locking' | 'locked' | 'released' | 'refunded';
export type PayoutStatus = 'none' | 'queued' | 'confirmed' | 'voided';

/** The escrow holding the seller's RTC at the node, as a RIP-302 job. */
export interface EscrowState {
  readonly party: Party | null;
  readonly jobId: string | null;
  readonly status: EscrowStatus;
  readonly lockedMicroRtc: bigint;
  readonly releasedMicroRtc: bigint;
  readonly refundedMicroRtc: bigint;
}

export interface PayoutState {
  readonly key: string | null;
  readonly status: PayoutStatus;
  readonly txHash: string | null;
  /** How many queued payouts the node voided; each later attempt uses a fresh key. */
  readonly voidedCount: number;
  readonly confirmedCount: number;
}

export interface OrderState {
  readonly status: OrderStatus;
  readonly orderId: string | null;
  readonly side: Side | null;
  readonly pair: Pair | null;
  readonly makerWallet: string | null;
  readonly takerWallet: string | null;
  readonly makerEthAddress: string | null;
  readonly takerEthAddress: string | null;
  readonly amountMicroRtc: bigint;
  readonly pricePerRtcNanoQuote: bigint;
  readonly totalQuoteNano: bigint;
  /** sha256 of the seller's preimage: the HTLC hash both legs of the trade are locked under. */
  readonly htlcHash: string | null;
  readonly ttlSeconds: number;
  readonly createdAt: string | null;
  readonly expiresAt: string | null;
  readonly matchedAt: string | null;
  /** The settle window's end: a matched order not confirmed by then expires and refunds the seller. */
  readonly settleBy: string | null;
  readonly quoteTx: string | null;
  readonly secretCiphertext: string | null;
  readonly escrow: EscrowState;
  readonly payout: PayoutState;
  /** What a pending refund ends in, once the node has returned the escrow. */
  readonly endingAs: 'cancelled' | 'expired' | null;
  readonly recoveryReason: string | null;
  readonly lastError: string | null;
  /** Failed node calls since the order last moved forward. */
  readonly attempts: number;
  readonly completedAt: string | null;
  readonly tradeId: string | null;
  readonly updatedAt: string | null;
}

export const initialState: OrderState = {
  status: 'none',
  orderId: null,
  side: null,
  pair: null,
  makerWallet: null,
  takerWallet: null,
  makerEthAddress: null,
  takerEthAddress: null,
  amountMicroRtc: 0n,
  pricePerRtcNanoQuote: 0n,
  totalQuoteNano: 0n,
  htlcHash: null,
  ttlSeconds: 0,
  createdAt: null,
  expiresAt: null,
  matchedAt: null,
  settleBy: null,
  quoteTx: null,
  secretCiphertext: null,
  escrow: { party: null, jobId: null, status: 'none', lockedMicroRtc: 0n, releasedMicroRtc: 0n, refundedMicroRtc: 0n },
  payout: { key: null, status: 'none', txHash: null, voidedCount: 0, confirmedCount: 0 },
  endingAs: null,
  recoveryReason: null,
  lastError: null,
  attempts: 0,
  completedAt: null,
  tradeId: null,
  updatedAt: null,
};

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The seller gives the RTC: the maker of a sell order, the taker of a buy order. */
export function sellerWallet(state: OrderState): string | null {
  return state.side === 'sell' ? state.makerWallet : state.takerWallet;
}

/** The buyer receives the RTC: the taker of a sell order, the maker of a buy order. */
export function buyerWallet(state: OrderState): string | null {
  return state.side === 'sell' ? state.takerWallet : state.makerWallet;
}

/** Whose RTC the escrow holds (the poster of its job): the party that locked it. */
export function escrowWallet(state: OrderState): string | null {
  return state.escrow.party === 'taker' ? state.takerWallet : state.makerWallet;
}

/** Which party locks escrow: always the seller. */
export function sellerParty(side: Side | null): Party {
  return side === 'sell' ? 'maker' : 'taker';
}

/** Folds one event into the state; never refuses a recorded fact. `at` is the event's time. */
export function evolve(state: OrderState, event: OrderEvent, at: string | null = null): OrderState {
  const next = apply(state, event);
  if (at === null) return next;
  // apply() built `next` fresh (or returned `state` untouched): stamp it without a second copy,
  // which matters when a rebuild folds a million events.
  if (next === state) return { ...state, updatedAt: at };
  (next as { updatedAt: string | null }).updatedAt = at;
  return next;
}

function apply(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced': {
      const d = event.data;
      const sell = d.side === 'sell';
      return {
        ...state,
        status: sell ? 'escrow_pending' : 'open',
        orderId: d.order_id,
        side: d.side,
        pair: d.pair,
        makerWallet: d.maker_wallet,
        makerEthAddress: d.maker_eth_address,
        amountMicroRtc: BigInt(d.amount_micro_rtc),
        pricePerRtcNanoQuote: BigInt(d.price_per_rtc_nano_quote),
        totalQuoteNano: BigInt(d.total_quote_nano),
        htlcHash: d.htlc_hash,
        ttlSeconds: d.ttl_seconds,
        createdAt: d.placed_at,
        expiresAt: d.expires_at,
        escrow: sell ? { ...state.escrow, party: 'maker', status: 'locking' } : state.escrow,
      };
    }
    case 'EscrowLocked':
      return {
        ...state, ...PROGRESSED,
        status: event.data.party === 'maker' ? 'open' : 'matched',
        escrow: {
          ...state.escrow,
          party: event.data.party,
          jobId: event.data.job_id,
          status: 'locked',
          lockedMicroRtc: state.escrow.lockedMicroRtc + BigInt(event.data.amount_micro_rtc),
        },
      };
    case 'EscrowLockFailed':
      return {
        ...state, ...PROGRESSED,
        status: event.data.party === 'maker' ? 'rejected' : state.status,
        lastError: event.data.reason,
        escrow: { ...state.escrow, status: 'none', jobId: null },
      };
    case 'Matched': {
      const buy = state.side === 'buy';
      return {
        ...state,
        status: buy ? 'matching' : 'matched',
        takerWallet: event.data.taker_wallet,
        takerEthAddress: event.data.taker_eth_address,
        htlcHash: buy ? event.data.htlc_hash : state.htlcHash,
        matchedAt: event.data.matched_at,
        settleBy: event.data.settle_by,
        escrow: buy ? { ...state.escrow, party: 'taker', status: 'locking', jobId: null } : state.escrow,
      };
    }
    case 'MatchAborted':
      return {
        ...state, ...PROGRESSED,
        status: 'open',
        takerWallet: null,
        takerEthAddress: null,
        htlcHash: null,
        matchedAt: null,
        settleBy: null,
        escrow: { ...state.escrow, party: null, status: 'none', jobId: null },
      };
    default:
      return applySettlement(state, event);
  }
}

function applySettlement(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'SettlementClaimed':
      return {
        ...state,
        status: 'settling',
        quoteTx: event.data.quote_tx,
        secretCiphertext: event.data.secret_ciphertext,
      };
    case 'EscrowReleased':
      return {
        ...state, ...PROGRESSED,
        status: 'settling',
        escrow: { ...state.escrow, status: 'released', releasedMicroRtc: state.escrow.lockedMicroRtc },
      };
    case 'SettlementReverted':
      // quote_tx and the ciphertext stay: they prove a valid claim was made, so this order must
      // never be refunded to its seller (see expireOrder), and a re-drive resumes the release.
      return { ...state, ...PROGRESSED, status: 'matched', lastError: event.data.reason };
    case 'PayoutQueued':
      return {
        ...state, ...PROGRESSED,
        status: 'payout_pending',
        payout: { ...state.payout, key: event.data.payout_key, status: 'queued', txHash: event.data.tx_hash },
      };
    case 'PayoutConfirmed':
      return {
        ...state, ...PROGRESSED,
        status: 'completed',
        completedAt: event.data.confirmed_at,
        tradeId: event.data.trade_id,
        payout: { ...state.payout, status: 'confirmed', txHash: event.data.tx_hash, confirmedCount: state.payout.confirmedCount + 1 },
      };
    case 'PayoutVoided':
      return {
        ...state,
        status: 'settlement_recovery',
        recoveryReason: `payout_voided: ${event.data.reason}`,
        payout: { ...state.payout, status: 'voided', voidedCount: state.payout.voidedCount + 1 },
      };
    case 'SettlementRecoveryRequired':
      return { ...state, status: 'settlement_recovery', recoveryReason: event.data.reason, lastError: event.data.detail };
    case 'OperatorRedriveRequested':
      return { ...state, status: resumedStatus(state), recoveryReason: null, attempts: 0 };
    default:
      return applyEnding(state, event);
  }
}

function applyEnding(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderCancelled':
      return endOrder(state, 'cancelled');
    case 'OrderExpired':
      return endOrder(state, 'expired');
    case 'RefundIssued':
      return {
        ...state, ...PROGRESSED,
        status: state.endingAs ?? 'cancelled',
        escrow: { ...state.escrow, status: 'refunded', refundedMicroRtc: state.escrow.lockedMicroRtc },
      };
    case 'NodeCallFailed':
      return { ...state, attempts: state.attempts + 1, lastError: `${event.data.step}: ${event.data.reason}` };
    default:
      return state;
  }
}

/**
 * Where a re-driven order picks up: the work it was doing when it went to recovery. A refund that
 * went to recovery resumes as a refund (never as a release: nobody claimed settlement), a queued
 * payout resumes with its look-up under the same key, an unclaimed order whose escrow is still held
 * is matched again, and everything else resumes settling (release, or a fresh payout after a void).
 */
function resumedStatus(state: OrderState): OrderStatus {
  if (state.endingAs !== null && state.escrow.status === 'locked') return 'refund_pending';
  if (state.payout.status === 'queued') return 'payout_pending';
  if (state.quoteTx === null && state.escrow.status === 'locked') return state.takerWallet === null ? 'open' : 'matched';
  return 'settling';
}

/** An order whose escrow is locked waits for its refund before it ends. */
function endOrder(state: OrderState, endingAs: 'cancelled' | 'expired'): OrderState {
  const holdsEscrow = state.escrow.status === 'locked';
  return { ...state, status: holdsEscrow ? 'refund_pending' : endingAs, endingAs };
}

/** Spread after the state when an order moves forward: its failed-attempt count starts again. */
const PROGRESSED = { attempts: 0, lastError: null } as const;

/** The state after a whole history. */
export function foldEvents(events: Iterable<OrderEvent>): OrderState {
  let state = initialState;
  for (const event of events) state = evolve(state, event);
  return state;
}

import type { Pair, Party, Side } from './events.js';
import {
  claimOf,
  heldEscrow,
  releasedEscrow,
  takerOf,
  type Escrow,
  type OrderState,
  type OrderStatus,
  type PlacedOrder,
} from './state.js';

export type EscrowStatus = 'none' | 'locking' | 'locked' | 'released' | 'refunded';
export type PayoutStatus = 'none' | 'queued' | 'confirmed' | 'voided';

export interface EscrowFacts {
  readonly party: Party | null;
  readonly jobId: string | null;
  readonly status: EscrowStatus;
  readonly lockedMicroRtc: bigint;
  readonly releasedMicroRtc: bigint;
  readonly refundedMicroRtc: bigint;
}

export interface PayoutFacts {
  readonly key: string | null;
  readonly status: PayoutStatus;
  readonly txHash: string | null;
  readonly voidedCount: number;
  readonly confirmedCount: number;
}

/**
 * An order flattened into one record, null where its state has nothing: what read models store as
 * columns and what the API shows. The decider never reads it; it decides on the state's union.
 */
export interface OrderFacts {
  readonly status: OrderStatus;
  readonly orderId: string;
  readonly side: Side;
  readonly pair: Pair;
  readonly makerWallet: string;
  readonly takerWallet: string | null;
  readonly sellerWallet: string | null;
  readonly buyerWallet: string | null;
  readonly makerEthAddress: string | null;
  readonly takerEthAddress: string | null;
  readonly amountMicroRtc: bigint;
  readonly pricePerRtcNanoQuote: bigint;
  readonly totalQuoteNano: bigint;
  readonly htlcHash: string | null;
  readonly ttlSeconds: number;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly matchedAt: string | null;
  readonly settleBy: string | null;
  readonly quoteTx: string | null;
  readonly secretCiphertext: string | null;
  readonly escrow: EscrowFacts;
  readonly payout: PayoutFacts;
  readonly endingAs: 'cancelled' | 'expired' | null;
  readonly recoveryReason: string | null;
  readonly lastError: string | null;
  readonly attempts: number;
  readonly completedAt: string | null;
  readonly tradeId: string | null;
}

/** What is shown of an order: its facts less the bookkeeping, as the orders read model keeps them. */
export type OrderSummary = Omit<OrderFacts, 'escrow' | 'payout' | 'secretCiphertext' | 'endingAs' | 'recoveryReason' | 'lastError' | 'attempts' | 'tradeId' | 'ttlSeconds'> & {
  readonly escrow: Pick<EscrowFacts, 'jobId' | 'status'>;
  readonly payout: Pick<PayoutFacts, 'key' | 'status' | 'txHash'>;
};

export function orderFacts(state: PlacedOrder): OrderFacts {
  const taker = takerOf(state);
  const claim = claimOf(state);
  const side = state.side;
  return {
    status: state.status,
    orderId: state.orderId,
    side,
    pair: state.pair,
    makerWallet: state.makerWallet,
    takerWallet: taker?.wallet ?? null,
    sellerWallet: side === 'sell' ? state.makerWallet : (taker?.wallet ?? null),
    buyerWallet: side === 'sell' ? (taker?.wallet ?? null) : state.makerWallet,
    makerEthAddress: state.makerEthAddress,
    takerEthAddress: taker?.ethAddress ?? null,
    amountMicroRtc: state.amountMicroRtc,
    pricePerRtcNanoQuote: state.pricePerRtcNanoQuote,
    totalQuoteNano: state.totalQuoteNano,
    htlcHash: htlcHashOf(state),
    ttlSeconds: state.ttlSeconds,
    createdAt: state.createdAt,
    expiresAt: state.expiresAt,
    matchedAt: taker?.matchedAt ?? null,
    settleBy: taker?.settleBy ?? null,
    quoteTx: claim?.quoteTx ?? null,
    secretCiphertext: claim?.secretCiphertext ?? null,
    escrow: escrowFacts(state),
    payout: payoutFacts(state),
    endingAs: endingAsOf(state),
    recoveryReason: state.status === 'settlement_recovery' ? state.reason : null,
    lastError: state.lastError,
    attempts: state.attempts,
    completedAt: state.status === 'completed' ? state.completedAt : null,
    tradeId: state.status === 'completed' ? state.tradeId : null,
  };
}

function htlcHashOf(state: PlacedOrder): string | null {
  return state.status === 'settlement_recovery' ? state.parked.htlcHash : state.htlcHash;
}

function endingAsOf(state: OrderState): 'cancelled' | 'expired' | null {
  if (state.status === 'refund_pending') return state.endingAs;
  if (state.status === 'cancelled' || state.status === 'expired') return state.status;
  return state.status === 'settlement_recovery' ? endingAsOf(state.parked) : null;
}

const NO_ESCROW = { jobId: null, lockedMicroRtc: 0n, releasedMicroRtc: 0n, refundedMicroRtc: 0n } as const;

function settled(escrow: Escrow, status: 'locked' | 'released' | 'refunded'): EscrowFacts {
  const amount = escrow.amountMicroRtc;
  return {
    party: escrow.party,
    jobId: escrow.jobId,
    status,
    lockedMicroRtc: amount,
    releasedMicroRtc: status === 'released' ? amount : 0n,
    refundedMicroRtc: status === 'refunded' ? amount : 0n,
  };
}

export function escrowFacts(state: OrderState): EscrowFacts {
  const held = heldEscrow(state);
  if (held !== null) return settled(held, 'locked');
  const released = releasedEscrow(state);
  if (released !== null) return settled(released, 'released');
  switch (state.status) {
    case 'escrow_pending': return { ...NO_ESCROW, party: 'maker', status: 'locking' };
    case 'matching': return { ...NO_ESCROW, party: 'taker', status: 'locking' };
    case 'rejected': return { ...NO_ESCROW, party: 'maker', status: 'none' };
    case 'cancelled': case 'expired':
      return state.refunded === null ? { ...NO_ESCROW, party: null, status: 'none' } : settled(state.refunded, 'refunded');
    default: return { ...NO_ESCROW, party: null, status: 'none' };
  }
}

export function payoutFacts(state: OrderState): PayoutFacts {
  switch (state.status) {
    case 'settling':
      return { key: state.payouts.voided?.key ?? null, status: state.payouts.voided === null ? 'none' : 'voided', txHash: state.payouts.voided?.txHash ?? null, voidedCount: state.payouts.voidedCount, confirmedCount: 0 };
    case 'payout_pending':
      return { key: state.payout.key, status: 'queued', txHash: state.payout.txHash, voidedCount: state.payouts.voidedCount, confirmedCount: 0 };
    case 'completed':
      return { key: state.payout.key, status: 'confirmed', txHash: state.payout.txHash, voidedCount: state.payouts.voidedCount, confirmedCount: 1 };
    case 'settlement_recovery':
      return payoutFacts(state.parked);
    default:
      return { key: null, status: 'none', txHash: null, voidedCount: 0, confirmedCount: 0 };
  }
}

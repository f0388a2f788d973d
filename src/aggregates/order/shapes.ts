import type {
  CancelledOrder,
  Claim,
  CompletedOrder,
  Escrow,
  ExpiredOrder,
  LapsedOrder,
  MatchedOrder,
  MatchingOrder,
  OpenOrder,
  OrderBase,
  ParkedOrder,
  Payout,
  PayoutHistory,
  PayoutPendingOrder,
  QuoteLeg,
  RecoveryOrder,
  RefundPendingOrder,
  RejectedOrder,
  SettlingOrder,
  Taker,
} from './state.js';

/**
 * Each order state built in one object literal (issue 14: the fold runs once per event on every
 * read path). `{ ...base(s), status, … }` allocated the base twice and grew the copy property by
 * property; a literal with every field gets one allocation and one hidden class per status, so V8
 * keeps the fold monomorphic. The terms are carried over from `s` as they are; `Carry` is what
 * changes with every step (the failed-attempt count, the last error, the quote leg).
 *
 * The field order is the one the spreads produced (terms, then the status's own fields); nothing
 * depends on it, but it keeps states printed by tests as they were.
 */
export interface Carry {
  readonly attempts: number;
  readonly lastError: string | null;
  readonly quoteLeg: QuoteLeg | null;
}

/** The carry of a step: a step forward (`progressed`) starts the failed-attempt count again. */
export function carryOf(s: OrderBase, progressed: boolean): Carry {
  return progressed ? { attempts: 0, lastError: null, quoteLeg: s.quoteLeg } : s;
}

export function openSell(s: OrderBase, c: Carry, htlcHash: string, escrow: Escrow): OpenOrder {
  return {
    orderId: s.orderId, side: 'sell', pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'open', htlcHash, escrow,
  };
}

export function openBuy(s: OrderBase, c: Carry): OpenOrder {
  return {
    orderId: s.orderId, side: 'buy', pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'open', htlcHash: null, escrow: null,
  };
}

export function rejectedOrder(s: OrderBase, c: Carry, htlcHash: string): RejectedOrder {
  return {
    orderId: s.orderId, side: 'sell', pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'rejected', htlcHash,
  };
}

export function matchingOrder(s: OrderBase, c: Carry, htlcHash: string, taker: Taker): MatchingOrder {
  return {
    orderId: s.orderId, side: 'buy', pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'matching', htlcHash, taker,
  };
}

export function matchedOrder(s: OrderBase, c: Carry, htlcHash: string, taker: Taker, escrow: Escrow, claim: Claim | null): MatchedOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'matched', htlcHash, taker, escrow, claim,
  };
}

export function lapsedOrder(s: OrderBase, c: Carry, htlcHash: string, taker: Taker, escrow: Escrow, lapsedAt: string): LapsedOrder {
  return {
    orderId: s.orderId, side: 'sell', pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'lapsed', htlcHash, taker, escrow, lapsedAt,
  };
}

/** The settle steps' shared part: who, what, and which payouts were tried. */
export interface Settlement {
  readonly htlcHash: string;
  readonly taker: Taker;
  readonly escrow: Escrow;
  readonly claim: Claim;
  readonly payouts: PayoutHistory;
}

export function settlingOrder(s: OrderBase, c: Carry, t: Settlement, released: boolean): SettlingOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg,
    status: 'settling', htlcHash: t.htlcHash, taker: t.taker, escrow: t.escrow, released, claim: t.claim, payouts: t.payouts,
  };
}

export function payoutPendingOrder(s: OrderBase, c: Carry, t: Settlement, payout: Payout): PayoutPendingOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg,
    status: 'payout_pending', htlcHash: t.htlcHash, taker: t.taker, escrow: t.escrow, claim: t.claim, payout, payouts: t.payouts,
  };
}

export function completedOrder(s: OrderBase, c: Carry, t: Settlement, payout: Payout, completedAt: string, tradeId: string): CompletedOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg,
    status: 'completed', htlcHash: t.htlcHash, taker: t.taker, escrow: t.escrow, claim: t.claim, payouts: t.payouts, payout, completedAt, tradeId,
  };
}

export function recoveryOrder(s: OrderBase, c: Carry, reason: string, parked: ParkedOrder): RecoveryOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'settlement_recovery', reason, parked,
  };
}

export function refundPendingOrder(
  s: OrderBase, c: Carry, htlcHash: string | null, taker: Taker | null, escrow: Escrow, endingAs: 'cancelled' | 'expired',
): RefundPendingOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'refund_pending', htlcHash, taker, escrow, endingAs,
  };
}

export function cancelledOrder(s: OrderBase, c: Carry, htlcHash: string | null, refunded: Escrow | null): CancelledOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'cancelled', htlcHash, refunded,
  };
}

export function expiredOrder(s: OrderBase, c: Carry, htlcHash: string | null, taker: Taker | null, refunded: Escrow | null): ExpiredOrder {
  return {
    orderId: s.orderId, side: s.side, pair: s.pair, makerWallet: s.makerWallet, makerEthAddress: s.makerEthAddress,
    amountMicroRtc: s.amountMicroRtc, pricePerRtcNanoQuote: s.pricePerRtcNanoQuote, totalQuoteNano: s.totalQuoteNano,
    ttlSeconds: s.ttlSeconds, createdAt: s.createdAt, expiresAt: s.expiresAt,
    attempts: c.attempts, lastError: c.lastError, quoteLeg: c.quoteLeg, status: 'expired', htlcHash, taker, refunded,
  };
}

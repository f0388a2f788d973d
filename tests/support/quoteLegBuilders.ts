import type {
  ChainFact,
  ObserveQuoteClaim,
  ObserveQuoteLock,
  ObserveQuoteRefund,
  OrderEvent,
  QuoteClaimObserved,
  QuoteLockObserved,
  QuoteLockRejected,
  QuoteRefundObserved,
  MatchLapsed,
  OrderRearmed,
  RearmOrder,
  QuoteChainTime,
  QuoteObservationReorged,
  ReorgedKind,
} from '../../src/aggregates/order/index.js';
import { at, CIPHERTEXT, escrowLocked, LATER, MAKER, MATCHED_AT, matched, matchedBuy, placedBuy, placedSell, TAKER } from './orderBuilders.js';

/** Builders for the quote leg's events and observation commands (a sandbox chain, fixed times). */
export const CHAIN_ID = 31337;
export const LOCK_WINDOW_SECONDS = 1_800;
export const LOCK_BY = at(MATCHED_AT, LOCK_WINDOW_SECONDS);
export const sec = (date: Date): bigint => BigInt(Math.floor(date.getTime() / 1000));
export const LOCK_TIME = sec(at(MATCHED_AT, 600));
export const T = LOCK_TIME + 7_200n;
export const GUARD = 1_800n;

export const quoteLeg = { mode: 'sandbox' as const, chain_id: CHAIN_ID, lock_by: LOCK_BY.toISOString() };
export const fact = (n: number, blockTimeSeconds = LOCK_TIME): ChainFact => ({
  key: `${CHAIN_ID}:0x${n.toString(16).padStart(64, '0')}:0`, chainId: CHAIN_ID, swapId: `0x${'5'.repeat(63)}${n}`,
  txHash: `0x${n.toString(16).padStart(64, '0')}`, blockNumber: BigInt(n), blockTimeSeconds,
});
export const position = (f: ChainFact) => ({
  key: f.key, chain_id: f.chainId, swap_id: f.swapId, tx_hash: f.txHash, block_number: f.blockNumber.toString(), block_time_seconds: f.blockTimeSeconds.toString(),
});

export const observeLock = (f: ChainFact, rejection: string | null = null, timelockSeconds = T): ObserveQuoteLock => ({
  type: 'ObserveQuoteLock', fact: f, timelockSeconds, amountBaseUnits: 10_000_000n, rejection,
});
export const observeClaim = (f: ChainFact, preimage: string): ObserveQuoteClaim => ({ type: 'ObserveQuoteClaim', fact: f, preimage, secretCiphertext: CIPHERTEXT });
export const observeRefund = (f: ChainFact): ObserveQuoteRefund => ({ type: 'ObserveQuoteRefund', fact: f });
export const lockObserved = (f: ChainFact, timelock = T): QuoteLockObserved => ({
  type: 'QuoteLockObserved', data: { ...position(f), timelock_seconds: timelock.toString(), amount_base_units: '10000000' },
});
export const lockRejected = (f: ChainFact, reason = 'wrong_hashlock'): QuoteLockRejected => ({
  type: 'QuoteLockRejected', data: { ...position(f), timelock_seconds: T.toString(), reason },
});
export const claimObserved = (f: ChainFact): QuoteClaimObserved => ({ type: 'QuoteClaimObserved', data: { ...position(f), secret_ciphertext: CIPHERTEXT } });
export const refundObserved = (f: ChainFact): QuoteRefundObserved => ({ type: 'QuoteRefundObserved', data: position(f) });
/** A recorded observation at `f` whose log a reorganisation removed. */
export const observationReorged = (f: ChainFact, kind: ReorgedKind = 'lock'): QuoteObservationReorged => ({
  type: 'QuoteObservationReorged', data: { key: f.key, swap_id: f.swapId, tx_hash: f.txHash, block_number: f.blockNumber.toString(), kind },
});
export const chainConfirm = (finalized: bigint | null) => ({ quoteChain: { finalizedTimeSeconds: finalized, claimGuardSeconds: GUARD } });

/** Matched on the chain, for either side. */
export const chainMatched = (side: 'sell' | 'buy'): OrderEvent[] =>
  side === 'sell'
    ? [placedSell(), escrowLocked('maker'), matched({ quote_leg: quoteLeg })]
    : [placedBuy(), matchedBuy({ quote_leg: quoteLeg }), escrowLocked('taker')];


/** A lapse decided at the finalized block just past lock_by. */
export const matchLapsed = (buyerWallet = TAKER, buyerEthAddress: string | null = '0x' + 'cd'.repeat(20)): MatchLapsed => ({
  type: 'MatchLapsed',
  data: { lock_by: LOCK_BY.toISOString(), finalized_time_seconds: (sec(LOCK_BY) + 1n).toString(), buyer_wallet: buyerWallet, buyer_eth_address: buyerEthAddress, lapsed_at: LATER.toISOString() },
});
/** A fresh hashlock for a re-armed order (any 64 hex digits: the decider never needs its preimage). */
export const FRESH_HTLC_HASH = 'a1'.repeat(32);
export const orderRearmed = (htlcHash = FRESH_HTLC_HASH): OrderRearmed => ({ type: 'OrderRearmed', data: { htlc_hash: htlcHash, rearmed_at: LATER.toISOString() } });
export const chainTime = (decision: QuoteChainTime['decision'], finalizedTimeSeconds: bigint): QuoteChainTime => ({ decision, finalizedTimeSeconds });
export const rearmOrder = (overrides: Partial<RearmOrder> = {}): RearmOrder => ({
  type: 'RearmOrder', wallet: MAKER, htlcHash: FRESH_HTLC_HASH, quoteChain: chainTime('no_swap', sec(LOCK_BY) + 1n), now: LATER, ...overrides,
});
/** A sell order matched on the chain whose buyer never locked: lapsed. */
export const sellLapsed = (): OrderEvent[] => [...chainMatched('sell'), matchLapsed()];

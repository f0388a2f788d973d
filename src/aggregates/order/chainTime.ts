/**
 * The chain-time rules of the decider (quote-chain.md, "Chain time decides"): what a chain-verified
 * order does once the finalized chain has moved past lock_by or past every timelock, and when the
 * RTC of a lapsed order may leave it. Chain time arrives in the command (QuoteChainTime: the final
 * look-up's decision at a finalized block and that block's time); the wall clock never decides here.
 */
import type * as C from './commands.js';
import { refuse } from './errors.js';
import type { OrderEvent } from './events.js';
import { type LapsedOrder, type MatchedOrder, type OrderState, type PlacedOrder, type QuoteLeg, type RecoveryOrder, type RefundPendingOrder } from './state.js';
import { canonicalWallet, sameWallet } from './wallet.js';

const iso = (date: Date): string => date.toISOString();
const secondsOf = (isoTime: string): bigint => BigInt(Math.floor(Date.parse(isoTime) / 1000));

/**
 * Every swap the order has seen under its hashlock (its lock and every rejected lock) is either seen
 * refunded or has reached its timelock T at `chainTimeSeconds`: from T on the contract refuses the
 * seller's claim, so none of them can still reveal the preimage. This is what the ledger itself saw;
 * the final look-up in the command is what the chain says, and both must agree before RTC moves.
 */
export function seenSwapsDead(leg: QuoteLeg, chainTimeSeconds: bigint): boolean {
  const refunded = new Set(leg.refunds.map((r) => r.swapId.toLowerCase()));
  const seen = [...(leg.lock ? [leg.lock] : []), ...leg.rejected];
  return seen.every((s) => refunded.has(s.swapId.toLowerCase()) || chainTimeSeconds >= s.timelockSeconds);
}

/** The chain says no swap under the hashlock can still be claimed, and what the order saw agrees. */
function noLiveSwap(leg: QuoteLeg, chain: C.QuoteChainTime | null): boolean {
  if (chain === null) return leg.lock === null && leg.rejected.length === 0;
  if (chain.decision !== 'no_swap' && chain.decision !== 'refund_allowed') return false;
  return seenSwapsDead(leg, chain.finalizedTimeSeconds);
}

/** Strictly past lock_by: a lock in a block at lock_by still counts. */
const pastLockBy = (leg: QuoteLeg, chainTimeSeconds: bigint): boolean => chainTimeSeconds > secondsOf(leg.lockBy);

/**
 * Whether a final look-up can change anything for this order at this finalized chain time: the
 * reconciler asks this (pure, no I/O) before it reads the chain, so it reads only for orders that
 * have reached lock_by with no lock, or every seen swap's timelock, or a lapsed order's expiry.
 */
export function chainLookupDue(state: OrderState, finalizedTimeSeconds: bigint | null, now: Date): boolean {
  if (finalizedTimeSeconds === null) return false;
  if (state.status === 'lapsed') return now.getTime() >= Date.parse(state.expiresAt) && state.quoteLeg !== null;
  if (state.status !== 'matched' || state.quoteLeg === null || state.claim !== null || state.quoteLeg.claim !== null) return false;
  const leg = state.quoteLeg;
  if (leg.lock === null) return pastLockBy(leg, finalizedTimeSeconds);
  return seenSwapsDead(leg, finalizedTimeSeconds);
}

/**
 * A chain-verified matched order on the finalized chain's word, never on the wall clock while a
 * lock may exist. No valid lock by lock_by and no live swap: the match lapses (MatchLapsed; a sell
 * order goes off the book, a buy order's seller is refunded). A verified lock whose every swap is
 * refunded or past its T unclaimed: the seller's RTC is refunded (OrderExpired at settle_by).
 * A claim anywhere, or a swap that may still be claimed: nothing yet.
 */
export function expireOnChainTime(c: C.ExpireOrder, state: MatchedOrder): OrderEvent[] {
  const leg = state.quoteLeg;
  const chain = c.quoteChain ?? null;
  if (leg === null || chain === null || state.claim !== null || leg.claim !== null) return [];
  if (!noLiveSwap(leg, chain)) return [];
  if (leg.lock === null) {
    if (!pastLockBy(leg, chain.finalizedTimeSeconds)) return [];
    return [lapsed(c, state, leg, chain.finalizedTimeSeconds)];
  }
  if (chain.decision !== 'refund_allowed') return [];
  return [{ type: 'OrderExpired', data: { deadline: 'settle_by', expired_at: iso(c.now) } }];
}

function lapsed(c: C.ExpireOrder, state: MatchedOrder, leg: QuoteLeg, finalizedTimeSeconds: bigint): OrderEvent {
  // The buyer is who failed to lock: the taker of a sell order, the maker of a buy order.
  const buyer = state.side === 'sell'
    ? { wallet: state.taker.wallet, ethAddress: state.taker.ethAddress }
    : { wallet: state.makerWallet, ethAddress: state.makerEthAddress };
  return {
    type: 'MatchLapsed',
    data: {
      lock_by: leg.lockBy, finalized_time_seconds: finalizedTimeSeconds.toString(),
      buyer_wallet: buyer.wallet, buyer_eth_address: buyer.ethAddress?.toLowerCase() ?? null, lapsed_at: iso(c.now),
    },
  };
}

/**
 * A lapsed order past its expires_at leaves for good, its escrow refunded to the maker, but only once
 * no swap under its hashlock can still be claimed (a late lock of the lapsed taker's may be).
 */
export function expireLapsed(c: C.ExpireOrder, state: LapsedOrder): OrderEvent[] {
  if (c.now.getTime() < Date.parse(state.expiresAt)) return [];
  // Only the chain's word refunds here: without a look-up, an unseen late lock cannot be ruled out.
  if (state.quoteLeg !== null && (c.quoteChain == null || !noLiveSwap(state.quoteLeg, c.quoteChain))) return [];
  return [{ type: 'OrderExpired', data: { deadline: 'expires_at', expired_at: iso(c.now) } }];
}

/** Cancel of a lapsed order: its maker's escrow is refunded, so no swap under the hashlock may be live. */
export function cancelLapsed(c: C.CancelOrder, state: LapsedOrder): OrderEvent[] {
  if (state.quoteLeg !== null && !noLiveSwap(state.quoteLeg, c.quoteChain ?? null)) {
    refuse('quote_lock_live', 'a swap under this order\'s hashlock may still be claimed; cancel once its timelock has passed', state.status);
  }
  return [{ type: 'OrderCancelled', data: { by: canonicalWallet(c.wallet), cancelled_at: iso(c.now) } }];
}

/**
 * Re-arm (quote-chain.md, "Hashlocks are used once"): the maker of a lapsed sell order puts it back
 * on the book under a fresh hashlock, never the old one (a late lock by the lapsed buyer could then
 * be claimed with the same preimage as a new buyer's), and only once no swap under the old hashlock
 * is live. A repeat with the hash it was re-armed with is already satisfied.
 */
export function rearmOrder(c: C.RearmOrder, state: PlacedOrder): OrderEvent[] {
  const htlcHash = c.htlcHash.toLowerCase();
  if (!sameWallet(c.wallet, state.makerWallet)) refuse('not_maker', 'only the maker may re-arm an order');
  if (state.status === 'open' && state.side === 'sell' && state.htlcHash.toLowerCase() === htlcHash) return [];
  if (state.status !== 'lapsed') return refuse('order_not_lapsed', `the order is ${state.status}`, state.status);
  if (state.htlcHash.toLowerCase() === htlcHash) refuse('htlc_hash_reused', 'a re-armed order needs a fresh htlc_hash, never its old one');
  if (state.quoteLeg !== null && !noLiveSwap(state.quoteLeg, c.quoteChain)) {
    refuse('quote_lock_live', 'a swap under the old hashlock may still be claimed; re-arm once its timelock has passed', state.status);
  }
  if (c.now.getTime() >= Date.parse(state.expiresAt)) refuse('order_expired', 'the order has expired');
  return [{ type: 'OrderRearmed', data: { htlc_hash: htlcHash, rearmed_at: iso(c.now) } }];
}


// ── A refund held back while a swap under the hashlock may still be claimed (simulator seeds 2127, 2249, 2450, 3168) ──

/**
 * Why a refund_pending order is parked when a swap under its hashlock was seen, or looked up, live
 * before its refund went out: a late lock seen (evolve.ts, holdRefundBack) or the refund step's own
 * final look-up (src/settlement/refundGate.ts). The reconciler releases it on the chain's word.
 */
export const REFUND_HOLD_REASON = 'quote_lock_before_refund';

export type RefundHold = RecoveryOrder & { readonly parked: RefundPendingOrder };

/** A refund parked by REFUND_HOLD_REASON (never by any other reason: those stay the operator's). */
export function isRefundHold(state: OrderState): state is RefundHold {
  return state.status === 'settlement_recovery' && state.reason === REFUND_HOLD_REASON && state.parked.status === 'refund_pending';
}

/**
 * The refund step's rule, right before its node call (pure): a chain-verified order's RTC goes back
 * only when the final look-up just made (at the chain's finalized block now) and what the order saw
 * agree that no swap under the hashlock can still be claimed. No look-up (null: the chain could not
 * be read) never lets it go: nothing is guessed. An order with no quote leg (manual) is not asked.
 */
export function refundMayGoOut(state: RefundPendingOrder, chain: C.QuoteChainTime | null): boolean {
  const leg = state.quoteLeg;
  if (leg === null) return true;
  if (leg.claim !== null || chain === null) return false;
  return noLiveSwap(leg, chain);
}

/**
 * Whether the reconciler should look the chain up for a held refund (pure, no I/O): only once what
 * the order saw is dead at the follower's finalized time (every seen swap refunded or past its T),
 * since before that no look-up could release it.
 */
export function refundHoldLookupDue(state: OrderState, finalizedTimeSeconds: bigint | null): boolean {
  if (finalizedTimeSeconds === null || !isRefundHold(state)) return false;
  const leg = state.parked.quoteLeg;
  return leg !== null && leg.claim === null && seenSwapsDead(leg, finalizedTimeSeconds);
}

/**
 * ReleaseRefundHold: the held refund is due again once the chain (the final look-up) and what the
 * order saw agree that no swap under the hashlock can still be claimed. Not yet (a swap live, a claim
 * on the chain not yet delivered, no look-up): nothing. An order whose refund is pending and not held
 * is already satisfied; any other order has no refund held back (refund_not_held).
 */
export function releaseRefundHold(c: C.ReleaseRefundHold, state: PlacedOrder): OrderEvent[] {
  if (state.status === 'refund_pending') return [];
  if (!isRefundHold(state)) return refuse('refund_not_held', `no refund is held back (order is ${state.status})`, state.status);
  const leg = state.parked.quoteLeg;
  const chain = c.quoteChain;
  if (leg === null || chain === null || leg.claim !== null || !noLiveSwap(leg, chain)) return [];
  if (chain.decision !== 'no_swap' && chain.decision !== 'refund_allowed') return [];
  return [{
    type: 'RefundHoldReleased',
    data: { decision: chain.decision, finalized_time_seconds: chain.finalizedTimeSeconds.toString(), released_at: iso(c.now) },
  }];
}

/**
 * When the reconciler looks at a held job's refund again: the job's expiry at the node (the node
 * refuses to cancel a claimed job before it, custody.ts), so a refund_pending order whose job the
 * ledger's worker holds is not looked up on every pass. Null: no such wait (look as usual).
 */
export function heldRefundWaitsUntilMs(state: OrderState): number | null {
  if (state.status !== 'refund_pending' || state.escrow.hold?.expiresAt == null) return null;
  const expiresMs = Date.parse(state.escrow.hold.expiresAt);
  return Number.isNaN(expiresMs) ? null : expiresMs;
}

/**
 * The chain-time rules of the decider (quote-chain.md, "Chain time decides"): what a chain-verified
 * order does once the finalized chain has moved past lock_by or past every timelock, and when the
 * RTC of a lapsed order may leave it. Chain time arrives in the command (QuoteChainTime: the final
 * look-up's decision at a finalized block and that block's time); the wall clock never decides here.
 */
import type * as C from './commands.js';
import { refuse } from './errors.js';
import type { OrderEvent } from './events.js';
import { type LapsedOrder, type MatchedOrder, type OrderState, type PlacedOrder, type QuoteLeg } from './state.js';
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


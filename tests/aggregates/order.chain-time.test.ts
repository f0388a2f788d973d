import { describe, expect, it } from 'vitest';
import {
  chainLookupDue, decide, dueStep, foldEvents, heldRefundWaitsUntilMs, isRefundHold, refundHoldLookupDue, refundMayGoOut,
  type OrderState, type RefundPendingOrder, type ReleaseRefundHold,
} from '../../src/aggregates/order/index.js';
import { facts, given } from '../support/orderFixtures.js';
import {
  at, cancelOrder, escrowLocked, EXPIRES_AT, expireOrder, LATER, MAKER, MAKER_HTLC_HASH, matchOrder, orderCancelled, placedSell, STRANGER, TAKER, TAKER_JOB,
} from '../support/orderBuilders.js';
import {
  chainMatched, chainTime, claimObserved, fact, FRESH_HTLC_HASH, LOCK_BY, lockObserved, lockRejected, matchLapsed, orderRearmed,
  rearmOrder, refundObserved, sec, sellLapsed, T,
} from '../support/quoteLegBuilders.js';

/**
 * Chain time in the decider (quote-chain.md, "Chain time decides", "Hashlocks are used once"): the
 * lapse at lock_by, the refund once every swap's T has passed, and re-arming a lapsed sell order.
 * Chain time is the command's QuoteChainTime, never the command's wall clock.
 */

const PAST_LOCK_BY = sec(LOCK_BY) + 1n;
const expireAt = (decision: Parameters<typeof chainTime>[0], finalized: bigint) => ({ ...expireOrder(LATER), quoteChain: chainTime(decision, finalized) });

describe('ExpireOrder on chain time: the lapse at lock_by', () => {
  it('lapses a sell order with no lock once a finalized block is past lock_by and the look-up is empty', () => {
    given(...chainMatched('sell')).when(expireAt('no_swap', PAST_LOCK_BY))
      .then([{ type: 'MatchLapsed', data: { buyer_wallet: TAKER, finalized_time_seconds: PAST_LOCK_BY.toString() } }]);
    const after = given(...chainMatched('sell')).when(expireAt('no_swap', PAST_LOCK_BY)).thenState();
    expect(after.status).toBe('lapsed');
    expect(facts(after).escrow.status).toBe('locked');
  });

  it('ends a buy order whose maker never paid: MatchLapsed names the maker, the taker\'s escrow is refunded, then expired', () => {
    given(...chainMatched('buy')).when(expireAt('no_swap', PAST_LOCK_BY)).then([{ type: 'MatchLapsed', data: { buyer_wallet: MAKER } }]);
    const after = given(...chainMatched('buy')).when(expireAt('no_swap', PAST_LOCK_BY)).thenState();
    expect(after.status).toBe('refund_pending');
    expect(facts(after)).toMatchObject({ endingAs: 'expired', escrow: { party: 'taker', status: 'locked' } });
  });

  it('does nothing at lock_by itself (a lock in that block still counts), nor on the wall clock alone', () => {
    given(...chainMatched('sell')).when(expireAt('no_swap', sec(LOCK_BY))).thenNothing();
    given(...chainMatched('sell')).when(expireOrder(at(EXPIRES_AT, 1))).thenNothing();
  });

  it('waits while a rejected lock may still be claimed, and lapses once its T has passed', () => {
    const seen = [...chainMatched('sell'), lockRejected(fact(1), 'amount_too_low')];
    given(...seen).when(expireAt('wait', PAST_LOCK_BY)).thenNothing();
    // The look-up and what the order saw must agree: a seen swap before its T holds the lapse back.
    given(...seen).when(expireAt('no_swap', PAST_LOCK_BY)).thenNothing();
    given(...seen).when(expireAt('refund_allowed', T)).then([{ type: 'MatchLapsed' }]);
  });

  it('never lapses once a claim was seen (the preimage is public: the buyer is paid)', () => {
    given(...chainMatched('sell'), lockRejected(fact(1)), claimObserved(fact(2))).when(expireAt('no_swap', PAST_LOCK_BY)).thenNothing();
    given(...chainMatched('sell')).when(expireAt('claimed', PAST_LOCK_BY)).thenNothing();
  });
});

describe('ExpireOrder on chain time: the refund once every T has passed', () => {
  const locked = () => [...chainMatched('sell'), lockObserved(fact(1))];
  it('refunds at T (refund_allowed), not at T - 1 (wait)', () => {
    given(...locked()).when(expireAt('wait', T - 1n)).thenNothing();
    given(...locked()).when(expireAt('refund_allowed', T)).then([{ type: 'OrderExpired', data: { deadline: 'settle_by' } }]);
  });

  it('refunds before T once the lock is seen refunded, but not on a look-up that disagrees with what was seen', () => {
    given(...locked()).when(expireAt('refund_allowed', T - 1n)).thenNothing();
    given(...locked(), refundObserved(fact(3))).when(expireAt('refund_allowed', T - 1n)).thenNothing();
    const refunded = [...chainMatched('sell'), lockObserved(fact(1)), { ...refundObserved(fact(3)), data: { ...refundObserved(fact(3)).data, swap_id: fact(1).swapId } }];
    given(...refunded).when(expireAt('refund_allowed', T - 1n)).then([{ type: 'OrderExpired' }]);
  });

  it('never refunds after a claim, and never lapses a locked order (no_swap disagrees with the lock)', () => {
    given(...locked(), claimObserved(fact(2))).when(expireAt('refund_allowed', T)).thenNothing();
    given(...locked()).when(expireAt('no_swap', T)).thenNothing();
  });
});

describe('chainLookupDue: when the reconciler reads the chain for an order', () => {
  const due = (events: Parameters<typeof foldEvents>[0], t: bigint | null, now = LATER) => chainLookupDue(foldEvents(events), t, now);
  it('is due past lock_by with no lock, and from T on with a lock', () => {
    expect(due(chainMatched('sell'), sec(LOCK_BY))).toBe(false);
    expect(due(chainMatched('sell'), PAST_LOCK_BY)).toBe(true);
    expect(due([...chainMatched('sell'), lockObserved(fact(1))], T - 1n)).toBe(false);
    expect(due([...chainMatched('sell'), lockObserved(fact(1))], T)).toBe(true);
  });

  it('is never due without chain time, after a claim, or for a manual order', () => {
    expect(due(chainMatched('sell'), null)).toBe(false);
    expect(due([...chainMatched('sell'), claimObserved(fact(2))], T)).toBe(false);
    const manual = given(...chainMatched('sell').slice(0, 2)).when(matchOrder('sell')).thenState();
    expect(chainLookupDue(manual, T, LATER)).toBe(false);
  });

  it('is due for a lapsed order only past its expires_at', () => {
    expect(due(sellLapsed(), PAST_LOCK_BY, LATER)).toBe(false);
    expect(due(sellLapsed(), PAST_LOCK_BY, EXPIRES_AT)).toBe(true);
  });
});

describe('RearmOrder', () => {
  it('puts a lapsed sell order back on the book under a fresh hash, its escrow still held and no quote leg', () => {
    given(...sellLapsed()).when(rearmOrder()).then([{ type: 'OrderRearmed', data: { htlc_hash: FRESH_HTLC_HASH } }]);
    const state = given(...sellLapsed()).when(rearmOrder({ htlcHash: FRESH_HTLC_HASH.toUpperCase() })).thenState();
    expect(state).toMatchObject({ status: 'open', htlcHash: FRESH_HTLC_HASH, quoteLeg: null });
    expect(facts(state).escrow.status).toBe('locked');
  });

  it('is a no-op once re-armed with the same hash', () => {
    given(...sellLapsed(), orderRearmed()).when(rearmOrder()).thenNothing();
  });

  it('refuses anyone but the maker (not_maker)', () => {
    given(...sellLapsed()).when(rearmOrder({ wallet: TAKER })).thenRefuses('not_maker');
    given(...sellLapsed()).when(rearmOrder({ wallet: STRANGER })).thenRefuses('not_maker');
  });

  it('refuses an order that is not lapsed (order_not_lapsed), and one that does not exist', () => {
    given(...chainMatched('sell')).when(rearmOrder()).thenRefuses('order_not_lapsed');
    given(...sellLapsed(), orderRearmed()).when(rearmOrder({ htlcHash: 'b2'.repeat(32) })).thenRefuses('order_not_lapsed');
    expect(() => decide(rearmOrder(), { status: 'none' } as OrderState)).toThrow('no such order');
  });

  it('refuses the old hash (htlc_hash_reused)', () => {
    given(...sellLapsed()).when(rearmOrder({ htlcHash: MAKER_HTLC_HASH })).thenRefuses('htlc_hash_reused');
  });

  it('refuses while a swap under the old hash may still be claimed (quote_lock_live)', () => {
    given(...sellLapsed()).when(rearmOrder({ quoteChain: chainTime('wait', PAST_LOCK_BY) })).thenRefuses('quote_lock_live');
    given(...sellLapsed()).when(rearmOrder({ quoteChain: chainTime('claimed', PAST_LOCK_BY) })).thenRefuses('quote_lock_live');
    // A late lock the order saw holds it back until its T, whatever a lagging look-up says.
    const late = [...sellLapsed(), lockRejected(fact(4), 'lock_too_late')];
    given(...late).when(rearmOrder({ quoteChain: chainTime('no_swap', T - 1n) })).thenRefuses('quote_lock_live');
    given(...late).when(rearmOrder({ quoteChain: null })).thenRefuses('quote_lock_live');
    given(...late).when(rearmOrder({ quoteChain: chainTime('refund_allowed', T) })).then([{ type: 'OrderRearmed' }]);
  });

  it('refuses a lapsed order past its expires_at (order_expired)', () => {
    given(...sellLapsed()).when(rearmOrder({ now: EXPIRES_AT })).thenRefuses('order_expired');
  });
});

describe('a lapsed order: off the book, cancelled or expired only once no swap is live', () => {
  it('cannot be matched (order_not_open)', () => {
    given(...sellLapsed()).when(matchOrder('sell')).thenRefuses('order_not_open');
  });

  it('is cancelled by its maker (refund due), refused to others and while a late lock is live', () => {
    const after = given(...sellLapsed()).when(cancelOrder(MAKER)).thenState();
    expect(after).toMatchObject({ status: 'refund_pending', endingAs: 'cancelled' });
    given(...sellLapsed()).when(cancelOrder(TAKER)).thenRefuses('not_maker');
    given(...sellLapsed(), lockRejected(fact(4), 'lock_too_late')).when({ ...cancelOrder(MAKER), quoteChain: chainTime('wait', T - 1n) }).thenRefuses('quote_lock_live');
    given(...sellLapsed(), lockRejected(fact(4), 'lock_too_late')).when({ ...cancelOrder(MAKER), quoteChain: chainTime('refund_allowed', T) }).then([{ type: 'OrderCancelled' }]);
  });

  it('expires at expires_at only on the chain\'s word', () => {
    given(...sellLapsed()).when(expireOrder(EXPIRES_AT)).thenNothing();
    given(...sellLapsed()).when({ ...expireOrder(at(EXPIRES_AT, -1)), quoteChain: chainTime('no_swap', PAST_LOCK_BY) }).thenNothing();
    given(...sellLapsed()).when({ ...expireOrder(EXPIRES_AT), quoteChain: chainTime('no_swap', PAST_LOCK_BY) }).then([{ type: 'OrderExpired', data: { deadline: 'expires_at' } }]);
  });

  it('pays the lapsed taker when a late lock of theirs is claimed (the atomic-swap rule)', () => {
    const state = foldEvents([...sellLapsed(), lockRejected(fact(4), 'lock_too_late'), claimObserved(fact(5))]);
    expect(state.status).toBe('settling');
    expect(facts(state).buyerWallet).toBe(TAKER);
  });

  it('a lapse is never decided twice', () => {
    given(...sellLapsed()).when(expireAt('no_swap', PAST_LOCK_BY + 100n)).thenNothing();
    given(...chainMatched('buy'), matchLapsed(MAKER)).when(expireAt('no_swap', PAST_LOCK_BY + 100n)).thenNothing();
  });
});

describe('a lock seen while the seller\'s refund waits to go out (simulator seed 2127)', () => {
  // A buy order lapsed: the seller's (taker's) held escrow is due back, but not sent yet.
  const lapsedBuy = () => [...chainMatched('buy'), matchLapsed(MAKER)];
  // The lapsed buyer's late lock under the same hashlock, claimable by the seller until T.
  const held = () => [...lapsedBuy(), lockRejected(fact(1), 'locked_after_lock_by')];
  const release = (quoteChain: ReturnType<typeof chainTime> | null): ReleaseRefundHold => ({ type: 'ReleaseRefundHold', quoteChain, now: LATER });

  it('parks the order instead of refunding: the seller could still claim the late lock (invariant 9)', () => {
    const before = foldEvents(lapsedBuy());
    expect(before.status).toBe('refund_pending');
    expect(dueStep(before)?.kind).toBe('refund');
    for (const late of [lockRejected(fact(1), 'locked_after_lock_by'), lockObserved(fact(1))]) {
      const after = foldEvents([...lapsedBuy(), late]);
      expect(after).toMatchObject({ status: 'settlement_recovery', reason: 'quote_lock_before_refund', parked: { status: 'refund_pending' } });
      expect(isRefundHold(after)).toBe(true);
      expect(dueStep(after)).toBeNull();
    }
  });

  it('changes nothing for a lock seen on a matched order (it is simply recorded)', () => {
    const after = foldEvents([...chainMatched('sell'), lockRejected(fact(1))]);
    expect(after.status).toBe('matched');
  });

  it('ReleaseRefundHold: the refund is due again once the chain proves the late lock dead at its T, or refunded', () => {
    given(...held()).when(release(chainTime('refund_allowed', T)))
      .thenExactly([{ type: 'RefundHoldReleased', data: { decision: 'refund_allowed', finalized_time_seconds: T.toString(), released_at: LATER.toISOString() } }]);
    const after = given(...held()).when(release(chainTime('refund_allowed', T))).thenState();
    expect(after).toMatchObject({ status: 'refund_pending', endingAs: 'expired', attempts: 0 });
    expect(dueStep(after)).toMatchObject({ kind: 'refund', party: 'taker' });
    // Refunded on the chain before its T: the chain's word and what the order saw agree.
    const refunded = { ...refundObserved(fact(3)), data: { ...refundObserved(fact(3)).data, swap_id: fact(1).swapId } };
    given(...held(), refunded).when(release(chainTime('refund_allowed', T - 1n))).then([{ type: 'RefundHoldReleased' }]);
  });

  it('ReleaseRefundHold is a no-op while a swap may still be claimed, on a claim, or with no look-up', () => {
    given(...held()).when(release(chainTime('wait', T - 1n))).thenNothing();
    given(...held()).when(release(chainTime('claimed', T))).thenNothing();
    given(...held()).when(release(null)).thenNothing();
    // A look-up that disagrees with what the order saw (the late lock before its T) waits.
    given(...held()).when(release(chainTime('refund_allowed', T - 1n))).thenNothing();
    given(...held()).when(release(chainTime('no_swap', T - 1n))).thenNothing();
    // Already released (or never held): the refund is pending, nothing to release.
    given(...lapsedBuy()).when(release(chainTime('refund_allowed', T))).thenNothing();
  });

  it('ReleaseRefundHold is refused on an order whose refund is not held back (refund_not_held)', () => {
    given(...chainMatched('sell')).when(release(chainTime('refund_allowed', T))).thenRefuses('refund_not_held');
    given(...sellLapsed()).when(release(chainTime('refund_allowed', T))).thenRefuses('refund_not_held');
    // Parked for another reason: the operator's, never released on chain time.
    const blocked = [...lapsedBuy(), { type: 'SettlementRecoveryRequired' as const, data: { reason: 'refund_blocked', detail: 'x' } }];
    given(...blocked).when(release(chainTime('refund_allowed', T))).thenRefuses('refund_not_held');
    expect(() => decide(release(null), { status: 'none' } as OrderState)).toThrow('no such order');
  });

  it('a claim seen while the refund is held pays the buyer (the buy order\'s maker), and then nothing releases', () => {
    const state = foldEvents([...held(), claimObserved(fact(2))]);
    expect(state.status).toBe('settling');
    expect(facts(state).buyerWallet).toBe(MAKER);
    expect(dueStep(state)?.kind).toBe('release');
    given(...held(), claimObserved(fact(2))).when(release(chainTime('refund_allowed', T))).thenRefuses('refund_not_held');
  });

  it('refundHoldLookupDue: only a held refund, once what it saw is dead at the follower\'s finalized time', () => {
    expect(refundHoldLookupDue(foldEvents(held()), T - 1n)).toBe(false);
    expect(refundHoldLookupDue(foldEvents(held()), T)).toBe(true);
    expect(refundHoldLookupDue(foldEvents(held()), null)).toBe(false);
    expect(refundHoldLookupDue(foldEvents(lapsedBuy()), T)).toBe(false);
  });
});

describe('refundMayGoOut: the refund step\'s rule right before its node call (simulator seeds 2249, 2450, 3168)', () => {
  const pending = (events: Parameters<typeof foldEvents>[0]) => foldEvents(events) as RefundPendingOrder;
  const lapsedBuy = () => pending([...chainMatched('buy'), matchLapsed(MAKER)]);

  it('lets a chain-verified refund go only on a look-up that proves no live swap', () => {
    expect(refundMayGoOut(lapsedBuy(), chainTime('no_swap', PAST_LOCK_BY))).toBe(true);
    expect(refundMayGoOut(lapsedBuy(), chainTime('refund_allowed', T))).toBe(true);
  });

  it('holds it back while a swap may be claimed, on a claim, and when the chain could not be read', () => {
    expect(refundMayGoOut(lapsedBuy(), chainTime('wait', PAST_LOCK_BY))).toBe(false);
    expect(refundMayGoOut(lapsedBuy(), chainTime('claimed', PAST_LOCK_BY))).toBe(false);
    expect(refundMayGoOut(lapsedBuy(), null)).toBe(false);
  });

  it('never asks of an order with no quote leg (manual mode)', () => {
    const manual = pending([placedSell(), escrowLocked('maker'), orderCancelled()]);
    expect(manual.status).toBe('refund_pending');
    expect(refundMayGoOut(manual, null)).toBe(true);
  });
});

describe('heldRefundWaitsUntilMs: a held job\'s refund is looked at again at the job\'s expiry', () => {
  it('is the hold\'s expiry for a refund_pending order whose job the ledger\'s worker holds, else null', () => {
    const expiresAt = '2025-03-20T00:00:00.000Z';
    const hold = { type: 'EscrowHeld' as const, data: { job_id: TAKER_JOB, worker_wallet: 'otc_bridge_worker', expires_at: expiresAt, held_at: LATER.toISOString() } };
    expect(heldRefundWaitsUntilMs(foldEvents([...chainMatched('buy'), hold, matchLapsed(MAKER)]))).toBe(Date.parse(expiresAt));
    expect(heldRefundWaitsUntilMs(foldEvents([...chainMatched('buy'), { ...hold, data: { ...hold.data, expires_at: null } }, matchLapsed(MAKER)]))).toBeNull();
    expect(heldRefundWaitsUntilMs(foldEvents([...chainMatched('buy'), matchLapsed(MAKER)]))).toBeNull();
    expect(heldRefundWaitsUntilMs(foldEvents([...chainMatched('buy'), hold]))).toBeNull();
  });
});

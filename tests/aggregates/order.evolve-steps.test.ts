import { facts, nextPayoutKey } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { stateAfter } from '../support/orderFixtures.js';
import {
  AMOUNT_MICRO_RTC,
  BUY,
  CIPHERTEXT,
  escrowLocked,
  escrowLockFailed,
  EXPIRES_AT,
  MAKER,
  MAKER_HTLC_HASH,
  MAKER_JOB,
  matchAborted,
  matched,
  matchedBuy,
  MATCHED_AT,
  nodeCallFailed,
  ORDER_ID,
  orderCancelled,
  orderExpired,
  PAYOUT_KEY,
  payoutQueued,
  payoutVoided,
  placedBuy,
  placedSell,
  PLACED_AT,
  QUOTE_TX,
  recoveryRequired,
  redriveRequested,
  refundIssued,
  SCENARIOS,
  SELL,
  settlementClaimed,
  settlementReverted,
  SETTLE_BY,
  TAKER,
  TAKER_HTLC_HASH,
  TAKER_JOB,
  TRADE_ID,
} from '../support/orderBuilders.js';
import { chainMatched, claimObserved, fact, lockObserved, lockRejected, matchLapsed, observationReorged, orderRearmed, refundObserved, sellLapsed } from '../support/quoteLegBuilders.js';
import {
  buyerWallet,
  dueStep,
  escrowKey,
  evolve,
  foldEvents,
  initialState,
  isTerminal,
  ORDER_EVENT_TYPES,
  ORDER_STATUSES,
  type MatchedOrder,
  type OrderState,
  orderIdFromStream,
  orderStream,
  refundKey,
  releaseKey,
  sellerParty,
  sellerWallet,
  TERMINAL_STATUSES,
  tradeIdFor,
  type OrderEvent,
  type OrderStatus,
} from '../../src/aggregates/order/index.js';

/** domain.md §4's status table, one row per event that reaches a status. */
const STATUS_TABLE: ReadonlyArray<readonly [string, () => OrderEvent[], OrderStatus]> = [
  ['OrderPlaced (sell) → escrow_pending', () => [placedSell()], 'escrow_pending'],
  ['OrderPlaced (buy) → open', () => [placedBuy()], 'open'],
  ['EscrowLocked (maker) → open', () => [placedSell(), escrowLocked('maker')], 'open'],
  ['EscrowLockFailed (maker) → rejected', () => [placedSell(), escrowLockFailed('maker')], 'rejected'],
  ['Matched (sell) → matched', () => [...SELL.open(), matched()], 'matched'],
  ['Matched (buy) → matching', () => [placedBuy(), matchedBuy()], 'matching'],
  ['EscrowLocked (taker) → matched', () => [placedBuy(), matchedBuy(), escrowLocked('taker')], 'matched'],
  ['EscrowLockFailed (taker) keeps matching until MatchAborted', () => [placedBuy(), matchedBuy(), escrowLockFailed('taker')], 'matching'],
  ['MatchAborted → open', () => [placedBuy(), matchedBuy(), escrowLockFailed('taker'), matchAborted()], 'open'],
  ['SettlementClaimed → settling', () => [...SELL.matched(), settlementClaimed()], 'settling'],
  ['EscrowReleased → settling', () => SELL.released(), 'settling'],
  ['SettlementReverted → matched', () => [...SELL.settling(), settlementReverted()], 'matched'],
  ['PayoutQueued → payout_pending', () => SELL.payoutPending(), 'payout_pending'],
  ['PayoutConfirmed → completed', () => SELL.completed(), 'completed'],
  ['PayoutVoided → settlement_recovery', () => SELL.recoveryAfterVoid(), 'settlement_recovery'],
  ['SettlementRecoveryRequired → settlement_recovery', () => [...SELL.settling(), recoveryRequired()], 'settlement_recovery'],
  ['OperatorRedriveRequested → settling', () => [...SELL.settling(), recoveryRequired(), redriveRequested()], 'settling'],
  ['QuoteLockObserved keeps matched (the lock recorded)', () => [...chainMatched('sell'), lockObserved(fact(1))], 'matched'],
  ['QuoteLockRejected keeps matched (awaiting a valid lock)', () => [...chainMatched('sell'), lockRejected(fact(1))], 'matched'],
  ['QuoteClaimObserved → settling (release to the buyer due)', () => [...chainMatched('sell'), claimObserved(fact(2))], 'settling'],
  ['QuoteObservationReorged keeps matched (the lock forgotten)', () => [...chainMatched('sell'), lockObserved(fact(1)), observationReorged(fact(1))], 'matched'],
  ['QuoteRefundObserved keeps matched', () => [...chainMatched('sell'), lockObserved(fact(1)), refundObserved(fact(3))], 'matched'],
  ['MatchLapsed (sell) → lapsed', sellLapsed, 'lapsed'],
  ['MatchLapsed (buy) → refund_pending (ends expired)', () => [...chainMatched('buy'), matchLapsed()], 'refund_pending'],
  ['OrderRearmed → open', () => [...sellLapsed(), orderRearmed()], 'open'],
  ['QuoteClaimObserved on a lapsed order → settling (a late lock claimed pays its buyer)', () => [...sellLapsed(), lockRejected(fact(1), 'lock_too_late'), claimObserved(fact(2))], 'settling'],
  ['QuoteLockRejected on refund_pending → settlement_recovery (the refund held back: quote_lock_before_refund)', () => [...chainMatched('buy'), matchLapsed(), lockRejected(fact(1))], 'settlement_recovery'],
  ['RefundHoldReleased → refund_pending (the held refund due again on the chain\'s word)', () => [...chainMatched('buy'), matchLapsed(), lockRejected(fact(1)), {
    type: 'RefundHoldReleased', data: { decision: 'refund_allowed', finalized_time_seconds: '1741000000', released_at: '2025-03-03T12:00:00.000Z' },
  }], 'refund_pending'],
  ['QuoteClaimObserved on a held refund → settling (the claim pays the buyer)', () => [...chainMatched('buy'), matchLapsed(), lockRejected(fact(1)), claimObserved(fact(2))], 'settling'],
  ['OrderCancelled with escrow → refund_pending', () => [...SELL.open(), orderCancelled()], 'refund_pending'],
  ['OrderCancelled without escrow → cancelled', () => [placedBuy(), orderCancelled()], 'cancelled'],
  ['OrderExpired (expires_at) with escrow → refund_pending', () => [...SELL.open(), orderExpired('expires_at')], 'refund_pending'],
  ['OrderExpired (expires_at) without escrow → expired', () => [placedBuy(), orderExpired('expires_at')], 'expired'],
  ['OrderExpired (settle_by) → refund_pending', () => SELL.expiredRefundPending(), 'refund_pending'],
  ['RefundIssued after a cancel → cancelled', () => [...SELL.open(), orderCancelled(), refundIssued('maker')], 'cancelled'],
  ['RefundIssued after an expiry → expired', () => SELL.expiredRefunded(), 'expired'],
  ['RefundIssued of a buy order\'s taker after settle_by → expired', () => BUY.expiredRefunded(), 'expired'],
  ['EscrowHeld keeps matched (the worker holds the job)', () => [...chainMatched('sell'), {
    type: 'EscrowHeld', data: { job_id: MAKER_JOB, worker_wallet: 'otc_bridge_worker', expires_at: null, held_at: '2025-03-02T12:00:05.000Z' },
  }], 'matched'],
  ['NodeCallFailed keeps the status', () => [...SELL.settling(), nodeCallFailed()], 'settling'],
];

describe('evolve: the status table', () => {
  it.each(STATUS_TABLE)('%s', (_name, history, status) => {
    expect(foldEvents(history()).status).toBe(status);
  });

  it('covers every event type', () => {
    const seen = new Set(STATUS_TABLE.flatMap(([, history]) => history().map((e) => e.type)));
    expect([...seen].sort()).toEqual([...ORDER_EVENT_TYPES].sort());
  });

  it('reaches every status of the table', () => {
    const reached = new Set(STATUS_TABLE.map(([, , status]) => status));
    expect([...reached].sort()).toEqual([...ORDER_STATUSES].sort());
  });

  it('the terminal statuses are exactly completed, cancelled, expired, rejected', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['cancelled', 'completed', 'expired', 'rejected']);
    expect(ORDER_STATUSES.filter((status) => isTerminal(status)).sort()).toEqual(['cancelled', 'completed', 'expired', 'rejected']);
    expect(isTerminal('none')).toBe(false);
  });

  it('starts from none', () => {
    expect(initialState.status).toBe('none');
    expect(foldEvents([]).status).toBe('none');
  });
});

describe('evolve: state fields', () => {
  it('OrderPlaced reads amounts as bigints and keeps the order\'s terms', () => {
    const state = stateAfter(placedSell());
    expect(facts(state)).toMatchObject({
      orderId: ORDER_ID,
      side: 'sell',
      pair: 'RTC/USDC',
      makerWallet: MAKER,
      amountMicroRtc: AMOUNT_MICRO_RTC,
      pricePerRtcNanoQuote: 100_000_000n,
      totalQuoteNano: 10_000_000_000n,
      htlcHash: MAKER_HTLC_HASH,
      createdAt: PLACED_AT.toISOString(),
      expiresAt: EXPIRES_AT.toISOString(),
    });
    expect(facts(state).escrow).toMatchObject({ party: 'maker', status: 'locking', jobId: null });
  });

  it('a buy order has no escrow until matched', () => {
    expect(facts(stateAfter(placedBuy())).escrow).toMatchObject({ party: null, status: 'none' });
  });

  it('Matched records the taker and settle_by; on a buy order the htlc_hash is the taker\'s', () => {
    const sell = stateAfter(...SELL.matched());
    expect(facts(sell)).toMatchObject({ takerWallet: TAKER, matchedAt: MATCHED_AT.toISOString(), settleBy: SETTLE_BY.toISOString(), htlcHash: MAKER_HTLC_HASH });
    const buy = stateAfter(placedBuy(), matchedBuy());
    expect(facts(buy)).toMatchObject({ takerWallet: TAKER, htlcHash: TAKER_HTLC_HASH });
    expect(facts(buy).escrow).toMatchObject({ party: 'taker', status: 'locking' });
  });

  it('EscrowLocked accumulates the locked micro-RTC', () => {
    expect(facts(stateAfter(...BUY.matched())).escrow).toMatchObject({ party: 'taker', jobId: TAKER_JOB, status: 'locked', lockedMicroRtc: AMOUNT_MICRO_RTC });
  });

  it('SettlementClaimed keeps quote_tx and the ciphertext; SettlementReverted keeps them too, as proof of the claim', () => {
    expect(facts(stateAfter(...SELL.settling()))).toMatchObject({ quoteTx: QUOTE_TX, secretCiphertext: CIPHERTEXT });
    expect(facts(stateAfter(...SELL.settling(), settlementReverted('refused')))).toMatchObject({
      status: 'matched', quoteTx: QUOTE_TX, secretCiphertext: CIPHERTEXT, lastError: 'refused',
    });
  });

  it('EscrowReleased moves the locked amount to released', () => {
    expect(facts(stateAfter(...SELL.released())).escrow).toMatchObject({ status: 'released', lockedMicroRtc: AMOUNT_MICRO_RTC, releasedMicroRtc: AMOUNT_MICRO_RTC, refundedMicroRtc: 0n });
  });

  it('RefundIssued moves the locked amount to refunded', () => {
    expect(facts(stateAfter(...SELL.expiredRefunded())).escrow).toMatchObject({ status: 'refunded', releasedMicroRtc: 0n, refundedMicroRtc: AMOUNT_MICRO_RTC });
  });

  it('PayoutConfirmed records the trade id derived from the order id', () => {
    const state = stateAfter(...SELL.completed());
    expect(facts(state).tradeId).toBe(TRADE_ID);
    expect(tradeIdFor(ORDER_ID)).toBe('trade_0123456789abcdef');
    expect(facts(state).payout).toMatchObject({ status: 'confirmed', confirmedCount: 1 });
  });

  it('a failed node call counts an attempt; the next forward event resets the count', () => {
    const failed = stateAfter(...SELL.settling(), nodeCallFailed(), nodeCallFailed({ reason: 'reset' }));
    expect(facts(failed).attempts).toBe(2);
    expect(facts(failed).lastError).toBe('release: reset');
    const moved = stateAfter(...SELL.settling(), nodeCallFailed(), SELL.released().at(-1)!);
    expect(facts(moved).attempts).toBe(0);
    expect(facts(moved).lastError).toBeNull();
  });

  it('evolve never mutates the state it is given', () => {
    const before = stateAfter(...SELL.settling());
    const snapshot = structuredClone(before);
    evolve(before, SELL.released().at(-1)!);
    expect(before).toEqual(snapshot);
  });

  it('seller and buyer: the maker sells a sell order, the taker sells a buy order', () => {
    const matchedOf = (state: OrderState): MatchedOrder => {
      if (state.status !== 'matched') throw new Error(`expected matched, got ${state.status}`);
      return state;
    };
    const sell = matchedOf(stateAfter(...SELL.matched()));
    const buy = matchedOf(stateAfter(...BUY.matched()));
    expect([sellerWallet(sell), buyerWallet(sell)]).toEqual([MAKER, TAKER]);
    expect([sellerWallet(buy), buyerWallet(buy)]).toEqual([TAKER, MAKER]);
    expect(sellerParty('sell')).toBe('maker');
    expect(sellerParty('buy')).toBe('taker');
  });

  it('streams are order-<order_id>', () => {
    expect(orderStream(ORDER_ID)).toBe(`order-${ORDER_ID}`);
    expect(orderIdFromStream(orderStream(ORDER_ID))).toBe(ORDER_ID);
  });
});

describe('dueStep', () => {
  it('escrow_pending: lock the maker\'s RTC under otc_escrow:<id>:maker', () => {
    expect(dueStep(stateAfter(placedSell()))).toEqual({
      kind: 'lock',
      party: 'maker',
      key: `otc_escrow:${ORDER_ID}:maker`,
      wallet: MAKER,
      amountMicroRtc: AMOUNT_MICRO_RTC,
    });
  });

  it('matching: lock the taker\'s RTC of a buy order under otc_escrow:<id>:taker', () => {
    expect(dueStep(stateAfter(placedBuy(), matchedBuy()))).toEqual({
      kind: 'lock',
      party: 'taker',
      key: `otc_escrow:${ORDER_ID}:taker`,
      wallet: TAKER,
      amountMicroRtc: AMOUNT_MICRO_RTC,
    });
  });

  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('settling, not released: release the seller\'s escrow under otc_release:<id>', () => {
        expect(dueStep(stateAfter(...s.settling()))).toEqual({ kind: 'release', key: `otc_release:${ORDER_ID}`, jobId: s.sellerJob, wallet: s.seller });
      });

      it('settling, released: queue the payout to the buyer under otc_payout:<id>', () => {
        expect(dueStep(stateAfter(...s.released()))).toEqual({ kind: 'payout', key: `otc_payout:${ORDER_ID}`, to: s.buyer, amountMicroRtc: AMOUNT_MICRO_RTC });
      });

      it('payout_pending: look the payout up under its key', () => {
        expect(dueStep(stateAfter(...s.payoutPending()))).toEqual({ kind: 'payout_lookup', key: PAYOUT_KEY, to: s.buyer, amountMicroRtc: AMOUNT_MICRO_RTC });
      });

      it('refund_pending after settle_by: refund the seller under otc_refund:<id>:<party>', () => {
        expect(dueStep(stateAfter(...s.expiredRefundPending()))).toEqual({
          kind: 'refund',
          party: s.sellerParty,
          key: `otc_refund:${ORDER_ID}:${s.sellerParty}`,
          jobId: s.sellerJob,
          wallet: s.seller,
          held: false,
        });
      });

      it('a voided payout re-driven: queue again under the fresh key', () => {
        expect(dueStep(stateAfter(...s.recoveryAfterVoid(), redriveRequested()))).toEqual({
          kind: 'payout',
          key: `otc_payout:${ORDER_ID}:redrive-1`,
          to: s.buyer,
          amountMicroRtc: AMOUNT_MICRO_RTC,
        });
      });

      it('a queued payout re-driven after a failed look-up: look it up again under the same key', () => {
        expect(dueStep(stateAfter(...s.payoutPending(), recoveryRequired('payout_outcome_unknown'), redriveRequested()))).toEqual({
          kind: 'payout_lookup',
          key: PAYOUT_KEY,
          to: s.buyer,
          amountMicroRtc: AMOUNT_MICRO_RTC,
        });
      });

      it('a refund re-driven after recovery: the refund again, never a release', () => {
        const step = dueStep(stateAfter(...s.expiredRefundPending(), recoveryRequired('refund_outcome_unknown'), redriveRequested()));
        expect(step).toMatchObject({ kind: 'refund', key: `otc_refund:${ORDER_ID}:${s.sellerParty}` });
      });

      it('nothing is due while open, matched, in recovery, or terminal', () => {
        expect(dueStep(stateAfter(...s.open()))).toBeNull();
        expect(dueStep(stateAfter(...s.matched()))).toBeNull();
        expect(dueStep(stateAfter(...s.settling(), recoveryRequired()))).toBeNull();
        expect(dueStep(stateAfter(...s.recoveryAfterVoid()))).toBeNull();
        expect(dueStep(stateAfter(...s.completed()))).toBeNull();
        expect(dueStep(stateAfter(...s.expiredRefunded()))).toBeNull();
      });

      it('resume: a release parked in recovery under a claim is looked up, one released or unclaimed is not', () => {
        const parked = stateAfter(...s.settling(), recoveryRequired());
        expect(dueStep(parked, 'resume')).toEqual({ kind: 'release_lookup', key: `otc_release:${ORDER_ID}`, jobId: s.sellerJob, wallet: s.seller });
        expect(dueStep(stateAfter(...s.recoveryAfterVoid()), 'resume')).toBeNull();
        expect(dueStep(stateAfter(...s.matched(), recoveryRequired('escrow_job_cancelled')), 'resume')).toBeNull();
      });

      it('watch: the held escrow of a matched order is looked up; nothing else is watched', () => {
        expect(dueStep(stateAfter(...s.matched()), 'watch')).toEqual({ kind: 'escrow_watch', key: `otc_escrow:${ORDER_ID}:${s.sellerParty}`, jobId: s.sellerJob, wallet: s.seller });
        expect(dueStep(stateAfter(...s.settling()), 'watch')).toBeNull();
        expect(dueStep(stateAfter(...s.completed()), 'watch')).toBeNull();
      });
    });
  }

  it('resume: a lock whose answer may be lost is looked up first, with the lock\'s own key', () => {
    expect(dueStep(stateAfter(placedSell()), 'resume')).toEqual({
      kind: 'lock_lookup', party: 'maker', key: `otc_escrow:${ORDER_ID}:maker`, wallet: MAKER, amountMicroRtc: AMOUNT_MICRO_RTC,
    });
  });

  it('watch: an open sell order\'s escrow is watched, an open buy order has none', () => {
    expect(dueStep(stateAfter(...SELL.open()), 'watch')).toMatchObject({ kind: 'escrow_watch', jobId: MAKER_JOB, wallet: MAKER });
    expect(dueStep(stateAfter(placedBuy()), 'watch')).toBeNull();
  });

  it('refund_pending after a cancel: refund the maker under otc_refund:<id>:maker', () => {
    expect(dueStep(stateAfter(...SELL.open(), orderCancelled()))).toEqual({
      kind: 'refund',
      party: 'maker',
      key: `otc_refund:${ORDER_ID}:maker`,
      jobId: MAKER_JOB,
      wallet: MAKER,
      held: false,
    });
  });

  it('nothing is due for a rejected or unknown order, or a cancelled buy order', () => {
    expect(dueStep(stateAfter(placedSell(), escrowLockFailed('maker')))).toBeNull();
    expect(dueStep(initialState)).toBeNull();
    expect(dueStep(stateAfter(placedBuy(), orderCancelled()))).toBeNull();
  });

  it('the key helpers spell the node\'s keys', () => {
    expect(escrowKey(ORDER_ID, 'maker')).toBe(`otc_escrow:${ORDER_ID}:maker`);
    expect(releaseKey(ORDER_ID)).toBe(`otc_release:${ORDER_ID}`);
    expect(refundKey(ORDER_ID, 'taker')).toBe(`otc_refund:${ORDER_ID}:taker`);
  });

  it('payoutKeyFor: otc_payout:<id> until a void, then one fresh key per void', () => {
    expect(nextPayoutKey(stateAfter(...SELL.released()))).toBe(`otc_payout:${ORDER_ID}`);
    expect(nextPayoutKey(stateAfter(...SELL.recoveryAfterVoid()))).toBe(`otc_payout:${ORDER_ID}:redrive-1`);
    const twice = stateAfter(
      ...SELL.recoveryAfterVoid(),
      redriveRequested(),
      payoutQueued(TAKER, { payout_key: `otc_payout:${ORDER_ID}:redrive-1` }),
      payoutVoided({ payout_key: `otc_payout:${ORDER_ID}:redrive-1` }),
    );
    expect(nextPayoutKey(twice)).toBe(`otc_payout:${ORDER_ID}:redrive-2`);
  });

  it('a step is never due before the event that authorises it', () => {
    // lock: after OrderPlaced/Matched; release: after SettlementClaimed; payout: after EscrowReleased; refund: after the ending.
    expect(dueStep(stateAfter(...SELL.matched()))).toBeNull();
    expect(dueStep(stateAfter(...SELL.settling()))?.kind).toBe('release');
    expect(dueStep(stateAfter(...SELL.open()))).toBeNull();
    expect(dueStep(stateAfter(...SELL.open(), orderCancelled()))?.kind).toBe('refund');
  });
});

import { facts } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { given, stateAfter } from '../support/orderFixtures.js';
import {
  AMOUNT_MICRO_RTC,
  BUY,
  escrowLockFailed,
  LATER,
  MAKER_JOB,
  matchAborted,
  matchedBuy,
  orderCancelled,
  orderExpired,
  placedSell,
  recordEscrowLocked,
  recordEscrowLockFailed,
  recordEscrowReleased,
  recordRefundIssued,
  recoveryRequired,
  redriveRequested,
  refundIssued,
  revertSettlement,
  SCENARIOS,
  SELL,
  settlementReverted,
  TAKER_JOB,
  nodeCallFailed,
} from '../support/orderBuilders.js';

describe('RecordEscrowLocked', () => {
  it('locks the maker\'s escrow of a sell order: EscrowLocked with the order amount, status open', () => {
    const g = given(placedSell()).when(recordEscrowLocked('maker'));
    g.thenExactly([
      { type: 'EscrowLocked', data: { party: 'maker', job_id: MAKER_JOB, amount_micro_rtc: '100000000', locked_at: LATER.toISOString() } },
    ]);
    const state = g.thenState();
    expect(state.status).toBe('open');
    expect(facts(state).escrow).toMatchObject({ party: 'maker', jobId: MAKER_JOB, status: 'locked', lockedMicroRtc: AMOUNT_MICRO_RTC });
  });

  it('locks the taker\'s escrow of a matched buy order: status matched', () => {
    const g = given(...BUY.open(), matchedBuy()).when(recordEscrowLocked('taker'));
    g.then([{ type: 'EscrowLocked', data: { party: 'taker', job_id: TAKER_JOB, amount_micro_rtc: '100000000' } }]);
    expect(g.thenState().status).toBe('matched');
  });

  it('is a no-op when the same lock is reported again', () => {
    given(...SELL.open()).when(recordEscrowLocked('maker')).thenNothing();
    given(...BUY.matched()).when(recordEscrowLocked('taker')).thenNothing();
  });

  it('is a no-op for the same lock reported again after the order matched', () => {
    given(...SELL.matched()).when(recordEscrowLocked('maker')).thenNothing();
  });

  it('refuses a different job for an escrow already locked (escrow_lock_not_pending)', () => {
    given(...SELL.open()).when(recordEscrowLocked('maker', 'job_other')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a taker lock on a sell order (escrow_lock_not_pending)', () => {
    given(placedSell()).when(recordEscrowLocked('taker')).thenRefuses('escrow_lock_not_pending');
    given(...SELL.matched()).when(recordEscrowLocked('taker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a maker lock on a buy order (escrow_lock_not_pending)', () => {
    given(...BUY.open()).when(recordEscrowLocked('maker')).thenRefuses('escrow_lock_not_pending');
    given(...BUY.open(), matchedBuy()).when(recordEscrowLocked('maker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a taker lock on an open buy order: no match authorised it', () => {
    given(...BUY.open()).when(recordEscrowLocked('taker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a late taker lock after the match was aborted', () => {
    given(...BUY.open(), matchedBuy(), escrowLockFailed('taker'), matchAborted()).when(recordEscrowLocked('taker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a lock of a rejected order', () => {
    given(placedSell(), escrowLockFailed('maker')).when(recordEscrowLocked('maker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a lock once the escrow was released or refunded', () => {
    given(...SELL.released()).when(recordEscrowLocked('maker')).thenRefuses('escrow_lock_not_pending');
    given(...SELL.open(), orderCancelled(), refundIssued('maker')).when(recordEscrowLocked('maker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a lock of an unknown order', () => {
    given().when(recordEscrowLocked('maker')).thenRefuses('order_not_found');
  });
});

describe('RecordEscrowLocked with parkAs (a lock found taken by another worker: simulator seeds 2205, 3479)', () => {
  const parkAs = { reason: 'escrow_hijacked', detail: 'the escrow job job_stray is claimed by RTCthief, not by the ledger\'s worker' };
  const lockedAndParked = (party: 'maker' | 'taker') => ({ ...recordEscrowLocked(party), parkAs });

  it('records the lock and parks the order in the same decision (one append), maker and taker', () => {
    const g = given(placedSell()).when(lockedAndParked('maker'));
    g.thenExactly([
      { type: 'EscrowLocked', data: { party: 'maker', job_id: MAKER_JOB, amount_micro_rtc: '100000000', locked_at: LATER.toISOString() } },
      { type: 'SettlementRecoveryRequired', data: parkAs },
    ]);
    expect(g.thenState().status).toBe('settlement_recovery');
    expect(facts(g.thenState())).toMatchObject({ recoveryReason: 'escrow_hijacked', escrow: { jobId: MAKER_JOB, status: 'locked' } });
    const taker = given(...BUY.open(), matchedBuy()).when(lockedAndParked('taker'));
    taker.then([{ type: 'EscrowLocked', data: { party: 'taker', job_id: TAKER_JOB } }, { type: 'SettlementRecoveryRequired', data: parkAs }]);
    expect(taker.thenState().status).toBe('settlement_recovery');
  });

  it('is refused like any lock when no lock is pending (escrow_lock_not_pending), writing no park either', () => {
    given(placedSell(), escrowLockFailed('maker')).when(lockedAndParked('maker')).thenRefuses('escrow_lock_not_pending');
    given(...SELL.open()).when({ ...lockedAndParked('maker'), jobId: 'job_other' }).thenRefuses('escrow_lock_not_pending');
  });

  it('is a no-op for the same lock already recorded (the no-op case)', () => {
    given(...SELL.open()).when(lockedAndParked('maker')).thenNothing();
  });
});

describe('RecordEscrowLockFailed', () => {
  it('rejects a sell order whose maker lock was refused', () => {
    const g = given(placedSell()).when(recordEscrowLockFailed('maker', 'insufficient balance'));
    g.thenExactly([{ type: 'EscrowLockFailed', data: { party: 'maker', reason: 'insufficient balance' } }]);
    const state = g.thenState();
    expect(state.status).toBe('rejected');
    expect(facts(state).escrow.status).toBe('none');
  });

  it('aborts the match of a buy order whose taker lock was refused: the order is open again', () => {
    const g = given(...BUY.open(), matchedBuy()).when(recordEscrowLockFailed('taker', 'insufficient balance'));
    g.thenExactly([
      { type: 'EscrowLockFailed', data: { party: 'taker', reason: 'insufficient balance' } },
      { type: 'MatchAborted', data: { reason: 'insufficient balance' } },
    ]);
    const state = g.thenState();
    expect(state.status).toBe('open');
    expect(facts(state).takerWallet).toBeNull();
    expect(facts(state).htlcHash).toBeNull();
    expect(facts(state).settleBy).toBeNull();
    expect(facts(state).escrow).toMatchObject({ party: null, status: 'none', jobId: null, lockedMicroRtc: 0n });
  });

  it('is a no-op when the maker lock failure is reported again on the rejected order', () => {
    given(placedSell(), escrowLockFailed('maker')).when(recordEscrowLockFailed('maker')).thenNothing();
  });

  it('refuses a failure for an escrow that is already locked (escrow_lock_not_pending)', () => {
    given(...SELL.open()).when(recordEscrowLockFailed('maker')).thenRefuses('escrow_lock_not_pending');
    given(...BUY.matched()).when(recordEscrowLockFailed('taker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a taker failure when no taker is locking (escrow_lock_not_pending)', () => {
    given(...BUY.open()).when(recordEscrowLockFailed('taker')).thenRefuses('escrow_lock_not_pending');
    given(...BUY.open(), matchedBuy(), escrowLockFailed('taker'), matchAborted()).when(recordEscrowLockFailed('taker')).thenRefuses('escrow_lock_not_pending');
  });

  it('refuses a party mismatch (escrow_lock_not_pending)', () => {
    given(placedSell()).when(recordEscrowLockFailed('taker')).thenRefuses('escrow_lock_not_pending');
    given(...BUY.open(), matchedBuy()).when(recordEscrowLockFailed('maker')).thenRefuses('escrow_lock_not_pending');
  });
});

describe('RecordEscrowReleased', () => {
  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('records the release of the seller\'s escrow while settling', () => {
        const g = given(...s.settling()).when(recordEscrowReleased(s.sellerJob));
        g.thenExactly([{ type: 'EscrowReleased', data: { job_id: s.sellerJob, released_at: LATER.toISOString() } }]);
        const state = g.thenState();
        expect(state.status).toBe('settling');
        expect(facts(state).escrow).toMatchObject({ status: 'released', releasedMicroRtc: AMOUNT_MICRO_RTC });
      });

      it('records a release the reconciler found while the order is in settlement_recovery', () => {
        const g = given(...s.settling(), recoveryRequired()).when(recordEscrowReleased(s.sellerJob));
        g.then([{ type: 'EscrowReleased', data: { job_id: s.sellerJob } }]);
        expect(g.thenState().status).toBe('settling');
      });

      it('is a no-op when the release is reported again', () => {
        given(...s.released()).when(recordEscrowReleased(s.sellerJob)).thenNothing();
        given(...s.payoutPending()).when(recordEscrowReleased(s.sellerJob)).thenNothing();
      });

      it('refuses a release of another job once released: only the same release is a no-op', () => {
        given(...s.released()).when(recordEscrowReleased('job_other')).thenRefuses('escrow_job_mismatch');
      });

      it('refuses a release of another job (escrow_job_mismatch)', () => {
        given(...s.settling()).when(recordEscrowReleased('job_other')).thenRefuses('escrow_job_mismatch');
      });

      it('refuses a release of a matched order nobody confirmed (release_not_due)', () => {
        given(...s.matched()).when(recordEscrowReleased(s.sellerJob)).thenRefuses('release_not_due');
      });

      it('refuses a release after the settlement was reverted', () => {
        given(...s.settling(), settlementReverted()).when(recordEscrowReleased(s.sellerJob)).thenRefuses('release_not_due');
      });

      it('refuses a release of an escrow waiting for its refund', () => {
        given(...s.expiredRefundPending()).when(recordEscrowReleased(s.sellerJob)).thenRefuses('release_not_due');
      });

      it('refuses a release of a refunded escrow: never both a release and a refund', () => {
        given(...s.expiredRefunded()).when(recordEscrowReleased(s.sellerJob)).thenRefuses('release_not_due');
      });

      it('refuses a release of an unclaimed order whose refund went to recovery', () => {
        given(...s.expiredRefundPending(), recoveryRequired('refund_found_released', 'job completed'))
          .when(recordEscrowReleased(s.sellerJob))
          .thenRefuses('settlement_not_claimed');
      });
    });
  }

  it('refuses a release of an open sell order (release_not_due)', () => {
    given(...SELL.open()).when(recordEscrowReleased(MAKER_JOB)).thenRefuses('release_not_due');
  });

  it('refuses a release of a cancelled order whose refund went to recovery', () => {
    given(...SELL.open(), orderCancelled(), recoveryRequired('refund_outcome_unknown'))
      .when(recordEscrowReleased(MAKER_JOB))
      .thenRefuses('settlement_not_claimed');
  });
});

describe('RevertSettlement', () => {
  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('reverts a claimed settlement whose release provably did not happen: matched again, the claim kept as proof', () => {
        const g = given(...s.settling()).when(revertSettlement('escrow release refused: 409'));
        g.thenExactly([{ type: 'SettlementReverted', data: { reason: 'escrow release refused: 409' } }]);
        const state = g.thenState();
        expect(state.status).toBe('matched');
        expect(facts(state).quoteTx).not.toBeNull();
        expect(facts(state).secretCiphertext).not.toBeNull();
        expect(facts(state).escrow.status).toBe('locked');
      });

      it('never refunds a reverted claim at settle_by: it goes to recovery for a re-drive of the release', () => {
        const reverted = [...s.settling(), { type: 'SettlementReverted' as const, data: { reason: 'refused' } }];
        const late = new Date(Date.parse(facts(stateAfter(...reverted)).settleBy as string) + 1000);
        given(...reverted).when({ type: 'ExpireOrder', now: late }).thenExactly([
          { type: 'SettlementRecoveryRequired', data: { reason: 'settle_by_passed_after_claim', detail: 'a settlement was claimed and reverted; the release must be retried, never refunded' } },
        ]);
        const parked = stateAfter(...reverted, { type: 'SettlementRecoveryRequired', data: { reason: 'settle_by_passed_after_claim', detail: '' } });
        const redriven = stateAfter(...reverted, { type: 'SettlementRecoveryRequired', data: { reason: 'settle_by_passed_after_claim', detail: '' } },
          { type: 'OperatorRedriveRequested', data: { operator: 'op', reason: 'retry release' } });
        expect(parked.status).toBe('settlement_recovery');
        expect(redriven.status).toBe('settling');
      });

      it('reverts after unknown node calls were recorded, while the escrow is still held', () => {
        given(...s.settling(), nodeCallFailed({ outcome: 'rejected' })).when(revertSettlement()).then([{ type: 'SettlementReverted' }]);
      });

      it('refuses a revert once the escrow is released: released ⇒ never matched again', () => {
        given(...s.released()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a revert while the payout is pending', () => {
        given(...s.payoutPending()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a revert after a voided payout (the RTC left escrow)', () => {
        given(...s.recoveryAfterVoid()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a revert after a voided payout was re-driven', () => {
        given(...s.recoveryAfterVoid(), redriveRequested()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a revert in settlement_recovery (the release outcome is unknown)', () => {
        given(...s.settling(), recoveryRequired()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a revert of a matched order that was never claimed', () => {
        given(...s.matched()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a second revert', () => {
        given(...s.settling(), settlementReverted()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });

      it('refuses a revert of a completed order', () => {
        given(...s.completed()).when(revertSettlement()).thenRefuses('settlement_not_revertible');
      });
    });
  }
});

describe('RecordRefundIssued', () => {
  it('refunds the maker of a cancelled sell order: status cancelled, RTC refunded', () => {
    const g = given(...SELL.open(), orderCancelled()).when(recordRefundIssued('maker'));
    g.thenExactly([{ type: 'RefundIssued', data: { party: 'maker', job_id: MAKER_JOB, refunded_at: LATER.toISOString() } }]);
    const state = g.thenState();
    expect(state.status).toBe('cancelled');
    expect(facts(state).escrow).toMatchObject({ status: 'refunded', refundedMicroRtc: AMOUNT_MICRO_RTC, releasedMicroRtc: 0n });
  });

  it('refunds the maker of a sell order that expired at expires_at: status expired', () => {
    const g = given(...SELL.open(), orderExpired('expires_at')).when(recordRefundIssued('maker'));
    g.then([{ type: 'RefundIssued', data: { party: 'maker' } }]);
    expect(g.thenState().status).toBe('expired');
  });

  for (const s of SCENARIOS) {
    it(`refunds the seller (${s.sellerParty}) of a ${s.side} order that expired at settle_by: status expired`, () => {
      const g = given(...s.expiredRefundPending()).when(recordRefundIssued(s.sellerParty));
      g.then([{ type: 'RefundIssued', data: { party: s.sellerParty, job_id: s.sellerJob } }]);
      expect(g.thenState().status).toBe('expired');
    });

    it(`is a no-op when the refund of a ${s.side} order is reported again`, () => {
      given(...s.expiredRefunded()).when(recordRefundIssued(s.sellerParty)).thenNothing();
    });

    it(`refuses a refund of a settling ${s.side} order (refund_not_pending)`, () => {
      given(...s.settling()).when(recordRefundIssued(s.sellerParty)).thenRefuses('refund_not_pending');
    });

    it(`refuses a refund of a released ${s.side} escrow: never both a release and a refund`, () => {
      given(...s.released()).when(recordRefundIssued(s.sellerParty)).thenRefuses('refund_not_pending');
      given(...s.completed()).when(recordRefundIssued(s.sellerParty)).thenRefuses('refund_not_pending');
    });

    it(`refuses a refund of a matched ${s.side} order that did not expire`, () => {
      given(...s.matched()).when(recordRefundIssued(s.sellerParty)).thenRefuses('refund_not_pending');
    });
  }

  it('refuses a refund of the wrong party (refund_not_pending)', () => {
    given(...SELL.open(), orderCancelled()).when(recordRefundIssued('taker', MAKER_JOB)).thenRefuses('refund_not_pending');
  });

  it('refuses a refund of another job (refund_not_pending)', () => {
    given(...SELL.open(), orderCancelled()).when(recordRefundIssued('maker', 'job_other')).thenRefuses('refund_not_pending');
  });

  it('refuses a refund of an open order (refund_not_pending)', () => {
    given(...SELL.open()).when(recordRefundIssued('maker')).thenRefuses('refund_not_pending');
  });

  it('refuses a refund while the refund is parked in recovery; a re-drive makes it due again', () => {
    const history = [...SELL.open(), orderCancelled(), recoveryRequired('refund_outcome_unknown')];
    given(...history).when(recordRefundIssued('maker')).thenRefuses('refund_not_pending');
    const g = given(...history, redriveRequested()).when(recordRefundIssued('maker'));
    g.then([{ type: 'RefundIssued', data: { party: 'maker', job_id: MAKER_JOB } }]);
    expect(g.thenState().status).toBe('cancelled');
  });

  it('refuses a refund of a buy order cancelled without escrow', () => {
    given(...BUY.open(), orderCancelled()).when(recordRefundIssued('taker')).thenRefuses('refund_not_pending');
  });

  it('refuses a refund of an order that never locked escrow', () => {
    given(placedSell(), escrowLockFailed('maker')).when(recordRefundIssued('maker')).thenRefuses('refund_not_pending');
  });
});

import { facts, nextPayoutKey } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { given, stateAfter } from '../support/orderFixtures.js';
import {
  AMOUNT_MICRO_RTC,
  BUY,
  LATER,
  ORDER_ID,
  orderCancelled,
  PAYOUT_KEY,
  PAYOUT_TX,
  payoutQueued,
  payoutVoided,
  placedSell,
  matchedBuy,
  recordNodeCallFailed,
  recordPayoutStatus,
  recoveryRequired,
  redriveRequested,
  requestRedrive,
  requireRecovery,
  SCENARIOS,
  SELL,
  TRADE_ID,
  nodeCallFailed,
} from '../support/orderBuilders.js';
import { sellLapsed } from '../support/quoteLegBuilders.js';
import { dueStep } from '../../src/aggregates/order/index.js';

const REDRIVE_KEY_1 = `${PAYOUT_KEY}:redrive-1`;
const REDRIVE_KEY_2 = `${PAYOUT_KEY}:redrive-2`;

describe('RecordPayoutStatus', () => {
  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order (buyer = ${s.side === 'sell' ? 'taker' : 'maker'})`, () => {
      it('queues the payout of the released RTC to the buyer on a pending answer', () => {
        const g = given(...s.released()).when(recordPayoutStatus('pending'));
        g.thenExactly([
          {
            type: 'PayoutQueued',
            data: { payout_key: PAYOUT_KEY, tx_hash: PAYOUT_TX, to: s.buyer, amount_micro_rtc: '100000000', queued_at: LATER.toISOString() },
          },
        ]);
        const state = g.thenState();
        expect(state.status).toBe('payout_pending');
        expect(facts(state).payout).toMatchObject({ key: PAYOUT_KEY, status: 'queued', txHash: PAYOUT_TX });
      });

      it('queues and confirms at once when the node answers confirmed: completed, trade recorded', () => {
        const g = given(...s.released()).when(recordPayoutStatus('confirmed'));
        g.thenExactly([
          {
            type: 'PayoutQueued',
            data: { payout_key: PAYOUT_KEY, tx_hash: PAYOUT_TX, to: s.buyer, amount_micro_rtc: '100000000', queued_at: LATER.toISOString() },
          },
          { type: 'PayoutConfirmed', data: { payout_key: PAYOUT_KEY, tx_hash: PAYOUT_TX, confirmed_at: LATER.toISOString(), trade_id: TRADE_ID } },
        ]);
        const state = g.thenState();
        expect(state.status).toBe('completed');
        expect(facts(state).tradeId).toBe(`trade_${ORDER_ID.slice(4)}`);
        expect(facts(state).completedAt).toBe(LATER.toISOString());
      });

      it('queues and voids at once when the node answers voided: settlement_recovery', () => {
        const g = given(...s.released()).when(recordPayoutStatus('voided'));
        g.then([{ type: 'PayoutQueued' }, { type: 'PayoutVoided', data: { payout_key: PAYOUT_KEY } }]);
        const state = g.thenState();
        expect(state.status).toBe('settlement_recovery');
        expect(facts(state).payout).toMatchObject({ status: 'voided', voidedCount: 1 });
      });

      it('confirms a queued payout on look-up: completed, not queued again', () => {
        const g = given(...s.payoutPending()).when(recordPayoutStatus('confirmed'));
        g.thenExactly([
          { type: 'PayoutConfirmed', data: { payout_key: PAYOUT_KEY, tx_hash: PAYOUT_TX, confirmed_at: LATER.toISOString(), trade_id: TRADE_ID } },
        ]);
        const state = g.thenState();
        expect(state.status).toBe('completed');
        expect(facts(state).payout.confirmedCount).toBe(1);
      });

      it('records a void of the queued payout: settlement_recovery with the reason', () => {
        const g = given(...s.payoutPending()).when(recordPayoutStatus('voided'));
        g.thenExactly([{ type: 'PayoutVoided', data: { payout_key: PAYOUT_KEY, reason: 'the node voided the queued transfer' } }]);
        const state = g.thenState();
        expect(state.status).toBe('settlement_recovery');
        expect(facts(state).recoveryReason).toMatch(/^payout_voided/);
      });

      it('is a no-op while the queued payout is still pending', () => {
        given(...s.payoutPending()).when(recordPayoutStatus('pending')).thenNothing();
      });

      it('is a no-op when the confirmation is reported again (a trade is never recorded twice)', () => {
        given(...s.completed()).when(recordPayoutStatus('confirmed')).thenNothing();
        given(...s.completed()).when(recordPayoutStatus('pending')).thenNothing();
      });

      it('is a no-op when the void is reported again', () => {
        given(...s.recoveryAfterVoid()).when(recordPayoutStatus('voided')).thenNothing();
      });

      it('refuses a confirmation of a voided key: a voided transfer never completes', () => {
        given(...s.recoveryAfterVoid()).when(recordPayoutStatus('confirmed')).thenRefuses('payout_not_due');
        given(...s.recoveryAfterVoid()).when(recordPayoutStatus('pending')).thenRefuses('payout_not_due');
      });

      it('re-drives a voided payout under a fresh key (payoutKeyFor) and completes under it', () => {
        const history = [...s.recoveryAfterVoid(), redriveRequested()];
        expect(nextPayoutKey(stateAfter(...history))).toBe(REDRIVE_KEY_1);
        const g = given(...history).when(recordPayoutStatus('confirmed', REDRIVE_KEY_1, { txHash: 'tx2' }));
        g.then([
          { type: 'PayoutQueued', data: { payout_key: REDRIVE_KEY_1, tx_hash: 'tx2', to: s.buyer } },
          { type: 'PayoutConfirmed', data: { payout_key: REDRIVE_KEY_1, tx_hash: 'tx2', trade_id: TRADE_ID } },
        ]);
        expect(g.thenState().status).toBe('completed');
      });

      it('refuses the voided key again after a re-drive: only the fresh key is due', () => {
        const history = [...s.recoveryAfterVoid(), redriveRequested()];
        given(...history).when(recordPayoutStatus('pending', PAYOUT_KEY)).thenRefuses('payout_not_due');
        given(...history).when(recordPayoutStatus('confirmed', PAYOUT_KEY)).thenRefuses('payout_not_due');
      });

      it('uses a second fresh key after a second void', () => {
        const history = [
          ...s.recoveryAfterVoid(),
          redriveRequested(),
          payoutQueued(s.buyer, { payout_key: REDRIVE_KEY_1 }),
          payoutVoided({ payout_key: REDRIVE_KEY_1 }),
          redriveRequested(),
        ];
        const state = stateAfter(...history);
        expect(facts(state).payout.voidedCount).toBe(2);
        expect(nextPayoutKey(state)).toBe(REDRIVE_KEY_2);
        given(...history).when(recordPayoutStatus('pending', REDRIVE_KEY_1)).thenRefuses('payout_not_due');
        given(...history).when(recordPayoutStatus('pending', REDRIVE_KEY_2)).then([{ type: 'PayoutQueued', data: { payout_key: REDRIVE_KEY_2 } }]);
      });

      it('refuses a confirmation under a stale key while a fresh key is queued', () => {
        const history = [...s.recoveryAfterVoid(), redriveRequested(), payoutQueued(s.buyer, { payout_key: REDRIVE_KEY_1 })];
        given(...history).when(recordPayoutStatus('confirmed', PAYOUT_KEY)).thenRefuses('payout_not_due');
        given(...history).when(recordPayoutStatus('confirmed', REDRIVE_KEY_1)).then([{ type: 'PayoutConfirmed', data: { payout_key: REDRIVE_KEY_1 } }]);
      });

      it('refuses a payout before the escrow is released (payout_not_due)', () => {
        given(...s.settling()).when(recordPayoutStatus('pending')).thenRefuses('payout_not_due');
        given(...s.settling()).when(recordPayoutStatus('confirmed')).thenRefuses('payout_not_due');
      });

      it('refuses a payout of a matched order', () => {
        given(...s.matched()).when(recordPayoutStatus('confirmed')).thenRefuses('payout_not_due');
      });

      it('refuses a first payout under any key but otc_payout:<order_id>', () => {
        given(...s.released()).when(recordPayoutStatus('pending', REDRIVE_KEY_1)).thenRefuses('payout_not_due');
        given(...s.released()).when(recordPayoutStatus('confirmed', 'otc_payout:otc_ffffffffffffffff')).thenRefuses('payout_not_due');
      });

      it('refuses a look-up answer under another key than the queued one', () => {
        given(...s.payoutPending()).when(recordPayoutStatus('confirmed', REDRIVE_KEY_1)).thenRefuses('payout_not_due');
      });

      it('refuses a payout of an expired order', () => {
        given(...s.expiredRefunded()).when(recordPayoutStatus('confirmed')).thenRefuses('payout_not_due');
      });

      it('resumes the look-up of a queued payout after recovery and a re-drive, and completes', () => {
        const history = [...s.payoutPending(), recoveryRequired('payout_outcome_unknown', 'timeout'), redriveRequested()];
        expect(stateAfter(...history).status).toBe('payout_pending');
        given(...history).when(recordPayoutStatus('pending')).thenNothing();
        const g = given(...history).when(recordPayoutStatus('confirmed'));
        g.thenExactly([
          { type: 'PayoutConfirmed', data: { payout_key: PAYOUT_KEY, tx_hash: PAYOUT_TX, confirmed_at: LATER.toISOString(), trade_id: TRADE_ID } },
        ]);
        expect(g.thenState().status).toBe('completed');
      });

      it('queues the first payout after a recovery and re-drive when the payout was refused', () => {
        const history = [...s.released(), recoveryRequired('payout_rejected', '400'), redriveRequested()];
        expect(stateAfter(...history).status).toBe('settling');
        given(...history).when(recordPayoutStatus('pending')).then([{ type: 'PayoutQueued', data: { payout_key: PAYOUT_KEY, to: s.buyer } }]);
      });
    });
  }

  it('pays the amount that left escrow', () => {
    const state = given(...SELL.released()).when(recordPayoutStatus('pending')).thenState();
    expect(facts(state).escrow.releasedMicroRtc).toBe(AMOUNT_MICRO_RTC);
  });

  it('refuses a payout of an unknown order', () => {
    given().when(recordPayoutStatus('confirmed')).thenRefuses('order_not_found');
  });
});

describe('RequireRecovery', () => {
  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('parks a settling order whose release outcome is unknown', () => {
        const g = given(...s.settling()).when(requireRecovery('release_outcome_unknown', 'timeout after accept'));
        g.thenExactly([{ type: 'SettlementRecoveryRequired', data: { reason: 'release_outcome_unknown', detail: 'timeout after accept' } }]);
        const state = g.thenState();
        expect(state.status).toBe('settlement_recovery');
        expect(facts(state).recoveryReason).toBe('release_outcome_unknown');
        expect(facts(state).lastError).toBe('timeout after accept');
      });

      it('parks a released order whose payout was refused', () => {
        given(...s.released()).when(requireRecovery('payout_rejected')).then([{ type: 'SettlementRecoveryRequired' }]);
      });

      it('parks a payout_pending order whose look-up failed', () => {
        given(...s.payoutPending()).when(requireRecovery('payout_outcome_unknown')).then([{ type: 'SettlementRecoveryRequired' }]);
      });

      it('parks a refund that found the escrow released at the node', () => {
        const g = given(...s.expiredRefundPending()).when(requireRecovery('refund_found_released', 'job completed'));
        g.then([{ type: 'SettlementRecoveryRequired', data: { reason: 'refund_found_released' } }]);
        expect(g.thenState().status).toBe('settlement_recovery');
      });

      it('parks a matched order whose escrow the node cancelled or expired: the seller can no longer confirm', () => {
        const history = [...s.matched(), recoveryRequired('escrow_job_cancelled', 'the node shows the escrow job cancelled')];
        given(...s.matched()).when(requireRecovery('escrow_job_cancelled')).then([{ type: 'SettlementRecoveryRequired' }]);
        expect(stateAfter(...history).status).toBe('settlement_recovery');
      });

      it('is a no-op when the same recovery reason is reported again', () => {
        given(...s.settling(), recoveryRequired('release_outcome_unknown')).when(requireRecovery('release_outcome_unknown', 'other detail')).thenNothing();
      });

      it('records a new reason for an order already in recovery', () => {
        given(...s.settling(), recoveryRequired('release_outcome_unknown'))
          .when(requireRecovery('escrow_job_missing'))
          .then([{ type: 'SettlementRecoveryRequired', data: { reason: 'escrow_job_missing' } }]);
      });

      it('refuses recovery of a completed order (order_terminal)', () => {
        given(...s.completed()).when(requireRecovery()).thenRefuses('order_terminal');
      });

      it('refuses recovery of an expired order (order_terminal)', () => {
        given(...s.expiredRefunded()).when(requireRecovery()).thenRefuses('order_terminal');
      });

      it('parks an open order whose escrow is held (a node-side cancel is detected), and refuses one that holds none', () => {
        const open = given(...s.open());
        if (facts(open.state).escrow.status === 'locked') open.when(requireRecovery()).then([{ type: 'SettlementRecoveryRequired' }]);
        else open.when(requireRecovery()).thenRefuses('nothing_in_flight');
      });
    });
  }

  it('parks a lapsed sell order whose held escrow the node expired, and a re-drive resumes it lapsed, still watched', () => {
    const g = given(...sellLapsed()).when(requireRecovery('escrow_job_expired', 'the escrow job is expired at the node'));
    g.thenExactly([{ type: 'SettlementRecoveryRequired', data: { reason: 'escrow_job_expired', detail: 'the escrow job is expired at the node' } }]);
    expect(g.thenState().status).toBe('settlement_recovery');
    const resumed = stateAfter(...sellLapsed(), recoveryRequired('escrow_job_expired'), redriveRequested());
    expect(resumed.status).toBe('lapsed');
    expect(dueStep(resumed, 'watch')).toMatchObject({ kind: 'escrow_watch' });
    // Lapsed, nothing is due at the node but the watch.
    expect(dueStep(resumed, 'resume')).toBeNull();
  });

  it('refuses recovery of a sell order whose lock is pending (nothing_in_flight)', () => {
    given(placedSell()).when(requireRecovery()).thenRefuses('nothing_in_flight');
  });

  it('refuses recovery of a buy order whose taker is locking (nothing_in_flight)', () => {
    given(...BUY.open(), matchedBuy()).when(requireRecovery()).thenRefuses('nothing_in_flight');
  });

  it('refuses recovery of an unknown order', () => {
    given().when(requireRecovery()).thenRefuses('order_not_found');
  });
});

describe('RequestRedrive', () => {
  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('re-drives a settlement in recovery: the release is due again', () => {
        const g = given(...s.settling(), recoveryRequired()).when(requestRedrive('alice', 'node back up'));
        g.thenExactly([{ type: 'OperatorRedriveRequested', data: { operator: 'alice', reason: 'node back up' } }]);
        const state = g.thenState();
        expect(state.status).toBe('settling');
        expect(facts(state).recoveryReason).toBeNull();
        expect(facts(state).escrow.status).toBe('locked');
      });

      it('re-drives a voided payout: settling with the escrow released and a fresh payout due', () => {
        const state = given(...s.recoveryAfterVoid()).when(requestRedrive()).thenState();
        expect(state.status).toBe('settling');
        expect(nextPayoutKey(state)).toBe(REDRIVE_KEY_1);
      });

      it('re-drives a queued payout whose look-up failed back to payout_pending under its key', () => {
        const state = given(...s.payoutPending(), recoveryRequired('payout_outcome_unknown')).when(requestRedrive()).thenState();
        expect(state.status).toBe('payout_pending');
        expect(facts(state).payout).toMatchObject({ key: PAYOUT_KEY, status: 'queued' });
      });

      it('re-drives a refund in recovery back to refund_pending, never to a release', () => {
        const state = given(...s.expiredRefundPending(), recoveryRequired('refund_outcome_unknown')).when(requestRedrive()).thenState();
        expect(state.status).toBe('refund_pending');
        expect(facts(state).endingAs).toBe('expired');
      });

      it('re-drives a matched order parked by a node-side escrow change back to matched', () => {
        const state = given(...s.matched(), recoveryRequired('escrow_job_cancelled')).when(requestRedrive()).thenState();
        expect(state.status).toBe('matched');
        expect(facts(state).quoteTx).toBeNull();
      });

      it('resets the attempt counter', () => {
        const history = [...s.settling(), nodeCallFailed(), nodeCallFailed(), recoveryRequired()];
        expect(facts(stateAfter(...history)).attempts).toBe(2);
        expect(facts(given(...history).when(requestRedrive()).thenState()).attempts).toBe(0);
      });

      it('refuses a re-drive of a hijacked escrow (escrow_hijacked); another recovery reason cannot replace it', () => {
        const hijacked = [...s.settling(), recoveryRequired('escrow_hijacked', 'claimed by someone else')];
        given(...hijacked).when(requestRedrive()).thenRefuses('escrow_hijacked');
        given(...hijacked).when(requireRecovery('release_outcome_unknown')).thenNothing();
        given(...s.settling(), recoveryRequired('release_refused')).when(requireRecovery('escrow_hijacked')).then([
          { type: 'SettlementRecoveryRequired', data: { reason: 'escrow_hijacked' } },
        ]);
      });

      it('refuses a re-drive of a settling order (order_not_in_recovery)', () => {
        given(...s.settling()).when(requestRedrive()).thenRefuses('order_not_in_recovery');
      });

      it('refuses a re-drive of a payout_pending order (order_not_in_recovery)', () => {
        given(...s.payoutPending()).when(requestRedrive()).thenRefuses('order_not_in_recovery');
      });

      it('refuses a second re-drive once the first moved the order (order_not_in_recovery)', () => {
        given(...s.settling(), recoveryRequired(), redriveRequested()).when(requestRedrive()).thenRefuses('order_not_in_recovery');
      });

      it('refuses a re-drive of a matched or open order (order_not_in_recovery)', () => {
        given(...s.matched()).when(requestRedrive()).thenRefuses('order_not_in_recovery');
        given(...s.open()).when(requestRedrive()).thenRefuses('order_not_in_recovery');
      });

      it('refuses a re-drive of a completed order (order_not_in_recovery)', () => {
        given(...s.completed()).when(requestRedrive()).thenRefuses('order_not_in_recovery');
      });
    });
  }

  it('re-drives a cancelled sell order\'s refund back to refund_pending (ending cancelled)', () => {
    const state = given(...SELL.open(), orderCancelled(), recoveryRequired('refund_outcome_unknown')).when(requestRedrive()).thenState();
    expect(state.status).toBe('refund_pending');
    expect(facts(state).endingAs).toBe('cancelled');
  });

  it('refuses a re-drive of an unknown order', () => {
    given().when(requestRedrive()).thenRefuses('order_not_found');
  });
});

describe('RecordNodeCallFailed', () => {
  it('records a failed release call and counts the attempt, leaving the status as it was', () => {
    const g = given(...SELL.settling()).when(recordNodeCallFailed({ step: 'release', outcome: 'unknown', reason: 'timeout' }));
    g.thenExactly([{ type: 'NodeCallFailed', data: { step: 'release', key: `otc_release:${ORDER_ID}`, outcome: 'unknown', reason: 'timeout' } }]);
    const state = g.thenState();
    expect(state.status).toBe('settling');
    expect(facts(state).attempts).toBe(1);
    expect(facts(state).lastError).toBe('release: timeout');
  });

  it('counts every failed attempt until the order moves forward', () => {
    const history = [placedSell(), nodeCallFailed({ step: 'lock', key: `otc_escrow:${ORDER_ID}:maker`, outcome: 'rejected', reason: 'node down' })];
    const g = given(...history).when(recordNodeCallFailed({ step: 'lock', outcome: 'unknown', reason: 'reset' }));
    expect(facts(g.thenState()).attempts).toBe(2);
    const after = stateAfter(...history, { type: 'EscrowLocked', data: { party: 'maker', job_id: 'j', amount_micro_rtc: '1', locked_at: LATER.toISOString() } });
    expect(facts(after).attempts).toBe(0);
    expect(facts(after).lastError).toBeNull();
  });

  it('records a failed refund call while the refund is pending', () => {
    given(...SELL.open(), orderCancelled())
      .when(recordNodeCallFailed({ step: 'refund', key: `otc_refund:${ORDER_ID}:maker`, outcome: 'rejected', reason: '409' }))
      .then([{ type: 'NodeCallFailed', data: { step: 'refund', outcome: 'rejected' } }]);
  });

  it('records a failed payout look-up while the payout is pending', () => {
    const g = given(...BUY.payoutPending()).when(recordNodeCallFailed({ step: 'payout_lookup', key: PAYOUT_KEY, reason: 'timeout' }));
    g.then([{ type: 'NodeCallFailed', data: { step: 'payout_lookup', key: PAYOUT_KEY } }]);
    expect(g.thenState().status).toBe('payout_pending');
  });

  it('refuses to record a failure on a terminal order (order_terminal)', () => {
    given(...SELL.completed()).when(recordNodeCallFailed()).thenRefuses('order_terminal');
    given(...BUY.open(), orderCancelled()).when(recordNodeCallFailed()).thenRefuses('order_terminal');
  });

  it('refuses to record a failure on an unknown order', () => {
    given().when(recordNodeCallFailed()).thenRefuses('order_not_found');
  });
});

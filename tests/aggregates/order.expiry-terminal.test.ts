import { facts } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { given } from '../support/orderFixtures.js';
import {
  at,
  BUY,
  cancelOrder,
  confirmSettlement,
  escrowLockFailed,
  expireOrder,
  EXPIRES_AT,
  LATER,
  MAKER,
  MAKER_SECRET,
  matchAborted,
  matched,
  escrowLocked,
  matchedBuy,
  matchOrder,
  placedSell,
  placeOrder,
  recordEscrowLocked,
  recordEscrowLockFailed,
  recordEscrowReleased,
  recordNodeCallFailed,
  recordPayoutStatus,
  recordRefundIssued,
  recoveryRequired,
  requestRedrive,
  requireRecovery,
  revertSettlement,
  SCENARIOS,
  SELL,
  SETTLE_BY,
  STRANGER,
  TAKER,
  TAKER_SECRET,
  TERMINAL_HISTORIES,
} from '../support/orderBuilders.js';
import { decide, foldEvents, isTerminal, OrderRefused, type OrderCommand } from '../../src/aggregates/order/index.js';

describe('ExpireOrder', () => {
  it('expires an open sell order at expires_at into refund_pending (the maker\'s escrow is held)', () => {
    const g = given(...SELL.open()).when(expireOrder(EXPIRES_AT));
    g.thenExactly([{ type: 'OrderExpired', data: { deadline: 'expires_at', expired_at: EXPIRES_AT.toISOString() } }]);
    const state = g.thenState();
    expect(state.status).toBe('refund_pending');
    expect(facts(state).endingAs).toBe('expired');
  });

  it('expires an open buy order at expires_at straight to expired (no escrow)', () => {
    const g = given(...BUY.open()).when(expireOrder(EXPIRES_AT));
    g.then([{ type: 'OrderExpired', data: { deadline: 'expires_at' } }]);
    expect(g.thenState().status).toBe('expired');
  });

  it('expires a buy order that is open again after an aborted match at expires_at straight to expired', () => {
    const g = given(...BUY.open(), matchedBuy(), escrowLockFailed('taker'), matchAborted()).when(expireOrder(at(EXPIRES_AT, 1)));
    g.then([{ type: 'OrderExpired', data: { deadline: 'expires_at' } }]);
    expect(g.thenState().status).toBe('expired');
  });

  it('records the clock of the command as expired_at', () => {
    const late = at(EXPIRES_AT, 7200);
    given(...BUY.open()).when(expireOrder(late)).then([{ type: 'OrderExpired', data: { expired_at: late.toISOString() } }]);
  });

  it('is a no-op for an open order one millisecond before expires_at', () => {
    given(...SELL.open()).when(expireOrder(new Date(EXPIRES_AT.getTime() - 1))).thenNothing();
    given(...BUY.open()).when(expireOrder(new Date(EXPIRES_AT.getTime() - 1))).thenNothing();
  });

  for (const s of SCENARIOS) {
    describe(`on a matched ${s.side} order`, () => {
      it('expires it at settle_by into refund_pending: the seller\'s escrow is refunded', () => {
        const g = given(...s.matched()).when(expireOrder(SETTLE_BY));
        g.thenExactly([{ type: 'OrderExpired', data: { deadline: 'settle_by', expired_at: SETTLE_BY.toISOString() } }]);
        const state = g.thenState();
        expect(state.status).toBe('refund_pending');
        expect(facts(state).endingAs).toBe('expired');
        expect(facts(state).escrow.party).toBe(s.sellerParty);
      });

      it('is a no-op before settle_by', () => {
        given(...s.matched()).when(expireOrder(new Date(SETTLE_BY.getTime() - 1))).thenNothing();
      });

      it('is a no-op past expires_at but before settle_by: a matched order waits for its settle window', () => {
        const matchedAt = at(EXPIRES_AT, -3600);
        const settleBy = at(matchedAt, 86_400);
        const late = { matched_at: matchedAt.toISOString(), settle_by: settleBy.toISOString() };
        const history = s.side === 'sell'
          ? [...s.open(), matched(late)]
          : [...s.open(), matchedBuy(late), escrowLocked('taker')];
        given(...history).when(expireOrder(at(EXPIRES_AT, 1))).thenNothing();
        given(...history).when(expireOrder(settleBy)).then([{ type: 'OrderExpired', data: { deadline: 'settle_by' } }]);
      });

      it('is a no-op for a settling order past settle_by: a claimed settlement is never expired', () => {
        given(...s.settling()).when(expireOrder(at(SETTLE_BY, 3600))).thenNothing();
      });

      it('is a no-op for a payout_pending order past every deadline', () => {
        given(...s.payoutPending()).when(expireOrder(at(EXPIRES_AT, 86_400))).thenNothing();
      });

      it('is a no-op for an order in settlement_recovery past settle_by', () => {
        given(...s.settling(), recoveryRequired()).when(expireOrder(at(SETTLE_BY, 1))).thenNothing();
      });

      it('is a no-op when the refund is already pending', () => {
        given(...s.expiredRefundPending()).when(expireOrder(at(SETTLE_BY, 60))).thenNothing();
      });

      it('refuses to expire the expired order again (order_terminal)', () => {
        given(...s.expiredRefunded()).when(expireOrder(at(SETTLE_BY, 60))).thenRefuses('order_terminal');
      });

      it('refuses to expire a completed order (order_terminal)', () => {
        given(...s.completed()).when(expireOrder(at(EXPIRES_AT, 86_400))).thenRefuses('order_terminal');
      });
    });
  }

  it('expires a matched order whose settle_by falls before expires_at at settle_by, not before', () => {
    const shortWindow = [...SELL.open(), { type: 'Matched' as const, data: { taker_wallet: TAKER, taker_eth_address: null, htlc_hash: null, matched_at: LATER.toISOString(), settle_by: at(LATER, 60).toISOString() } }];
    given(...shortWindow).when(expireOrder(at(LATER, 59))).thenNothing();
    given(...shortWindow).when(expireOrder(at(LATER, 60))).then([{ type: 'OrderExpired', data: { deadline: 'settle_by' } }]);
  });

  it('is a no-op for a sell order whose escrow lock is still pending', () => {
    given(placedSell()).when(expireOrder(at(EXPIRES_AT, 1))).thenNothing();
  });

  it('is a no-op for a buy order whose taker is still locking', () => {
    given(...BUY.open(), matchedBuy()).when(expireOrder(at(SETTLE_BY, 1))).thenNothing();
  });

  it('refuses to expire a rejected order (order_terminal)', () => {
    given(placedSell(), escrowLockFailed('maker')).when(expireOrder(at(EXPIRES_AT, 1))).thenRefuses('order_terminal');
  });

  it('refuses to expire an unknown order', () => {
    given().when(expireOrder(EXPIRES_AT)).thenRefuses('order_not_found');
  });
});

/** Every command, as every actor, with a clock far past every deadline. */
function everyCommand(): OrderCommand[] {
  const far = at(EXPIRES_AT, 30 * 86_400);
  const commands: OrderCommand[] = [];
  for (const side of ['sell', 'buy'] as const) {
    commands.push(placeOrder(side));
    for (const taker of [TAKER, STRANGER]) commands.push(matchOrder(side, { takerWallet: taker, now: LATER }));
  }
  for (const wallet of [MAKER, TAKER, STRANGER]) {
    commands.push(cancelOrder(wallet));
    for (const secret of [MAKER_SECRET, TAKER_SECRET]) commands.push(confirmSettlement(wallet, secret));
  }
  for (const party of ['maker', 'taker'] as const) {
    commands.push(recordEscrowLocked(party, 'job_new'), recordEscrowLockFailed(party), recordRefundIssued(party, 'job_new'));
  }
  commands.push(
    recordEscrowReleased('job_new'),
    revertSettlement(),
    recordPayoutStatus('pending', 'otc_payout:other'),
    recordPayoutStatus('confirmed', 'otc_payout:other'),
    requireRecovery(),
    requestRedrive(),
    expireOrder(far),
    recordNodeCallFailed(),
  );
  return commands;
}

describe('terminal orders', () => {
  for (const [name, history] of TERMINAL_HISTORIES) {
    it(`a ${name} order is terminal and every new command on it is refused`, () => {
      const state = foldEvents(history());
      expect(isTerminal(state.status)).toBe(true);
      for (const command of everyCommand()) {
        // Reporting the refusal that rejected the order again is the one repeat in this list: it decides nothing.
        const repeat = state.status === 'rejected' && command.type === 'RecordEscrowLockFailed' && command.party === 'maker';
        if (repeat) {
          expect(decide(command, state)).toEqual([]);
          continue;
        }
        let refused: unknown = null;
        try {
          decide(command, state);
        } catch (error) {
          refused = error;
        }
        expect(refused, `${command.type} on ${name}`).toBeInstanceOf(OrderRefused);
      }
    });
  }

  it('repeating the fact that ended an order decides nothing (idempotent, no event after terminal)', () => {
    given(...SELL.completed()).when(recordPayoutStatus('confirmed')).thenNothing();
    given(...SELL.completed()).when(recordEscrowReleased(SELL.sellerJob)).thenNothing();
    given(...SELL.expiredRefunded()).when(recordRefundIssued('maker')).thenNothing();
    given(placedSell(), escrowLockFailed('maker')).when(recordEscrowLockFailed('maker')).thenNothing();
  });

  it('refuses match, cancel and confirm of a completed order with their codes', () => {
    given(...SELL.completed()).when(matchOrder('sell', { takerWallet: STRANGER })).thenRefuses('order_not_open');
    given(...SELL.completed()).when(cancelOrder()).thenRefuses('order_not_open');
    given(...SELL.completed()).when(confirmSettlement(MAKER, MAKER_SECRET)).thenRefuses('order_not_matched');
  });

  it('refuses reconciler commands on a terminal order with order_terminal', () => {
    given(...BUY.expiredRefunded()).when(requireRecovery()).thenRefuses('order_terminal');
    given(...BUY.expiredRefunded()).when(recordNodeCallFailed()).thenRefuses('order_terminal');
    given(...BUY.expiredRefunded()).when(expireOrder(at(SETTLE_BY, 1))).thenRefuses('order_terminal');
  });
});

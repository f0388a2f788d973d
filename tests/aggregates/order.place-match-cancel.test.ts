import { facts } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { given } from '../support/orderFixtures.js';
import {
  AMOUNT_MICRO_RTC,
  BUY,
  cancelOrder,
  EXPIRES_AT,
  at,
  escrowLocked,
  escrowLockFailed,
  MAKER,
  MAKER_HTLC_HASH,
  matchAborted,
  matched,
  matchedBuy,
  MATCHED_AT,
  matchOrder,
  ORDER_ID,
  orderCancelled,
  PLACED_AT,
  placedBuy,
  placedSell,
  placeOrder,
  PRICE_NANO_QUOTE,
  SCENARIOS,
  SELL,
  SETTLE_WINDOW_SECONDS,
  STRANGER,
  TAKER,
  TAKER_HTLC_HASH,
  TTL_SECONDS,
  upperHex,
} from '../support/orderBuilders.js';

describe('PlaceOrder', () => {
  it('places a sell order with the maker\'s htlc_hash, exact amounts and expires_at = placed_at + ttl', () => {
    given().when(placeOrder('sell')).thenExactly([
      {
        type: 'OrderPlaced',
        data: {
          order_id: ORDER_ID,
          side: 'sell',
          pair: 'RTC/USDC',
          maker_wallet: MAKER,
          amount_micro_rtc: '100000000',
          price_per_rtc_nano_quote: '100000000',
          total_quote_nano: '10000000000',
          maker_eth_address: '0x' + 'ab'.repeat(20),
          htlc_hash: MAKER_HTLC_HASH,
          ttl_seconds: TTL_SECONDS,
          placed_at: PLACED_AT.toISOString(),
          expires_at: EXPIRES_AT.toISOString(),
        },
      },
    ]);
  });

  it('places a buy order without an htlc_hash', () => {
    given().when(placeOrder('buy')).then([{ type: 'OrderPlaced', data: { side: 'buy', htlc_hash: null } }]);
  });

  it('stores the maker wallet in canonical (lowercase hex) form', () => {
    given().when(placeOrder('sell', { makerWallet: upperHex(MAKER) })).then([{ type: 'OrderPlaced', data: { maker_wallet: MAKER } }]);
  });

  it('computes total_quote_nano on bigint with round half up', () => {
    // 1 micro-RTC at 500,000 nano-quote per RTC is exactly 0.5 nano-quote: rounds up to 1.
    given()
      .when(placeOrder('buy', { amountMicroRtc: 1n, pricePerRtcNanoQuote: 500_000n }))
      .then([{ type: 'OrderPlaced', data: { total_quote_nano: '1' } }]);
    given()
      .when(placeOrder('buy', { amountMicroRtc: 1n, pricePerRtcNanoQuote: 499_999n }))
      .then([{ type: 'OrderPlaced', data: { total_quote_nano: '0' } }]);
  });

  it('keeps amounts beyond float precision exact', () => {
    const amount = 9_999_999_999_999_999n;
    given()
      .when(placeOrder('buy', { amountMicroRtc: amount, pricePerRtcNanoQuote: 1_000_000_000_000n }))
      .then([{ type: 'OrderPlaced', data: { amount_micro_rtc: '9999999999999999', total_quote_nano: '9999999999999999000000' } }]);
  });

  it.each(['RTC/USDC', 'RTC/ETH', 'RTC/ERG'] as const)('places an order on %s', (pair) => {
    given().when(placeOrder('buy', { pair })).then([{ type: 'OrderPlaced', data: { pair } }]);
  });

  it('refuses a second placement of the same order id', () => {
    given(placedBuy()).when(placeOrder('buy')).thenRefuses('order_exists');
    given(placedSell(), escrowLockFailed('maker')).when(placeOrder('sell')).thenRefuses('order_exists');
  });

  it('refuses a zero or negative amount', () => {
    given().when(placeOrder('sell', { amountMicroRtc: 0n })).thenRefuses('amount_must_be_positive');
    given().when(placeOrder('sell', { amountMicroRtc: -1n })).thenRefuses('amount_must_be_positive');
  });

  it('refuses a zero or negative price', () => {
    given().when(placeOrder('sell', { pricePerRtcNanoQuote: 0n })).thenRefuses('price_must_be_positive');
    given().when(placeOrder('buy', { pricePerRtcNanoQuote: -5n })).thenRefuses('price_must_be_positive');
  });

  it('refuses a sell order without htlc_hash', () => {
    given().when(placeOrder('sell', { htlcHash: null })).thenRefuses('htlc_hash_required');
  });

  it('refuses a buy order that brings an htlc_hash (it comes from the taker)', () => {
    given().when(placeOrder('buy', { htlcHash: TAKER_HTLC_HASH })).thenRefuses('htlc_hash_not_allowed');
  });
});

describe('MatchOrder', () => {
  it('matches an open sell order: Matched with the canonical taker, settle_by = matched_at + window, no htlc_hash', () => {
    given(...SELL.open()).when(matchOrder('sell')).thenExactly([
      {
        type: 'Matched',
        data: {
          taker_wallet: TAKER,
          taker_eth_address: '0x' + 'cd'.repeat(20),
          htlc_hash: null,
          matched_at: MATCHED_AT.toISOString(),
          settle_by: at(MATCHED_AT, SETTLE_WINDOW_SECONDS).toISOString(),
        },
      },
    ]);
  });

  it('matches a sell order into status matched (the maker\'s escrow is already held)', () => {
    expect(given(...SELL.open()).when(matchOrder('sell')).thenState().status).toBe('matched');
  });

  it('matches an open buy order with the taker\'s htlc_hash into status matching', () => {
    const g = given(...BUY.open()).when(matchOrder('buy'));
    g.then([{ type: 'Matched', data: { taker_wallet: TAKER, htlc_hash: TAKER_HTLC_HASH } }]);
    const state = g.thenState();
    expect(state.status).toBe('matching');
    expect(facts(state).htlcHash).toBe(TAKER_HTLC_HASH);
    expect(facts(state).escrow).toMatchObject({ party: 'taker', status: 'locking' });
  });

  it('uses the settle window of the command', () => {
    given(...SELL.open())
      .when(matchOrder('sell', { settleWindowSeconds: 3600 }))
      .then([{ type: 'Matched', data: { settle_by: at(MATCHED_AT, 3600).toISOString() } }]);
  });

  it('stores the taker wallet in canonical form', () => {
    given(...SELL.open())
      .when(matchOrder('sell', { takerWallet: upperHex(TAKER) }))
      .then([{ type: 'Matched', data: { taker_wallet: TAKER } }]);
  });

  it('matches a buy order again after its first match was aborted', () => {
    given(...BUY.open(), matchedBuy(), escrowLockFailed('taker'), matchAborted())
      .when(matchOrder('buy', { takerWallet: STRANGER }))
      .then([{ type: 'Matched', data: { taker_wallet: STRANGER } }]);
  });

  it('matches one second before expires_at', () => {
    given(...SELL.open()).when(matchOrder('sell', { now: at(EXPIRES_AT, -1) })).then([{ type: 'Matched' }]);
  });

  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('refuses a self-match by the maker', () => {
        given(...s.open()).when(matchOrder(s.side, { takerWallet: MAKER })).thenRefuses('self_match');
      });

      it('refuses a self-match with the maker wallet\'s hex case changed', () => {
        given(...s.open()).when(matchOrder(s.side, { takerWallet: upperHex(MAKER) })).thenRefuses('self_match');
      });

      it('refuses a self-match with mixed hex case', () => {
        const mixed = `RTC${[...MAKER.slice(3)].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('')}`;
        given(...s.open()).when(matchOrder(s.side, { takerWallet: mixed })).thenRefuses('self_match');
      });

      it('refuses a match at expires_at (order_expired)', () => {
        given(...s.open()).when(matchOrder(s.side, { now: EXPIRES_AT })).thenRefuses('order_expired');
      });

      it('refuses a match past expires_at (order_expired)', () => {
        given(...s.open()).when(matchOrder(s.side, { now: at(EXPIRES_AT, 3600) })).thenRefuses('order_expired');
      });

      it('refuses a match of an order that is already matched (order_not_open)', () => {
        given(...s.matched()).when(matchOrder(s.side, { takerWallet: STRANGER })).thenRefuses('order_not_open');
      });

      it('refuses a second match by the same taker (order_not_open carries the status)', () => {
        const refusal = given(...s.matched()).when(matchOrder(s.side)).thenRefuses('order_not_open');
        expect(refusal.status).toBe('matched');
      });

      it('refuses a match of a settling order', () => {
        given(...s.settling()).when(matchOrder(s.side, { takerWallet: STRANGER })).thenRefuses('order_not_open');
      });

      it('refuses a match of an order waiting for its refund', () => {
        given(...s.expiredRefundPending()).when(matchOrder(s.side, { takerWallet: STRANGER })).thenRefuses('order_not_open');
      });
    });
  }

  it('refuses a match of a sell order whose escrow is not locked yet', () => {
    given(placedSell()).when(matchOrder('sell')).thenRefuses('order_not_open');
  });

  it('refuses a match of a buy order whose first taker is still locking (matching)', () => {
    given(...BUY.open(), matchedBuy()).when(matchOrder('buy', { takerWallet: STRANGER })).thenRefuses('order_not_open');
  });

  it('refuses a match of an unknown order', () => {
    given().when(matchOrder('sell')).thenRefuses('order_not_found');
  });

  it('refuses a buy-order match without the taker\'s htlc_hash', () => {
    given(...BUY.open()).when(matchOrder('buy', { htlcHash: null })).thenRefuses('htlc_hash_required');
  });

  it('refuses a sell-order match that brings an htlc_hash', () => {
    given(...SELL.open()).when(matchOrder('sell', { htlcHash: TAKER_HTLC_HASH })).thenRefuses('htlc_hash_not_allowed');
  });

  it('checks expiry before self-match: an expired self-match is order_expired', () => {
    given(...SELL.open()).when(matchOrder('sell', { takerWallet: MAKER, now: EXPIRES_AT })).thenRefuses('order_expired');
  });
});

describe('CancelOrder', () => {
  it('cancels an open sell order by the maker; the held escrow makes it refund_pending', () => {
    const g = given(...SELL.open()).when(cancelOrder());
    g.then([{ type: 'OrderCancelled', data: { by: MAKER } }]);
    const state = g.thenState();
    expect(state.status).toBe('refund_pending');
    expect(facts(state).endingAs).toBe('cancelled');
  });

  it('cancels an open buy order by the maker straight to cancelled (no escrow)', () => {
    const g = given(...BUY.open()).when(cancelOrder());
    g.then([{ type: 'OrderCancelled', data: { by: MAKER } }]);
    expect(g.thenState().status).toBe('cancelled');
  });

  it('accepts the maker with changed hex case and records the canonical wallet', () => {
    given(...SELL.open()).when(cancelOrder(upperHex(MAKER))).then([{ type: 'OrderCancelled', data: { by: MAKER } }]);
  });

  it('cancels a buy order that is open again after an aborted match, straight to cancelled', () => {
    const g = given(...BUY.open(), matchedBuy(), escrowLockFailed('taker'), matchAborted()).when(cancelOrder());
    g.then([{ type: 'OrderCancelled' }]);
    expect(g.thenState().status).toBe('cancelled');
  });

  it('is a no-op when the maker cancels again while the refund is pending', () => {
    given(...SELL.open(), orderCancelled()).when(cancelOrder()).thenNothing();
  });

  for (const s of SCENARIOS) {
    describe(`on a ${s.side} order`, () => {
      it('refuses a cancel by the taker (not_maker)', () => {
        given(...s.open()).when(cancelOrder(TAKER)).thenRefuses('not_maker');
      });

      it('refuses a cancel by a stranger (not_maker)', () => {
        given(...s.open()).when(cancelOrder(STRANGER)).thenRefuses('not_maker');
      });

      it('refuses to cancel a matched order: it expires at settle_by instead', () => {
        given(...s.matched()).when(cancelOrder()).thenRefuses('order_not_open');
      });

      it('refuses to cancel a settling order', () => {
        given(...s.settling()).when(cancelOrder()).thenRefuses('order_not_open');
      });

      it('refuses to cancel an order in payout_pending', () => {
        given(...s.payoutPending()).when(cancelOrder()).thenRefuses('order_not_open');
      });

      it('refuses to cancel an expired order waiting for its refund', () => {
        given(...s.expiredRefundPending()).when(cancelOrder()).thenRefuses('order_not_open');
      });
    });
  }

  it('refuses to cancel a sell order whose escrow lock is pending', () => {
    given(placedSell()).when(cancelOrder()).thenRefuses('order_not_open');
  });

  it('refuses to cancel a buy order whose taker is locking escrow', () => {
    given(...BUY.open(), matchedBuy()).when(cancelOrder()).thenRefuses('order_not_open');
  });

  it('refuses to cancel an unknown order', () => {
    given().when(cancelOrder()).thenRefuses('order_not_found');
  });

  it('refuses a second cancel once the order is cancelled', () => {
    given(...BUY.open(), orderCancelled()).when(cancelOrder()).thenRefuses('order_not_open');
  });

  it('refuses a maker cancel on an order that expired and waits for its refund (not a cancel)', () => {
    given(...SELL.open(), { type: 'OrderExpired', data: { deadline: 'expires_at', expired_at: EXPIRES_AT.toISOString() } })
      .when(cancelOrder())
      .thenRefuses('order_not_open');
  });

  it('reads amounts from the stream exactly after a cancel', () => {
    const state = given(...SELL.open()).when(cancelOrder()).thenState();
    expect(facts(state).amountMicroRtc).toBe(AMOUNT_MICRO_RTC);
    expect(facts(state).pricePerRtcNanoQuote).toBe(PRICE_NANO_QUOTE);
    expect(facts(state).escrow.status).toBe('locked');
  });
});

describe('the maker\'s escrow before matching', () => {
  it('an open sell order holds the maker\'s escrow', () => {
    const state = given(placedSell(), escrowLocked('maker')).state;
    expect(facts(state).escrow).toMatchObject({ party: 'maker', status: 'locked' });
  });

  it('checks the status before self-match: the maker re-matching a matched order is order_not_open', () => {
    given(...SELL.open(), matched({ taker_wallet: TAKER })).when(matchOrder('sell', { takerWallet: upperHex(MAKER) })).thenRefuses('order_not_open');
  });
});

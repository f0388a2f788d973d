import { facts } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import { given } from '../support/orderFixtures.js';
import {
  BUY,
  CIPHERTEXT,
  confirmSettlement,
  escrowLockFailed,
  LATER,
  MAKER,
  MAKER_SECRET,
  matchAborted,
  matchedBuy,
  placedSell,
  QUOTE_TX,
  recoveryRequired,
  SCENARIOS,
  SELL,
  settlementReverted,
  STRANGER,
  TAKER,
  TAKER_SECRET,
  upperHex,
  WRONG_SECRET,
} from '../support/orderBuilders.js';
import { preimageMatches } from '../../src/aggregates/order/index.js';

describe('ConfirmSettlement', () => {
  for (const s of SCENARIOS) {
    const buyer = s.buyer;
    describe(`on a ${s.side} order (seller = ${s.side === 'sell' ? 'maker' : 'taker'})`, () => {
      it('claims settlement when the seller confirms with the preimage and a quote_tx', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, s.secret)).thenExactly([
          {
            type: 'SettlementClaimed',
            data: { quote_tx: QUOTE_TX, secret_ciphertext: CIPHERTEXT, claimed_at: LATER.toISOString() },
          },
        ]);
      });

      it('moves the order to settling and keeps only the ciphertext of the preimage', () => {
        const state = given(...s.matched()).when(confirmSettlement(s.seller, s.secret)).thenState();
        expect(state.status).toBe('settling');
        expect(facts(state).secretCiphertext).toBe(CIPHERTEXT);
        expect(JSON.stringify(given(...s.matched()).when(confirmSettlement(s.seller, s.secret)).events())).not.toContain(s.secret);
      });

      it('accepts the seller wallet with changed hex case', () => {
        given(...s.matched()).when(confirmSettlement(upperHex(s.seller), s.secret)).then([{ type: 'SettlementClaimed' }]);
      });

      it('accepts the preimage written in upper-case hex', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, s.secret.toUpperCase())).then([{ type: 'SettlementClaimed' }]);
      });

      it('claims settlement when the buyer confirms with the preimage read on the quote chain', () => {
        given(...s.matched()).when(confirmSettlement(buyer, s.secret)).thenExactly([
          {
            type: 'SettlementClaimed',
            data: { quote_tx: QUOTE_TX, secret_ciphertext: CIPHERTEXT, claimed_at: LATER.toISOString() },
          },
        ]);
      });

      it('pays the buyer whoever confirmed: the buyer\'s confirm queues the payout to the buyer', () => {
        const state = given(...s.matched()).when(confirmSettlement(buyer, s.secret)).thenState();
        expect(state.status).toBe('settling');
      });

      it('accepts the buyer wallet with changed hex case', () => {
        given(...s.matched()).when(confirmSettlement(upperHex(buyer), s.secret)).then([{ type: 'SettlementClaimed' }]);
      });

      it('refuses the buyer\'s confirm with a wrong preimage (secret_mismatch)', () => {
        given(...s.matched()).when(confirmSettlement(buyer, WRONG_SECRET)).thenRefuses('secret_mismatch');
      });

      it('refuses the buyer\'s second confirm once settlement is claimed (order_not_matched)', () => {
        given(...s.settling()).when(confirmSettlement(buyer, s.secret)).thenRefuses('order_not_matched');
      });

      it('refuses a confirm by a stranger who knows the preimage (not_party)', () => {
        given(...s.matched()).when(confirmSettlement(STRANGER, s.secret)).thenRefuses('not_party');
      });

      it('refuses a wrong preimage (secret_mismatch)', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, WRONG_SECRET)).thenRefuses('secret_mismatch');
      });

      it('refuses the other side\'s preimage (secret_mismatch)', () => {
        const other = s.side === 'sell' ? TAKER_SECRET : MAKER_SECRET;
        given(...s.matched()).when(confirmSettlement(s.seller, other)).thenRefuses('secret_mismatch');
      });

      it('refuses the htlc_hash itself in place of the preimage (secret_mismatch)', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, s.htlcHash)).thenRefuses('secret_mismatch');
      });

      it('refuses a preimage that is not 64 hex digits (secret_mismatch)', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, s.secret.slice(0, 62))).thenRefuses('secret_mismatch');
        given(...s.matched()).when(confirmSettlement(s.seller, `${s.secret.slice(0, 63)}g`)).thenRefuses('secret_mismatch');
        given(...s.matched()).when(confirmSettlement(s.seller, '')).thenRefuses('secret_mismatch');
      });

      it('refuses an empty quote_tx (quote_tx_required)', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, s.secret, { quoteTx: '' })).thenRefuses('quote_tx_required');
      });

      it('refuses a blank quote_tx (quote_tx_required)', () => {
        given(...s.matched()).when(confirmSettlement(s.seller, s.secret, { quoteTx: '   ' })).thenRefuses('quote_tx_required');
      });

      it('refuses a second confirm once settlement is claimed (order_not_matched, with the status)', () => {
        const refusal = given(...s.settling()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
        expect(refusal.status).toBe('settling');
      });

      it('refuses a confirm once the escrow is released', () => {
        given(...s.released()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
      });

      it('refuses a confirm while the payout is pending', () => {
        given(...s.payoutPending()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
      });

      it('refuses a confirm of a completed order', () => {
        given(...s.completed()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
      });

      it('refuses a confirm in settlement_recovery', () => {
        given(...s.settling(), recoveryRequired()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
      });

      it('refuses a confirm once the order expired at settle_by', () => {
        given(...s.expiredRefundPending()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
        given(...s.expiredRefunded()).when(confirmSettlement(s.seller, s.secret)).thenRefuses('order_not_matched');
      });

      it('refuses a confirm once a node-side cancel of the held escrow parked the matched order in recovery', () => {
        given(...s.matched(), recoveryRequired('escrow_job_cancelled', 'the node shows the escrow job cancelled'))
          .when(confirmSettlement(s.seller, s.secret))
          .thenRefuses('order_not_matched');
      });

      it('allows a fresh confirm after the settlement was reverted (release never happened)', () => {
        given(...s.settling(), settlementReverted()).when(confirmSettlement(s.seller, s.secret)).then([{ type: 'SettlementClaimed' }]);
      });
    });
  }

  it('refuses a confirm by the sell order\'s maker before it is matched (order_not_matched)', () => {
    given(...SELL.open()).when(confirmSettlement(MAKER, MAKER_SECRET)).thenRefuses('order_not_matched');
  });

  it('refuses a confirm of a sell order whose escrow is not locked yet', () => {
    given(placedSell()).when(confirmSettlement(MAKER, MAKER_SECRET)).thenRefuses('order_not_matched');
  });

  it('accepts a confirm by the buy order\'s maker: the maker of a buy is the buyer', () => {
    given(...BUY.matched()).when(confirmSettlement(MAKER, TAKER_SECRET)).then([{ type: 'SettlementClaimed' }]);
  });

  it('accepts a confirm by the sell order\'s taker: the taker of a sell is the buyer', () => {
    given(...SELL.matched()).when(confirmSettlement(TAKER, MAKER_SECRET)).then([{ type: 'SettlementClaimed' }]);
  });

  it('refuses the buy order\'s maker before a taker exists (order_not_matched): the buyer, but nothing to settle', () => {
    given(...BUY.open()).when(confirmSettlement(MAKER, TAKER_SECRET)).thenRefuses('order_not_matched');
  });

  it('refuses the sell order\'s would-be taker before any match (not_party)', () => {
    given(...SELL.open()).when(confirmSettlement(TAKER, MAKER_SECRET)).thenRefuses('not_party');
  });

  it('refuses a confirm on a buy order whose taker is still locking escrow (order_not_matched)', () => {
    given(...BUY.open(), matchedBuy()).when(confirmSettlement(TAKER, TAKER_SECRET)).thenRefuses('order_not_matched');
  });

  it('refuses the aborted taker of a buy order: it is no longer the seller', () => {
    given(...BUY.open(), matchedBuy(), escrowLockFailed('taker'), matchAborted())
      .when(confirmSettlement(TAKER, TAKER_SECRET))
      .thenRefuses('not_party');
  });

  it('refuses a confirm of an unknown order', () => {
    given().when(confirmSettlement(MAKER, MAKER_SECRET)).thenRefuses('order_not_found');
  });

  it('checks quote_tx before anything else: an empty quote_tx from a stranger is quote_tx_required', () => {
    given(...SELL.matched()).when(confirmSettlement(STRANGER, WRONG_SECRET, { quoteTx: '' })).thenRefuses('quote_tx_required');
  });

  it('checks the party before the status: a stranger on a settling order is not_party', () => {
    given(...SELL.settling()).when(confirmSettlement(STRANGER, MAKER_SECRET)).thenRefuses('not_party');
  });
});

describe('preimageMatches', () => {
  it('matches the sha256 of the preimage bytes, not of its hex text', () => {
    expect(preimageMatches(MAKER_SECRET, SELL.htlcHash)).toBe(true);
    expect(preimageMatches(MAKER_SECRET, BUY.htlcHash)).toBe(false);
  });

  it('accepts an htlc_hash written in upper-case hex', () => {
    expect(preimageMatches(MAKER_SECRET, SELL.htlcHash.toUpperCase())).toBe(true);
  });

  it('never matches without an htlc_hash or with a malformed one', () => {
    expect(preimageMatches(MAKER_SECRET, null)).toBe(false);
    expect(preimageMatches(MAKER_SECRET, 'zz')).toBe(false);
    expect(preimageMatches(MAKER_SECRET, SELL.htlcHash.slice(0, 62))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { facts, given } from '../support/orderFixtures.js';
import {
  confirmSettlement,
  expireOrder,
  LATER,
  MATCHED_AT,
  matchOrder,
  orderExpired,
  SCENARIOS,
  SELL,
  SETTLE_BY,
  STRANGER,
  at,
  escrowLocked,
  placedSell,
  recoveryRequired,
  settlementClaimed,
  TAKER,
  WRONG_SECRET,
  CIPHERTEXT,
} from '../support/orderBuilders.js';
import {
  CHAIN_ID, chainConfirm, chainMatched, claimObserved, fact, GUARD, LOCK_BY, LOCK_TIME, LOCK_WINDOW_SECONDS, lockObserved, lockRejected,
  observeClaim, observeLock, observeRefund, quoteLeg, refundObserved, sec, T,
} from '../support/quoteLegBuilders.js';

/**
 * The quote leg on its chain, in the decider (quote-chain.md): observations are commands carrying
 * chain facts (block time included), idempotent by observation key; chain time decides confirms
 * near the timelock and every refund of a locked order.
 */

describe('MatchOrder with a chain-verified quote leg', () => {
  it('records the chain and lock_by = matched_at + lock window in Matched', () => {
    given(placedSell(), escrowLocked('maker'))
      .when(matchOrder('sell', { now: MATCHED_AT, quoteLeg: { mode: 'sandbox', chainId: CHAIN_ID, lockWindowSeconds: LOCK_WINDOW_SECONDS } }))
      .then([{ type: 'Matched', data: { quote_leg: quoteLeg } }]);
  });

  it('counts lock_by from chain time at the match when the command carries it, whatever the ledger\'s clock says', () => {
    const chainNow = sec(MATCHED_AT) - 3n * 3600n;
    given(placedSell(), escrowLocked('maker'))
      .when(matchOrder('sell', { now: MATCHED_AT, quoteLeg: { mode: 'sandbox', chainId: CHAIN_ID, lockWindowSeconds: LOCK_WINDOW_SECONDS, chainNowSeconds: chainNow } }))
      .then([{ type: 'Matched', data: { matched_at: MATCHED_AT.toISOString(), quote_leg: { ...quoteLeg, lock_by: new Date(Number(chainNow + BigInt(LOCK_WINDOW_SECONDS)) * 1000).toISOString() } } }]);
  });

  it('refuses a chain-verified match without the taker\'s quote address (eth_address_required)', () => {
    given(placedSell(), escrowLocked('maker'))
      .when(matchOrder('sell', { takerEthAddress: null, quoteLeg: { mode: 'sandbox', chainId: CHAIN_ID, lockWindowSeconds: LOCK_WINDOW_SECONDS } }))
      .thenRefuses('eth_address_required');
  });

  it('refuses a chain-verified match of an order placed without the maker\'s quote address (eth_address_required)', () => {
    given(placedSell({ maker_eth_address: null }), escrowLocked('maker'))
      .when(matchOrder('sell', { quoteLeg: { mode: 'sandbox', chainId: CHAIN_ID, lockWindowSeconds: LOCK_WINDOW_SECONDS } }))
      .thenRefuses('eth_address_required');
  });

  it('records no quote leg in manual mode (the event is as before)', () => {
    const [event] = given(placedSell(), escrowLocked('maker')).when(matchOrder('sell', { now: MATCHED_AT })).events();
    expect(event?.data).not.toHaveProperty('quote_leg');
  });
});

for (const s of SCENARIOS) {
  const history = () => chainMatched(s.side);
  describe(`the quote leg of a ${s.side} order`, () => {
    describe('ObserveQuoteLock', () => {
      it('records the first valid lock as the quote lock', () => {
        given(...history()).when(observeLock(fact(1))).thenExactly([lockObserved(fact(1))]);
      });

      it('records a lock that does not fit as rejected, with its reason, and the order still awaits a valid lock', () => {
        const g = given(...history()).when(observeLock(fact(1), 'wrong_hashlock'));
        g.thenExactly([lockRejected(fact(1))]);
        const state = g.thenState();
        expect(state.status).toBe('matched');
        expect(state.status !== 'none' && state.quoteLeg?.lock).toBeNull();
      });

      it('records a second valid lock as rejected (duplicate_lock): the first one counts', () => {
        given(...history(), lockObserved(fact(1))).when(observeLock(fact(2))).then([{ type: 'QuoteLockRejected', data: { reason: 'duplicate_lock' } }]);
      });

      it('decides nothing for a lock already recorded (same observation key)', () => {
        given(...history(), lockObserved(fact(1))).when(observeLock(fact(1))).thenNothing();
        given(...history(), lockRejected(fact(1))).when(observeLock(fact(1), 'wrong_hashlock')).thenNothing();
      });

      it('decides nothing for a manual-mode order', () => {
        given(...s.matched()).when(observeLock(fact(1))).thenNothing();
      });
    });

    describe('ObserveQuoteClaim', () => {
      it('makes release to the buyer due with no confirm: the order is settling, the claim tx its quote_tx', () => {
        const g = given(...history(), lockObserved(fact(1))).when(observeClaim(fact(2), s.secret));
        g.thenExactly([claimObserved(fact(2))]);
        const state = g.thenState();
        expect(state.status).toBe('settling');
        expect(facts(state).quoteTx).toBe(fact(2).txHash);
        expect(facts(state).secretCiphertext).toBe(CIPHERTEXT);
      });

      it('is a reveal whatever the swap: a claim of a rejected lock pays the buyer too', () => {
        const state = given(...history(), lockRejected(fact(1))).when(observeClaim(fact(2), s.secret)).thenState();
        expect(state.status).toBe('settling');
      });

      it('stops a refund not yet sent: an order expired at settle_by settles to the buyer instead', () => {
        const state = given(...history(), orderExpired('settle_by')).when(observeClaim(fact(2), s.secret)).thenState();
        expect(state.status).toBe('settling');
      });

      it('refuses a preimage that does not hash to htlc_hash (secret_mismatch)', () => {
        given(...history()).when(observeClaim(fact(2), WRONG_SECRET)).thenRefuses('secret_mismatch');
      });

      it('decides nothing for a repeat, or once settlement is already claimed by a confirm', () => {
        given(...history(), claimObserved(fact(2))).when(observeClaim(fact(2), s.secret)).thenNothing();
        const state = given(...history(), settlementClaimed()).when(observeClaim(fact(2), s.secret)).thenState();
        expect(state.status).toBe('settling');
        expect(facts(state).quoteTx).not.toBe(fact(2).txHash);
      });

      it('keeps the claim on an order parked in recovery, so a re-drive never refunds it', () => {
        const state = given(...history(), recoveryRequired('escrow_job_cancelled', 'x')).when(observeClaim(fact(2), s.secret)).thenState();
        expect(state.status === 'settlement_recovery' && state.parked.quoteLeg?.claim?.txHash).toBe(fact(2).txHash);
      });
    });

    describe('ObserveQuoteRefund', () => {
      it('records the refund of a swap with the hashlock', () => {
        given(...history(), lockObserved(fact(1))).when(observeRefund(fact(3))).thenExactly([refundObserved(fact(3))]);
      });

      it('decides nothing for a repeat', () => {
        given(...history(), lockObserved(fact(1)), refundObserved(fact(3))).when(observeRefund(fact(3))).thenNothing();
      });
    });

    describe('ConfirmSettlement on the chain', () => {
      it('refuses the seller\'s confirm before a verified lock (quote_lock_missing)', () => {
        given(...history()).when(confirmSettlement(s.seller, s.secret, chainConfirm(LOCK_TIME))).thenRefuses('quote_lock_missing');
        given(...history(), lockRejected(fact(1))).when(confirmSettlement(s.seller, s.secret, chainConfirm(LOCK_TIME))).thenRefuses('quote_lock_missing');
      });

      it('accepts the seller\'s fast-path confirm after a verified lock, before T - claim guard', () => {
        given(...history(), lockObserved(fact(1))).when(confirmSettlement(s.seller, s.secret, chainConfirm(T - GUARD - 1n))).then([{ type: 'SettlementClaimed' }]);
      });

      it('accepts the buyer\'s confirm with no lock: the buyer read the preimage on chain', () => {
        given(...history()).when(confirmSettlement(s.buyer, s.secret, chainConfirm(LOCK_TIME))).then([{ type: 'SettlementClaimed' }]);
      });

      it('refuses any confirm from T - claim guard on with no claim seen (claim_window_closing)', () => {
        given(...history(), lockObserved(fact(1))).when(confirmSettlement(s.seller, s.secret, chainConfirm(T - GUARD))).thenRefuses('claim_window_closing');
        given(...history(), lockObserved(fact(1))).when(confirmSettlement(s.buyer, s.secret, chainConfirm(T))).thenRefuses('claim_window_closing');
      });

      it('still refuses a stranger first (not_party)', () => {
        given(...history(), lockObserved(fact(1))).when(confirmSettlement(STRANGER, s.secret, chainConfirm(LOCK_TIME))).thenRefuses('not_party');
      });
    });

    describe('ExpireOrder on chain time', () => {
      const lapsedBy = { finalizedTimeSeconds: sec(LOCK_BY) + 1n };
      it('never refunds a locked order on the wall clock: settle_by passed, no chain answer, nothing', () => {
        given(...history(), lockObserved(fact(1))).when(expireOrder(at(SETTLE_BY, 86_400))).thenNothing();
      });

      it('refunds once the finalized chain proves no live swap can be claimed (refund_allowed)', () => {
        given(...history(), lockObserved(fact(1)))
          .when({ ...expireOrder(LATER), quoteChain: { decision: 'refund_allowed', finalizedTimeSeconds: T } })
          .then([{ type: 'OrderExpired' }]);
      });

      it('waits while a swap may still be claimed (wait), and never refunds after a claim (claimed)', () => {
        given(...history(), lockObserved(fact(1))).when({ ...expireOrder(LATER), quoteChain: { decision: 'wait', finalizedTimeSeconds: T - 1n } }).thenNothing();
        given(...history(), lockObserved(fact(1))).when({ ...expireOrder(LATER), quoteChain: { decision: 'claimed', finalizedTimeSeconds: T } }).thenNothing();
      });

      it('lapses a match with no swap at all once the finalized block is past lock_by, and not before', () => {
        given(...history()).when({ ...expireOrder(LATER), quoteChain: { decision: 'no_swap', ...lapsedBy } }).then([{ type: 'MatchLapsed' }]);
        given(...history()).when({ ...expireOrder(LATER), quoteChain: { decision: 'no_swap', finalizedTimeSeconds: sec(LOCK_BY) } }).thenNothing();
      });

      it('never refunds once the preimage was observed on chain (invariant 9)', () => {
        given(...history(), recoveryRequired('escrow_job_cancelled', 'x'), claimObserved(fact(2)))
          .when({ ...expireOrder(at(SETTLE_BY, 86_400)), quoteChain: { decision: 'refund_allowed', finalizedTimeSeconds: T } })
          .thenNothing();
      });
    });
  });
}

it('the attack of issue 11, refused: the seller claims on chain and never confirms; past settle_by the order settles to the buyer', () => {
  const history = [...chainMatched('sell'), lockObserved(fact(1)), claimObserved(fact(2))];
  const state = given(...history).state;
  expect(state.status).toBe('settling');
  given(...history).when(expireOrder(at(SETTLE_BY, 86_400))).thenNothing();
  expect(SELL.buyer).toBe(TAKER);
});

import { describe, expect, it } from 'vitest';
import type { RecordQuoteReorg } from '../../src/aggregates/order/index.js';
import { evolve } from '../../src/aggregates/order/index.js';
import type { ChainFact } from '../../src/aggregates/order/index.js';
import { facts, given } from '../support/orderFixtures.js';
import { confirmSettlement, escrowReleased, payoutConfirmed, payoutQueued, SCENARIOS, settlementClaimed } from '../support/orderBuilders.js';
import {
  chainConfirm, chainMatched, fact, observationReorged, GUARD, lockObserved, lockRejected, observeClaim, observeLock, refundObserved, T,
} from '../support/quoteLegBuilders.js';

/**
 * A recorded observation whose log a reorganisation removed (RecordQuoteReorg): a lock, rejected
 * lock or refund is forgotten, a claim is kept (its preimage was public once), a repeat is a no-op,
 * and what the ledger already acted on irrevocably is refused (quote_observation_acted_on).
 */
const reorg = (f: ChainFact, observation: RecordQuoteReorg['observation'] = 'lock'): RecordQuoteReorg => ({
  type: 'RecordQuoteReorg', observation, key: f.key, swapId: f.swapId, txHash: f.txHash, blockNumber: f.blockNumber,
});
const reorged = observationReorged;

for (const s of SCENARIOS) {
  const history = () => chainMatched(s.side);
  describe(`RecordQuoteReorg on a ${s.side} order`, () => {
    it('forgets a verified lock: the order awaits a valid lock again and the seller\'s confirm is refused (quote_lock_missing)', () => {
      const after = given(...history(), lockObserved(fact(1))).when(reorg(fact(1)));
      expect(after.events()).toEqual([reorged(fact(1), 'lock')]);
      const state = after.thenState();
      expect(facts(state).status).toBe('matched');
      expect(state.status !== 'none' && state.quoteLeg?.lock).toBeNull();
      const events = [...history(), lockObserved(fact(1)), reorged(fact(1), 'lock')];
      given(...events).when(confirmSettlement(s.seller, s.secret, chainConfirm(T - GUARD - 1n))).thenRefuses('quote_lock_missing');
    });

    it('observes a lock made again afresh as the quote lock, the same log re-included included', () => {
      const events = [...history(), lockObserved(fact(1)), reorged(fact(1), 'lock')];
      given(...events).when(observeLock(fact(2))).thenExactly([lockObserved(fact(2))]);
      given(...events).when(observeLock(fact(1))).thenExactly([lockObserved(fact(1))]);
    });

    it('is a no-op for a key already forgotten or never recorded', () => {
      given(...history(), lockObserved(fact(1)), reorged(fact(1), 'lock')).when(reorg(fact(1))).thenNothing();
      given(...history(), lockObserved(fact(1))).when(reorg(fact(7))).thenNothing();
    });

    it('removes a rejected lock that vanished from the rejected list, and keeps the quote lock', () => {
      const state = given(...history(), lockObserved(fact(1)), lockRejected(fact(2), 'duplicate_lock')).when(reorg(fact(2))).thenState();
      expect(state.status !== 'none' && state.quoteLeg).toMatchObject({ rejected: [], lock: { txHash: fact(1).txHash } });
    });

    it('forgets a refund that vanished', () => {
      const state = given(...history(), lockObserved(fact(1)), refundObserved(fact(3))).when(reorg(fact(3), 'refund')).thenState();
      expect(state.status !== 'none' && state.quoteLeg?.refunds).toEqual([]);
    });

    it('records a claim that vanished but keeps it: the order still settles to the buyer (invariant 9)', () => {
      const claimed = given(...history(), lockObserved(fact(1))).when(observeClaim(fact(2), s.secret)).events();
      const g = given(...history(), lockObserved(fact(1)), ...claimed).when(reorg(fact(2), 'claim'));
      expect(g.events()).toEqual([reorged(fact(2), 'claim')]);
      const state = g.thenState();
      expect(state.status).toBe('settling');
      expect(state.status !== 'none' && state.quoteLeg?.claim).not.toBeNull();
    });

    it('refuses to forget the lock a confirm settled on (quote_observation_acted_on), and any observation of an order that is over', () => {
      given(...history(), lockObserved(fact(1)), settlementClaimed()).when(reorg(fact(1))).thenRefuses('quote_observation_acted_on');
      const completed = [...history(), lockObserved(fact(1)), settlementClaimed(), escrowReleased(s.sellerParty), payoutQueued(s.buyer), payoutConfirmed()];
      given(...completed).when(reorg(fact(1))).thenRefuses('quote_observation_acted_on');
    });

    it('a QuoteObservationReorged of a key never recorded does not fold (EventDoesNotApply)', () => {
      const state = given(...history()).state;
      expect(() => evolve(state, reorged(fact(1), 'lock'))).toThrow(/QuoteObservationReorged/);
    });
  });
}

describe('RecordQuoteReorg refusals', () => {
  it('refuses an order that does not exist (order_not_found)', () => {
    given().when(reorg(fact(1))).thenRefuses('order_not_found');
  });
  it('names the kind from the order: a lock delivered but recorded rejected is a rejected_lock', () => {
    given(...chainMatched('sell'), lockRejected(fact(2))).when(reorg(fact(2))).thenExactly([reorged(fact(2), 'rejected_lock')]);
  });
});

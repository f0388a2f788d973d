import type * as C from './commands.js';
import { refuse } from './errors.js';
import type { OrderEvent, ReorgedKind } from './events.js';
import { isTerminal, type PlacedOrder, type QuoteLeg } from './state.js';

/**
 * An observation whose log a reorganisation took off the canonical chain (quote-chain.md, "After a
 * reorganisation"). A repeat, or a key the order never recorded, decides []. What the ledger already
 * acted on irrevocably is refused (`quote_observation_acted_on`, which the follower raises as an
 * alert): the order is over, or its verified lock carried a settlement (a confirm or a claim, so the
 * preimage is known and the RTC is the buyer's, invariant 9). A claim that vanished is recorded and
 * kept, for the same reason; a lock, rejected lock or refund that vanished is forgotten.
 */
export function recordQuoteReorg(c: C.RecordQuoteReorg, state: PlacedOrder): OrderEvent[] {
  const leg = state.quoteLeg;
  if (leg === null || !leg.observed.includes(c.key)) return [];
  if (isTerminal(state.status)) refuse('quote_observation_acted_on', `the order is ${state.status}: the reorganised observation stays`, state.status);
  const kind = kindOf(c, leg);
  if (kind === 'lock' && settlementStarted(state)) {
    refuse('quote_observation_acted_on', `the order is ${state.status} under this lock: the reorganised lock stays`, state.status);
  }
  return [{
    type: 'QuoteObservationReorged',
    data: { key: c.key, swap_id: c.swapId, tx_hash: c.txHash, block_number: c.blockNumber.toString(), kind },
  }];
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** A lock delivered is the order's quote lock when it is the one recorded as such; otherwise it was recorded rejected. */
function kindOf(c: C.RecordQuoteReorg, leg: QuoteLeg): ReorgedKind {
  if (c.observation !== 'lock') return c.observation;
  const isQuoteLock = leg.lock !== null && same(leg.lock.txHash, c.txHash) && same(leg.lock.swapId, c.swapId);
  return isQuoteLock ? 'lock' : 'rejected_lock';
}

/** A confirm (kept even when reverted) or a claim made the preimage known: the settlement goes on whatever the lock does. */
function settlementStarted(state: PlacedOrder): boolean {
  if (state.status === 'matched') return state.claim !== null || state.quoteLeg?.claim != null;
  return state.status === 'settling' || state.status === 'payout_pending' || state.status === 'settlement_recovery';
}

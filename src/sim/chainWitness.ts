/**
 * What the simulated chain proves about an order's quote leg, for the checks (invariants 9 and 10's
 * chain half): the whole canonical chain is read, not the ledger's view of it, so a refund the
 * ledger decides on a stale or lagging read is caught.
 */
import type { ChainWitness } from './checks.js';
import type { SimChain } from './simChain.js';

const bare = (hex: string): string => hex.replace(/^0x/, '').toLowerCase();

export function chainWitness(chain: SimChain): ChainWitness {
  return {
    refundForbidden(hashlock, sellerQuoteAddress) {
      const mine = chain.allSwaps().filter((s) => bare(s.terms.hashlock) === bare(hashlock));
      const claimed = mine.find((s) => s.claimed);
      if (claimed) return `swap ${claimed.swapId} under its hashlock was claimed on the chain (the preimage is public)`;
      const finalTime = chain.finalTimeSeconds();
      // Only a final swap is the chain's proof: one in a newer block is not yet knowable.
      const live = mine.find((s) => s.createdAt <= chain.finalNumber() && !s.refunded && bare(s.terms.seller) === bare(sellerQuoteAddress) && s.terms.timelock > finalTime);
      return live ? `swap ${live.swapId} can still be claimed (T ${live.terms.timelock} > finalized time ${finalTime})` : null;
    },
  };
}

import type { OrderState } from '../aggregates/order/index.js';

/**
 * The quote leg as the simulator sees it. Until the quote chain is wired into orders the ledger
 * takes a confirmation's quote_tx on the seller's word, so the simulator's quote leg only names a
 * transaction. This is the extension point for a simulated chain (src/sandbox/chain.ts, with late,
 * out-of-range and reorganised logs injected by the same seed): `lockFor` would lock the buyer's
 * quote on it, and `step` would let the chain follower observe it between steps.
 */
export interface SimQuoteChain {
  /** The quote transaction a seller confirms with for this order. */
  lockFor(orderId: string, state: OrderState): Promise<string>;
}

export const noQuoteChain: SimQuoteChain = {
  lockFor: async (orderId) => `0xsim${orderId.slice(4)}`,
};

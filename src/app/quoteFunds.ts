/**
 * Griefing on the quote leg (quote-chain.md): a taker who cannot pay would hold a seller's order
 * off the book for the whole lock window. At match, in a chain-verified mode, the buyer's quote
 * address must hold the order's amount in the pair's asset at the finalized block: the token's
 * balance, or the ETH balance. A read that gets no answer is `503 quote_chain_unavailable`, never a
 * guess either way.
 */
import type { Address } from 'viem';
import { refuse, takerOf, type PlacedOrder } from '../aggregates/order/index.js';
import { quoteBaseUnits } from '../chain/verifyLock.js';
import type { ChainOutcome } from '../gateways/quoteChain.js';
import { chainAssetFor, type QuoteLegDeps } from './quoteLeg.js';

/** The buyer's balance of `token` (the zero address: ETH) at the finalized block, in base units. */
export type BuyerFundsRead = (address: Address, token: Address) => Promise<ChainOutcome<bigint>>;

/** The buyer's quote address of an order about to be matched: the taker's for a sell order, the maker's for a buy order. */
function buyerQuoteAddress(state: PlacedOrder, takerEthAddress: string | null): string | null {
  return state.side === 'sell' ? takerEthAddress : state.makerEthAddress;
}

export async function checkBuyerFunds(deps: QuoteLegDeps | null | undefined, state: PlacedOrder, takerEthAddress: string | null): Promise<void> {
  const asset = chainAssetFor(deps, state.pair);
  const read = deps?.buyerFunds;
  const address = buyerQuoteAddress(state, takerEthAddress);
  // Manual mode, or no address (the decider refuses that with eth_address_required).
  if (asset === null || read === undefined || address === null || takerOf(state) !== null) return;
  const required = quoteBaseUnits(state.totalQuoteNano, asset.asset);
  const balance = await read(address as Address, asset.token);
  if (balance.kind !== 'ok') refuse('quote_chain_unavailable', 'the quote chain did not answer the buyer\'s balance; try the match again shortly');
  if (balance.value < required) {
    refuse('quote_funds_missing', `the buyer's quote address holds less than the ${required.toString()} base units this order needs, at the finalized block`);
  }
}

/** The read over the port: the finalized block, then the balance at exactly that block. */
export function buyerFundsFrom(chain: {
  finalizedBlock(): Promise<ChainOutcome<{ number: bigint }>>;
  ethBalance(address: Address, blockNumber: bigint): Promise<ChainOutcome<bigint>>;
  tokenBalance(token: Address, address: Address, blockNumber: bigint): Promise<ChainOutcome<bigint>>;
}): BuyerFundsRead {
  return async (address, token) => {
    const finalized = await chain.finalizedBlock();
    if (finalized.kind !== 'ok') return finalized;
    const at = finalized.value.number;
    return /^0x0{40}$/i.test(token) ? chain.ethBalance(address, at) : chain.tokenBalance(token, address, at);
  };
}

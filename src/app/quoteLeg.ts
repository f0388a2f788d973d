/**
 * The quote leg as the use cases see it (quote-chain.md): which pairs are read on a chain, the
 * windows, and the chain time the follower last reported. Null in LedgerDeps = manual mode.
 */
import type { Address } from 'viem';
import type { Pair } from '../aggregates/order/index.js';

export interface QuoteLegDeps {
  readonly mode: 'sandbox' | 'evm';
  readonly chainId: number;
  readonly htlcAddress: Address;
  /** The pair's token on the chain; null when the operator left the pair unconfigured (manual). */
  readonly usdcToken: Address | null;
  readonly lockWindowSeconds: number;
  readonly claimWindowMaxSeconds: number;
  readonly claimGuardSeconds: number;
  /** The time of the last finalized block the follower processed (Unix seconds); null before the first. */
  finalizedTimeSeconds(): bigint | null;
}

const ETH: Address = '0x0000000000000000000000000000000000000000';

/** The pair's asset and token on the chain, or null when its quote leg is manual (RTC/ERG, an unconfigured token). */
export function chainAssetFor(deps: QuoteLegDeps | null | undefined, pair: Pair): { asset: 'usdc' | 'eth'; token: Address } | null {
  if (!deps) return null;
  if (pair === 'RTC/ETH') return { asset: 'eth', token: ETH };
  if (pair === 'RTC/USDC' && deps.usdcToken !== null) return { asset: 'usdc', token: deps.usdcToken };
  return null;
}

/** What a match of this pair records about its quote leg. */
export function matchQuoteLeg(deps: QuoteLegDeps | null | undefined, pair: Pair) {
  if (!deps || chainAssetFor(deps, pair) === null) return null;
  return { mode: deps.mode, chainId: deps.chainId, lockWindowSeconds: deps.lockWindowSeconds };
}

/** Chain time for a confirm; null in manual mode. */
export function confirmQuoteChain(deps: QuoteLegDeps | null | undefined) {
  if (!deps) return null;
  return { finalizedTimeSeconds: deps.finalizedTimeSeconds(), claimGuardSeconds: BigInt(deps.claimGuardSeconds) };
}

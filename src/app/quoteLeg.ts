/**
 * The quote leg as the use cases see it (quote-chain.md): which pairs are read on a chain, the
 * windows, and the chain time the follower last reported. Null in LedgerDeps = manual mode.
 */
import type { Address } from 'viem';
import { takerOf, type Pair, type PlacedOrder } from '../aggregates/order/index.js';
import { MIN_TIMELOCK_SECONDS } from '../chain/lockTerms.js';
import { quoteBaseUnits } from '../chain/verifyLock.js';
import type { QuoteLegResource } from '../views/orderResource.js';

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

const isoOf = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString();
const MANUAL = {
  mode: 'manual' as const, chain_id: null, contract: null, token: null, amount_base_units: null, lock_by: null, timelock_min: null, timelock_max: null,
  status: null, swap_id: null, lock_tx: null, claim_tx: null, refund_tx: null, rejected_locks: [],
};

/** A chain-verified match that ended (or went off the book) with no lock and no claim can only have lapsed. */
const lapsedLeg = (state: PlacedOrder): boolean => ['lapsed', 'refund_pending', 'expired', 'cancelled'].includes(state.status);

/** The order resource's `quote_leg` (api.md): what the buyer must lock, and what the chain showed. */
export function quoteLegResource(deps: QuoteLegDeps | null | undefined, state: PlacedOrder): QuoteLegResource {
  const asset = chainAssetFor(deps, state.pair);
  if (!deps || asset === null) return MANUAL;
  const leg = state.quoteLeg;
  const taker = takerOf(state);
  // The window lockInstructions states: valid wherever in the lock window the lock lands.
  const lockBySeconds = leg === null ? null : BigInt(Math.floor(Date.parse(leg.lockBy) / 1000));
  const matchedAtSeconds = taker === null ? null : BigInt(Math.floor(Date.parse(taker.matchedAt) / 1000));
  const timelockMin = lockBySeconds === null ? null : lockBySeconds + MIN_TIMELOCK_SECONDS;
  const timelockMax = matchedAtSeconds === null || leg === null ? null : matchedAtSeconds + BigInt(deps.claimWindowMaxSeconds);
  const refund = leg?.lock ? leg.refunds.find((r) => r.swapId === leg.lock?.swapId) ?? null : null;
  const status = leg === null ? null : leg.claim ? 'claimed' : refund ? 'refunded' : leg.lock ? 'locked' : state.status === 'matched' ? 'awaiting_lock' : lapsedLeg(state) ? 'lapsed' : null;
  return {
    mode: deps.mode, chain_id: deps.chainId, contract: deps.htlcAddress, token: asset.token,
    amount_base_units: quoteBaseUnits(state.totalQuoteNano, asset.asset).toString(),
    lock_by: leg?.lockBy ?? null,
    timelock_min: timelockMin === null ? null : isoOf(timelockMin), timelock_max: timelockMax === null ? null : isoOf(timelockMax),
    status, swap_id: leg?.lock?.swapId ?? null, lock_tx: leg?.lock?.txHash ?? null, claim_tx: leg?.claim?.txHash ?? null, refund_tx: refund?.txHash ?? null,
    rejected_locks: (leg?.rejected ?? []).map((r) => ({ swap_id: r.swapId, tx_hash: r.txHash, reason: r.reason, timelock: isoOf(r.timelockSeconds) })),
  };
}

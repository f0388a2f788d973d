/**
 * The quote leg as the use cases see it (quote-chain.md): which pairs are read on a chain, the
 * windows, and the chain time the follower last reported. Null in LedgerDeps = manual mode.
 */
import type { Address } from 'viem';
import { heldEscrow, takerOf, type OrderState, type Pair, type PlacedOrder } from '../aggregates/order/index.js';
import { MIN_TIMELOCK_SECONDS } from '../chain/lockTerms.js';
import { quoteBaseUnits } from '../chain/verifyLock.js';
import type { QuoteLegResource } from '../views/orderResource.js';
import type { BuyerFundsRead } from './quoteFunds.js';
import { quoteLegFactsOf, type QuoteLegFacts } from '../views/quoteLegFacts.js';

export interface QuoteLegDeps {
  readonly mode: 'sandbox' | 'evm';
  readonly chainId: number;
  readonly htlcAddress: Address;
  /** The pair's token on the chain; null when the operator left the pair unconfigured (manual). */
  readonly usdcToken: Address | null;
  readonly lockWindowSeconds: number;
  readonly claimWindowMaxSeconds: number;
  readonly claimGuardSeconds: number;
  /** The escrow job must outlive every accepted T by this much (LEDGER_ESCROW_RELEASE_SLACK_SECONDS); absent = 0. */
  readonly escrowReleaseSlackSeconds?: number;
  /** The buyer's balance at the finalized block (quoteFunds.ts); absent = not checked at match. */
  readonly buyerFunds?: BuyerFundsRead;
  /** The time of the last finalized block the follower processed (Unix seconds); null before the first. */
  finalizedTimeSeconds(): bigint | null;
  /**
   * Chain time now (Unix seconds): the ledger's clock corrected by the drift last measured against a
   * fresh chain head. lock_by is set on it at match, since chain time judges the lock. Absent: the
   * ledger's clock.
   */
  chainNowSeconds?(): bigint;
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
  return { mode: deps.mode, chainId: deps.chainId, lockWindowSeconds: deps.lockWindowSeconds, chainNowSeconds: deps.chainNowSeconds?.() ?? null };
}

/** Chain time for a confirm; null in manual mode. */
export function confirmQuoteChain(deps: QuoteLegDeps | null | undefined) {
  if (!deps) return null;
  return { finalizedTimeSeconds: deps.finalizedTimeSeconds(), claimGuardSeconds: BigInt(deps.claimGuardSeconds) };
}

/**
 * The latest T a lock may have: the held escrow job's expiry at the node less the release slack
 * (quote-chain.md, windows); null before the hold is recorded or when the node gave no expiry.
 */
export function latestTimelockSecondsOf(deps: Pick<QuoteLegDeps, 'escrowReleaseSlackSeconds'>, state: OrderState): bigint | null {
  return latestTimelockSecondsFrom(deps, heldEscrow(state)?.hold?.expiresAt ?? null);
}

function latestTimelockSecondsFrom(deps: Pick<QuoteLegDeps, 'escrowReleaseSlackSeconds'>, expiresAt: string | null): bigint | null {
  if (expiresAt === null) return null;
  return BigInt(Math.floor(Date.parse(expiresAt) / 1000)) - BigInt(deps.escrowReleaseSlackSeconds ?? 0);
}

const isoOf = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString();
const MANUAL = {
  mode: 'manual' as const, chain_id: null, contract: null, token: null, amount_base_units: null, lock_by: null, timelock_min: null, timelock_max: null,
  status: null, swap_id: null, lock_tx: null, claim_tx: null, refund_tx: null, rejected_locks: [],
};

/** What of the order itself the quote-leg resource needs: from its state, or from a stored row. */
export interface QuoteLegOrder {
  readonly pair: Pair;
  readonly status: string;
  readonly totalQuoteNano: bigint;
  readonly matchedAt: string | null;
}

/** A chain-verified match that ended (or went off the book) with no lock and no claim can only have lapsed. */
const lapsedLeg = (status: string): boolean => ['lapsed', 'refund_pending', 'expired', 'cancelled'].includes(status);

/** The order resource's `quote_leg` (api.md): what the buyer must lock, and what the chain showed. */
export function quoteLegResource(deps: QuoteLegDeps | null | undefined, state: PlacedOrder): QuoteLegResource {
  const order = { pair: state.pair, status: state.status, totalQuoteNano: state.totalQuoteNano, matchedAt: takerOf(state)?.matchedAt ?? null };
  return quoteLegResourceOf(deps, order, quoteLegFactsOf(state));
}

/** The same `quote_leg` from the narrow facts a read model stores: listings show what the resource shows. */
export function quoteLegResourceOf(deps: QuoteLegDeps | null | undefined, order: QuoteLegOrder, leg: QuoteLegFacts | null): QuoteLegResource {
  const asset = chainAssetFor(deps, order.pair);
  if (!deps || asset === null) return MANUAL;
  // The window lockInstructions states: valid wherever in the lock window the lock lands.
  const lockBySeconds = leg === null ? null : BigInt(Math.floor(Date.parse(leg.lockBy) / 1000));
  // The match in chain time (lock_by less the lock window): a lock lands no earlier, so T at most the claim window after it is valid.
  const matchedOnChainSeconds = lockBySeconds === null || order.matchedAt === null ? null : lockBySeconds - BigInt(deps.lockWindowSeconds);
  const timelockMin = lockBySeconds === null ? null : lockBySeconds + MIN_TIMELOCK_SECONDS;
  const claimMax = matchedOnChainSeconds === null ? null : matchedOnChainSeconds + BigInt(deps.claimWindowMaxSeconds);
  const latest = latestTimelockSecondsFrom(deps, leg?.escrowExpiresAt ?? null);
  const timelockMax = claimMax !== null && latest !== null && latest < claimMax ? latest : claimMax;
  const status = leg === null ? null : leg.claimTx ? 'claimed' : leg.refundTx ? 'refunded' : leg.swapId ? 'locked' : order.status === 'matched' ? 'awaiting_lock' : lapsedLeg(order.status) ? 'lapsed' : null;
  // No lock instructions until the ledger's worker holds the escrow job: a buyer who locked
  // before that could be left facing a seller who cancelled the job at the node (custody.ts).
  if (leg?.custodyPending === true) return { ...MANUAL, mode: deps.mode, chain_id: deps.chainId, status: 'awaiting_custody' };
  return {
    mode: deps.mode, chain_id: deps.chainId, contract: deps.htlcAddress, token: asset.token,
    amount_base_units: quoteBaseUnits(order.totalQuoteNano, asset.asset).toString(),
    lock_by: leg?.lockBy ?? null,
    timelock_min: timelockMin === null ? null : isoOf(timelockMin), timelock_max: timelockMax === null ? null : isoOf(timelockMax),
    status, swap_id: leg?.swapId ?? null, lock_tx: leg?.lockTx ?? null, claim_tx: leg?.claimTx ?? null, refund_tx: leg?.refundTx ?? null,
    rejected_locks: (leg?.rejected ?? []).map((r) => ({ swap_id: r.swapId, tx_hash: r.txHash, reason: r.reason, timelock: isoOf(r.timelockSeconds) })),
  };
}

/**
 * What the buyer is told to lock (the order resource's `quote_leg`), and the terms the follower checks
 * a lock against, from one set of numbers so the two can never disagree.
 */
import type { Address } from 'viem';
import { quoteBaseUnits } from './verifyLock.js';
import type { ExpectedLock, QuoteAsset } from './verifyLock.js';

/** The contract's own lower bound on a timelock, from the lock's block. */
export const MIN_TIMELOCK_SECONDS = 3_600n;

export interface QuoteWindows {
  /** LEDGER_QUOTE_LOCK_WINDOW_SECONDS: matched → a valid lock must be in a block by then. */
  readonly lockWindowSeconds: bigint;
  /** LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS: the longest timelock, from the lock's block. */
  readonly claimWindowMaxSeconds: bigint;
}

export interface OrderQuoteTerms {
  readonly orderId: string;
  readonly htlcHash: string;
  readonly sellerQuoteAddress: Address;
  readonly buyerQuoteAddress: Address;
  readonly asset: QuoteAsset;
  /** The pair's token (the zero address for ETH). */
  readonly token: Address;
  readonly totalQuoteNano: bigint;
  /** Unix seconds. */
  readonly matchedAtSeconds: bigint;
  /** The escrow job's expiry at the node less the release slack, Unix seconds; null when not known. */
  readonly latestTimelockSeconds: bigint | null;
}

export interface LockInstructions {
  readonly chainId: number;
  readonly contract: Address;
  readonly token: Address;
  readonly amountBaseUnits: bigint;
  readonly lockBySeconds: bigint;
  /**
   * A timelock in [timelockMin, timelockMax] is valid wherever in the lock window the lock lands:
   * locked by `lock_by`, it is at least 1 h after the lock; locked after the match, at most the
   * claim window after it; and never past the escrow's limit.
   */
  readonly timelockMinSeconds: bigint;
  readonly timelockMaxSeconds: bigint;
}

export const lockBySeconds = (matchedAtSeconds: bigint, windows: QuoteWindows): bigint => matchedAtSeconds + windows.lockWindowSeconds;

export function lockInstructions(chain: { chainId: number; htlcAddress: Address }, order: OrderQuoteTerms, windows: QuoteWindows): LockInstructions {
  const lockBy = lockBySeconds(order.matchedAtSeconds, windows);
  const latest = order.matchedAtSeconds + windows.claimWindowMaxSeconds;
  return {
    chainId: chain.chainId,
    contract: chain.htlcAddress,
    token: order.token,
    amountBaseUnits: quoteBaseUnits(order.totalQuoteNano, order.asset),
    lockBySeconds: lockBy,
    timelockMinSeconds: lockBy + MIN_TIMELOCK_SECONDS,
    timelockMaxSeconds: order.latestTimelockSeconds !== null && order.latestTimelockSeconds < latest ? order.latestTimelockSeconds : latest,
  };
}

/** The follower's OrderDirectory answer for this order. */
export function expectedLock(chain: { htlcAddress: Address }, order: OrderQuoteTerms, windows: QuoteWindows): ExpectedLock {
  return {
    orderId: order.orderId,
    htlcHash: order.htlcHash,
    sellerQuoteAddress: order.sellerQuoteAddress,
    buyerQuoteAddress: order.buyerQuoteAddress,
    htlcAddress: chain.htlcAddress,
    asset: order.asset,
    token: order.token,
    totalQuoteNano: order.totalQuoteNano,
    lockBySeconds: lockBySeconds(order.matchedAtSeconds, windows),
    timelockMinSeconds: MIN_TIMELOCK_SECONDS,
    timelockMaxSeconds: windows.claimWindowMaxSeconds,
    latestTimelockSeconds: order.latestTimelockSeconds,
  };
}

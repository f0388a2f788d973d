/**
 * Lock verification (quote-chain.md, "Verifying a lock"): does this SwapCreated log count as the
 * order's quote lock? A pure function of the order's terms and what the chain said, so the decider and
 * the tests can call it with any facts; the follower gathers the facts. It answers a verified lock or
 * one stable reason code, checking in a fixed order so the same facts always give the same reason.
 */
import type { Address, Hash, Hex } from 'viem';
import type { SwapCreatedLog, SwapState, TransferLog } from '../gateways/quoteChain.js';

/** What the quote leg is paid in: ETH (wei, 18 decimals) or a 6-decimal token (USDC). */
export type QuoteAsset = 'eth' | 'usdc';

export const ETH_TOKEN: Address = '0x0000000000000000000000000000000000000000';
const WEI_PER_NANO = 1_000_000_000n;
const NANO_PER_USDC_UNIT = 1_000n;
export const USDC_DECIMALS = 6;

/**
 * The least the buyer must lock, in the asset's base units, for an order total in nano-quote
 * (1 quote unit = 10^9 nano): ETH wei = nano × 10^9; USDC base units (10^-6) = ceil(nano / 1000),
 * rounded up so the seller never receives less than the order's total.
 */
export function quoteBaseUnits(totalQuoteNano: bigint, asset: QuoteAsset): bigint {
  if (totalQuoteNano < 0n) throw new RangeError('totalQuoteNano must not be negative');
  if (asset === 'eth') return totalQuoteNano * WEI_PER_NANO;
  return (totalQuoteNano + NANO_PER_USDC_UNIT - 1n) / NANO_PER_USDC_UNIT;
}

/** True when the order's total is under one base unit of the asset (refused at placement). */
export const isUnderOneBaseUnit = (totalQuoteNano: bigint, asset: QuoteAsset): boolean =>
  asset === 'eth' ? totalQuoteNano < 1n : totalQuoteNano < NANO_PER_USDC_UNIT;

/** The order's side of the comparison. */
export interface ExpectedLock {
  readonly orderId: string;
  /** sha256 of the preimage, 64 hex digits with or without 0x. */
  readonly htlcHash: string;
  readonly sellerQuoteAddress: Address;
  readonly buyerQuoteAddress: Address;
  /** The configured HTLC contract: the log must come from it, and a token's Transfer must go to it. */
  readonly htlcAddress: Address;
  readonly asset: QuoteAsset;
  /** The pair's configured token; ETH_TOKEN for ETH. */
  readonly token: Address;
  readonly totalQuoteNano: bigint;
  /** Unix seconds: the lock's block must be at or before it. */
  readonly lockBySeconds: bigint;
  /** Shortest timelock from the lock's block (1 h). */
  readonly timelockMinSeconds: bigint;
  /** Longest timelock from the lock's block (LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS). */
  readonly timelockMaxSeconds: bigint;
  /** Escrow job expiry at the node less the release slack: T must not be later; null when not known. */
  readonly latestTimelockSeconds: bigint | null;
}

/** What the chain said about the lock. */
export interface LockFacts {
  readonly created: SwapCreatedLog;
  /** getSwap at the lock's own block. */
  readonly swapAtLockBlock: SwapState | null;
  /** getSwap at the finalized block the follower acts on. */
  readonly swapAtFinalized: SwapState | null;
  readonly lockBlockTimeSeconds: bigint;
  /** The token's Transfer logs in the lock's transaction (empty for ETH). */
  readonly transfers: readonly TransferLog[];
  /** The token's decimals; null for ETH. */
  readonly tokenDecimals: number | null;
}

export type LockRejectionReason =
  | 'wrong_contract'
  | 'swap_missing'
  | 'swap_mismatch'
  | 'wrong_order_id'
  | 'wrong_hashlock'
  | 'same_addresses'
  | 'wrong_seller'
  | 'wrong_buyer'
  | 'wrong_token'
  | 'wrong_decimals'
  | 'amount_short'
  | 'transfer_short'
  | 'timelock_too_short'
  | 'timelock_too_long'
  | 'timelock_after_escrow'
  | 'locked_after_lock_by'
  | 'already_claimed'
  | 'already_refunded';

export interface VerifiedLock {
  readonly swapId: Hex;
  readonly txHash: Hash;
  readonly logIndex: number;
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
  readonly lockBlockTimeSeconds: bigint;
  /** T, Unix seconds. */
  readonly timelockSeconds: bigint;
  readonly amountBaseUnits: bigint;
  readonly requiredBaseUnits: bigint;
  readonly token: Address;
  readonly buyer: Address;
  readonly seller: Address;
}

export type LockVerdict =
  | { readonly ok: true; readonly lock: VerifiedLock }
  | { readonly ok: false; readonly reason: LockRejectionReason; readonly swapId: Hex; readonly timelockSeconds: bigint };

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const asHash = (hex: string): string => (hex.startsWith('0x') ? hex : `0x${hex}`).toLowerCase();

/** getSwap must say what the log said; otherwise the log is not this contract's record of this swap. */
function matchesLog(swap: SwapState, log: SwapCreatedLog): boolean {
  return (
    same(swap.buyer, log.buyer) && same(swap.seller, log.seller) && same(swap.token, log.token) &&
    swap.amount === log.amount && same(swap.hashlock, log.hashlock) && swap.timelock === log.timelock &&
    swap.rtcOrderId === log.rtcOrderId
  );
}

function firstProblem(expected: ExpectedLock, facts: LockFacts, required: bigint): LockRejectionReason | null {
  const log = facts.created;
  const atLock = facts.swapAtLockBlock;
  if (!same(log.address, expected.htlcAddress)) return 'wrong_contract';
  if (atLock === null || facts.swapAtFinalized === null) return 'swap_missing';
  if (!matchesLog(atLock, log) || !matchesLog(facts.swapAtFinalized, log)) return 'swap_mismatch';
  if (log.rtcOrderId !== expected.orderId) return 'wrong_order_id';
  if (asHash(log.hashlock) !== asHash(expected.htlcHash)) return 'wrong_hashlock';
  if (same(expected.sellerQuoteAddress, expected.buyerQuoteAddress) || same(log.seller, log.buyer)) return 'same_addresses';
  if (!same(log.seller, expected.sellerQuoteAddress)) return 'wrong_seller';
  if (!same(log.buyer, expected.buyerQuoteAddress)) return 'wrong_buyer';
  const wantsEth = expected.asset === 'eth';
  if (!same(log.token, wantsEth ? ETH_TOKEN : expected.token) || (!wantsEth && same(log.token, ETH_TOKEN))) return 'wrong_token';
  if (!wantsEth && facts.tokenDecimals !== USDC_DECIMALS) return 'wrong_decimals';
  if (log.amount < required) return 'amount_short';
  // A fee-on-transfer or altered token can record `amount` yet deliver less: the Transfer decides.
  if (!wantsEth && !facts.transfers.some((t) => same(t.token, log.token) && same(t.to, expected.htlcAddress) && t.value === log.amount)) {
    return 'transfer_short';
  }
  if (log.timelock < facts.lockBlockTimeSeconds + expected.timelockMinSeconds) return 'timelock_too_short';
  if (log.timelock > facts.lockBlockTimeSeconds + expected.timelockMaxSeconds) return 'timelock_too_long';
  if (expected.latestTimelockSeconds !== null && log.timelock > expected.latestTimelockSeconds) return 'timelock_after_escrow';
  if (facts.lockBlockTimeSeconds > expected.lockBySeconds) return 'locked_after_lock_by';
  if (atLock.claimed) return 'already_claimed';
  if (atLock.refunded) return 'already_refunded';
  return null;
}

export function verifyLock(expected: ExpectedLock, facts: LockFacts): LockVerdict {
  const required = quoteBaseUnits(expected.totalQuoteNano, expected.asset);
  const log = facts.created;
  const reason = firstProblem(expected, facts, required);
  if (reason !== null) return { ok: false, reason, swapId: log.swapId, timelockSeconds: log.timelock };
  return {
    ok: true,
    lock: {
      swapId: log.swapId,
      txHash: log.txHash,
      logIndex: log.logIndex,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      lockBlockTimeSeconds: facts.lockBlockTimeSeconds,
      timelockSeconds: log.timelock,
      amountBaseUnits: log.amount,
      requiredBaseUnits: required,
      token: log.token,
      buyer: log.buyer,
      seller: log.seller,
    },
  };
}

/**
 * The final look-up before the ledger lapses a match or refunds a seller's RTC (quote-chain.md,
 * "Hashlocks are used once"): every swap the chain holds for the seller with the order's hashlock,
 * found by eth_getLogs over the seller's topic and read with getSwap at the finalized block, then one
 * rule: a claim anywhere means the buyer is owed the RTC; otherwise the RTC may go back to the seller
 * only once every such swap is refunded, or the finalized block's time is at or past every timelock
 * (from T on, the contract refuses the seller's claim, so no claim can still come).
 */
import type { Address, Hex } from 'viem';
import type { BlockRef, ChainOutcome, QuoteChain } from '../gateways/quoteChain.js';

export interface HashlockSwap {
  readonly swapId: Hex;
  readonly timelockSeconds: bigint;
  readonly claimed: boolean;
  readonly refunded: boolean;
}

export interface FinalLookupRequest {
  readonly seller: Address;
  readonly hashlock: Hex;
  /** The first block that can hold a lock for the order (its match, or the contract's deployment). */
  readonly fromBlock: bigint;
  readonly finalized: BlockRef;
}

/** Every swap for the seller under the hashlock, as of the finalized block; any failed read is the answer. */
export async function swapsWithHashlock(chain: QuoteChain, request: FinalLookupRequest): Promise<ChainOutcome<HashlockSwap[]>> {
  const wanted = request.hashlock.toLowerCase();
  const found: HashlockSwap[] = [];
  for (let from = request.fromBlock; from <= request.finalized.number; from += chain.maxBlockRange) {
    const to = from + chain.maxBlockRange - 1n < request.finalized.number ? from + chain.maxBlockRange - 1n : request.finalized.number;
    const page = await chain.swapsCreatedForSeller({ fromBlock: from, toBlock: to }, request.seller);
    if (page.kind !== 'ok') return page;
    for (const log of page.value.logs) {
      if (log.event !== 'SwapCreated' || log.hashlock.toLowerCase() !== wanted) continue;
      const swap = await chain.getSwap(log.swapId, request.finalized.number);
      if (swap.kind !== 'ok') return swap;
      if (swap.value === null) return { kind: 'unknown', reason: 'malformed', detail: `swap ${log.swapId} logged but unknown at the finalized block` };
      found.push({ swapId: log.swapId, timelockSeconds: swap.value.timelock, claimed: swap.value.claimed, refunded: swap.value.refunded });
    }
  }
  return { kind: 'ok', value: found };
}

export type QuoteLegDecision =
  /** A swap under the hashlock was claimed: the preimage is public, release to the buyer is due. */
  | { readonly kind: 'claimed'; readonly swapId: Hex }
  /** No swap under the hashlock at all (for a lapse once the finalized block is past lock_by). */
  | { readonly kind: 'no_swap' }
  /** The seller's RTC may be refunded: every swap refunded, or every timelock reached unclaimed. */
  | { readonly kind: 'refund_allowed'; readonly because: 'all_refunded' | 'all_timelocks_passed' }
  /** A swap may still be claimed: look again once the finalized block's time reaches this. */
  | { readonly kind: 'wait'; readonly untilSeconds: bigint };

export function decideQuoteLeg(swaps: readonly HashlockSwap[], finalizedTimeSeconds: bigint): QuoteLegDecision {
  const claimed = swaps.find((s) => s.claimed);
  if (claimed) return { kind: 'claimed', swapId: claimed.swapId };
  if (swaps.length === 0) return { kind: 'no_swap' };
  const live = swaps.filter((s) => !s.refunded);
  if (live.length === 0) return { kind: 'refund_allowed', because: 'all_refunded' };
  const latest = live.reduce((max, s) => (s.timelockSeconds > max ? s.timelockSeconds : max), 0n);
  if (finalizedTimeSeconds >= latest) return { kind: 'refund_allowed', because: 'all_timelocks_passed' };
  return { kind: 'wait', untilSeconds: latest };
}

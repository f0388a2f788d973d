/**
 * The final look-up for one order as a command input (quote-chain.md, "Hashlocks are used once"):
 * every swap for the order's seller under its hashlock, read with getSwap at the chain's finalized
 * block now (never older than the last one the follower processed), reduced by finalLookup.ts to one
 * decision. The follower's block alone is not enough: a swap created after it (a late lock of the
 * lapsed buyer) may be final by now and claimable by the seller, and a refund decided on the older
 * block would give the seller both legs (found by the simulator, seed 13; the same rule as the
 * look-up after a refund, seed 41). The reconciler hands it to
 * ExpireOrder (lapse, refund on chain time) and ReleaseRefundHold; re-arm and the cancel of a lapsed
 * order hand it to their commands; and the refund step runs it once more right before the refund's node
 * call (src/settlement/refundGate.ts: a refund decided earlier may go out much later). Null when there is nothing to look up or the chain could not be read: decide nothing.
 */
import type { Hex } from 'viem';
import type { QuoteChainTime } from '../aggregates/order/index.js';
import { decideQuoteLeg, swapsWithHashlock } from '../chain/finalLookup.js';
import type { BlockRef, QuoteChain } from '../gateways/quoteChain.js';
import type { FinalLookUp } from '../settlement/refundGate.js';
import type { LedgerDeps } from './deps.js';
import { createOrderDirectory } from './observeQuoteChain.js';
import type { QuoteLegDeps } from './quoteLeg.js';

export type { FinalLookUp };

export interface FinalLookUpSource {
  readonly chain: QuoteChain;
  /** The first block that can hold a lock (the follower's start block). */
  readonly fromBlock: bigint;
  /** The last finalized block the follower processed; null before the first. */
  readonly finalizedBlock: () => BlockRef | null;
}

export function createFinalLookUp(deps: Pick<LedgerDeps, 'store'> & { quoteLeg: QuoteLegDeps }, source: FinalLookUpSource): FinalLookUp {
  // Only expectedLock is asked for, which reads the order's own stream: no hashlock index is needed.
  const directory = createOrderDirectory(deps, { orderByHtlcHash: async () => null });
  return async (orderId) => {
    const at = await lookupBlock(source);
    if (at === null) return null;
    const expected = await directory.expectedLock(orderId);
    if (expected === null) return null;
    const hashlock = `0x${expected.htlcHash.replace(/^0x/, '').toLowerCase()}` as Hex;
    const swaps = await swapsWithHashlock(source.chain, { seller: expected.sellerQuoteAddress, hashlock, fromBlock: source.fromBlock, finalized: at });
    if (swaps.kind !== 'ok') return null;
    return { decision: decideQuoteLeg(swaps.value, at.timestampSeconds).kind, finalizedTimeSeconds: at.timestampSeconds };
  };
}

/** The chain's finalized block now, or the follower's last one if the RPC answers an older one (a lagging node); null before the follower's first. */
async function lookupBlock(source: FinalLookUpSource): Promise<BlockRef | null> {
  const processed = source.finalizedBlock();
  if (processed === null) return null;
  const now = await source.chain.finalizedBlock();
  if (now.kind !== 'ok') return null;
  return now.value.number >= processed.number ? now.value : processed;
}

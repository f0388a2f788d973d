/**
 * The reconciler's chain-time step (quote-chain.md, "Chain time decides"): for every chain-verified
 * order that finalized chain time may have moved past a deadline (lock_by with no lock, every seen
 * swap's T, a lapsed order's expires_at), the final look-up at the chain's current finalized block
 * (never older than the follower's last one: a late lock already final there but not yet delivered
 * must still count — simulator seed 13), handed to the decider as ExpireOrder's quoteChain. The decider lapses the match, or makes
 * the seller's refund due, or does nothing; the driver then runs what became due (a refund). The same
 * look-up releases a refund held back for a swap under the hashlock (driveRefundHold). The wall
 * clock never stands in for chain time here: without a finalized block nothing is decided.
 */
import { chainLookupDue, dueStep, OrderRefused, refundHoldLookupDue, type OrderCommand, type OrderEventType, type OrderState, type QuoteChainTime } from '../aggregates/order/index.js';
import { handleOrderCommand, type CommandContext } from '../commands/handleCommand.js';
import { loadOrder } from '../commands/loadOrder.js';
import { isCorrupt } from '../orderStream/fold.js';
import { isVersionConflict } from '../eventstore/types.js';
import { driveOrder, type DriverDeps } from './driver.js';

/** What the composition root gives the reconciler in sandbox and evm mode; absent in manual mode. */
export interface ChainTimeWatch {
  /** Matched and lapsed orders to look at this pass: bounded, walked pass by pass. */
  readonly candidates: () => Promise<readonly string[]>;
  /** The time of the last finalized block the follower processed (Unix seconds); null before the first. */
  readonly finalizedTimeSeconds: () => bigint | null;
  /** The final look-up for the order at that block; null when the chain could not be read (look again next pass). */
  readonly lookUp: (orderId: string) => Promise<QuoteChainTime | null>;
}

export interface ChainTimeOutcome {
  readonly before: OrderState;
  readonly after: OrderState;
  readonly written: readonly OrderEventType[];
}

/** One order on chain time; null when nothing was due, the chain could not be read, or another writer moved it first. */
export async function driveChainTime(
  deps: DriverDeps & { readonly now: () => Date }, watch: ChainTimeWatch, orderId: string, ctx: CommandContext,
): Promise<ChainTimeOutcome | null> {
  const loaded = await loadOrder(deps.store, orderId);
  if (isCorrupt(loaded) || !chainLookupDue(loaded.state, watch.finalizedTimeSeconds(), deps.now())) return null;
  const quoteChain = await watch.lookUp(orderId);
  if (quoteChain === null) return null;
  return decideOnChainTime(deps, orderId, { type: 'ExpireOrder', now: deps.now(), quoteChain }, loaded.state, ctx, 'inline');
}

/**
 * A refund held back (quote_lock_before_refund) released on the chain's word: once what the order
 * saw is dead at the follower's finalized time, the final look-up at the chain's finalized block
 * goes to ReleaseRefundHold; the decider makes the refund due again (RefundHoldReleased) only when
 * the chain and the order agree that no swap under the hashlock can still be claimed, and the driver
 * then runs the refund, whose step looks the chain up once more right before its node call. Null
 * when nothing was due, the chain could not be read, or the hold stays.
 */
export async function driveRefundHold(
  deps: DriverDeps & { readonly now: () => Date }, watch: ChainTimeWatch, orderId: string, ctx: CommandContext,
): Promise<ChainTimeOutcome | null> {
  const loaded = await loadOrder(deps.store, orderId);
  if (isCorrupt(loaded) || !refundHoldLookupDue(loaded.state, watch.finalizedTimeSeconds())) return null;
  const quoteChain = await watch.lookUp(orderId);
  if (quoteChain === null) return null;
  // 'resume': the refund may have been tried before it was held back, so its job is looked up first.
  return decideOnChainTime(deps, orderId, { type: 'ReleaseRefundHold', now: deps.now(), quoteChain }, loaded.state, ctx, 'resume');
}

async function decideOnChainTime(
  deps: DriverDeps, orderId: string, command: OrderCommand, before: OrderState, ctx: CommandContext, mode: 'inline' | 'resume',
): Promise<ChainTimeOutcome | null> {
  try {
    const decided = await handleOrderCommand(deps.store, orderId, command, ctx, { maxAttempts: 3 });
    if (decided.written.length === 0) return null;
    const after = dueStep(decided.state) === null ? decided.state : (await driveOrder(deps, orderId, ctx, mode)).state;
    return { before, after, written: decided.written.map((w) => w.type as OrderEventType) };
  } catch (error) {
    // The order moved meanwhile (a claim seen, a confirm): the mover owns it, the next pass looks again.
    if (error instanceof OrderRefused || isVersionConflict(error)) return null;
    throw error;
  }
}

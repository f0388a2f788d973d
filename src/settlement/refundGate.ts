/**
 * The last look before a chain-verified order's RTC goes back to its seller (quote-chain.md, "Chain
 * time decides"; simulator seeds 2249, 2450, 3168). The refund was decided on chain time earlier (a
 * lapse, every T passed, a lapsed order's expiry), but it may go out much later: after a failed or
 * unknown node call, or once a held job has expired at the node. Meanwhile the lapsed buyer may have
 * locked again under the same hashlock, final on the chain but not yet delivered by the follower,
 * and the seller could claim that swap and keep both legs. So the refund step runs the final look-up
 * again (at the chain's finalized block now, never older than the follower's) right before its node
 * call, and holds back unless the decider's rule (refundMayGoOut) lets the refund go:
 *
 * - a swap under the hashlock may still be claimed, or a claim is on the chain: the order is parked
 *   as `quote_lock_before_refund`, which the reconciler releases on the look-up's word
 *   (RefundHoldReleased), and a claim delivered meanwhile pays the buyer;
 * - the look-up cannot answer (the chain unavailable, or no quote chain wired): NodeCallFailed with
 *   `final_lookup_unavailable`, so the order stays refund_pending, visible with its last error, and
 *   the reconciler retries it like any step whose outcome is unknown. Never guessed.
 *
 * Both report the step's outcome as `held_back` (node_calls{step="refund",outcome="held_back"}).
 */
import { REFUND_HOLD_REASON, refundMayGoOut, type DueStep, type PlacedOrder, type QuoteChainTime } from '../aggregates/order/index.js';
import type { StepResult } from './steps.js';

/** The final look-up for one order at the chain's finalized block; null when the chain could not be read. */
export type FinalLookUp = (orderId: string) => Promise<QuoteChainTime | null>;

type RefundStep = Extract<DueStep, { kind: 'refund' }>;

export const FINAL_LOOKUP_UNAVAILABLE = 'final_lookup_unavailable';

/** Null when the refund may go out now; otherwise the step's result holding it back (no node call). */
export async function refundGate(lookUp: FinalLookUp | null | undefined, state: PlacedOrder, step: RefundStep): Promise<StepResult | null> {
  if (state.status !== 'refund_pending' || state.quoteLeg === null) return null;
  const chain = lookUp ? await lookUp(state.orderId) : null;
  if (chain === null) {
    const why = lookUp ? 'the quote chain could not be read' : 'no quote chain is wired to look it up';
    return {
      commands: [{ type: 'RecordNodeCallFailed', step: 'refund', key: step.key, outcome: 'unknown', reason: `${FINAL_LOOKUP_UNAVAILABLE}: ${why}; the refund waits` }],
      outcome: 'held_back',
      continue: false,
    };
  }
  if (refundMayGoOut(state, chain)) return null;
  const detail = chain.decision === 'claimed'
    ? `the final look-up at finalized time ${chain.finalizedTimeSeconds} found a claim under the hashlock: the buyer is owed the RTC`
    : `the final look-up at finalized time ${chain.finalizedTimeSeconds} says ${chain.decision}: a swap under the hashlock may still be claimed`;
  return { commands: [{ type: 'RequireRecovery', reason: REFUND_HOLD_REASON, detail }], outcome: 'held_back', continue: false };
}

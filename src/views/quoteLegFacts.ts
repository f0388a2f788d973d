/**
 * The narrow facts of an order's quote leg that its resource's `quote_leg` is computed from, apart
 * from the configuration (contract, token, windows): what the orders read model stores in columns of
 * its own, so a listing shows the same `quote_leg` as the order's resource (one function computes
 * both, src/app/quoteLeg.ts).
 */
import { heldEscrow, holdDue, type PlacedOrder } from '../aggregates/order/index.js';

export interface QuoteLegFacts {
  readonly lockBy: string;
  readonly swapId: string | null;
  readonly lockTx: string | null;
  readonly claimTx: string | null;
  /** The refund of the verified lock's swap, if seen. */
  readonly refundTx: string | null;
  readonly rejected: readonly { readonly swapId: string; readonly txHash: string; readonly reason: string; readonly timelockSeconds: bigint }[];
  /** Matched, but the ledger's worker does not hold the escrow job yet: no lock instructions (custody). */
  readonly custodyPending: boolean;
  /** The held escrow job's expiry at the node, as it reported it; null before the hold or without one. */
  readonly escrowExpiresAt: string | null;
}

/** Null while the order has no quote leg on a chain (not matched yet, or manual). */
export function quoteLegFactsOf(state: PlacedOrder): QuoteLegFacts | null {
  const leg = state.quoteLeg;
  if (leg === null) return null;
  const refund = leg.lock ? leg.refunds.find((r) => r.swapId === leg.lock?.swapId) ?? null : null;
  return {
    lockBy: leg.lockBy, swapId: leg.lock?.swapId ?? null, lockTx: leg.lock?.txHash ?? null, claimTx: leg.claim?.txHash ?? null,
    refundTx: refund?.txHash ?? null,
    rejected: leg.rejected.map((r) => ({ swapId: r.swapId, txHash: r.txHash, reason: r.reason, timelockSeconds: r.timelockSeconds })),
    custodyPending: holdDue(state), escrowExpiresAt: heldEscrow(state)?.hold?.expiresAt ?? null,
  };
}

/** The rejected locks as the read model's one text column holds them (timelocks as decimal strings). */
export const rejectedLocksToText = (facts: QuoteLegFacts): string =>
  JSON.stringify(facts.rejected.map((r) => ({ swap_id: r.swapId, tx_hash: r.txHash, reason: r.reason, timelock: r.timelockSeconds.toString() })));

export function rejectedLocksFromText(text: string): QuoteLegFacts['rejected'] {
  const rows = JSON.parse(text) as { swap_id: string; tx_hash: string; reason: string; timelock: string }[];
  return rows.map((r) => ({ swapId: r.swap_id, txHash: r.tx_hash, reason: r.reason, timelockSeconds: BigInt(r.timelock) }));
}

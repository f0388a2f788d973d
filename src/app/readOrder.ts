import type { OrderState, PlacedOrder } from '../aggregates/order/index.js';
import { preimageBinding } from '../crypto/preimage.js';
import { loadOrder } from '../commands/loadOrder.js';
import { readable } from '../orderStream/fold.js';
import type { LedgerDeps } from './deps.js';

/** One order read from its own stream; null when it does not exist; OrderStreamCorrupt when unreadable. */
export async function getOrder(deps: LedgerDeps, orderId: string): Promise<{ state: PlacedOrder; version: bigint; updatedAt: string | null } | null> {
  const loaded = readable(orderId, await loadOrder(deps.store, orderId, deps.orderCache));
  if (loaded.state.status === 'none') return null;
  return { state: loaded.state, version: loaded.version, updatedAt: loaded.updatedAt };
}

/**
 * The preimage, readable only once the payout is confirmed. One that cannot be decrypted (an
 * instance started with another key) is reported and shown as null, rather than failing every
 * listing that contains the order.
 */
export function revealSecret(deps: LedgerDeps, state: OrderState): string | null {
  return state.status === 'completed' ? revealStored(deps, state.orderId, state.claim.secretCiphertext) : null;
}

/** The same for an order a read model holds: the caller has checked that it is completed. */
export function revealStored(deps: LedgerDeps, orderId: string, ciphertext: string): string | null {
  try {
    return deps.secretBox.decrypt(ciphertext, preimageBinding(orderId));
  } catch {
    deps.onSecretUnreadable?.(orderId);
    return null;
  }
}

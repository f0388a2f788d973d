import { sha256Hex } from '../crypto/preimage.js';
import { chainedEvents, NEW_STREAM, type SignatureSpent } from '../eventstore/chainedEvents.js';
import { isVersionConflict, SignatureAlreadyUsed, type EventStore, type JsonObject } from '../eventstore/types.js';
import { WalletAuthError } from '../crypto/walletAuth.js';

import { signatureStream } from '../streamNames.js';

export { SIGNATURE_STREAM_PREFIX } from '../streamNames.js';

/** One accepted wallet signature, before its use is recorded. */
export interface SignatureUse {
  readonly signatureHex: string;
  readonly wallet: string;
  readonly action: string;
  readonly orderId: string;
  readonly correlationId: string;
  readonly now: Date;
  readonly newEventId?: () => string;
}

/** What an event's metadata records of a signature it spends: its hash and action, never the signature. */
export function signatureSpent(use: Pick<SignatureUse, 'signatureHex' | 'action'>): SignatureSpent {
  return { sha256: sha256Hex(use.signatureHex.toLowerCase()), action: use.action };
}

export const replayed = (): WalletAuthError => new WalletAuthError('wallet_auth_replayed', 'this signature was already used');

/**
 * True when the signature was already used. A store with signatureUsed (SQLite) keeps every use
 * under a unique index, those recorded before issue 14 lever 2 included (copied in when the file
 * was upgraded); any other store is asked for the signature's own stream.
 */
export async function isSignatureUsed(store: EventStore, spent: SignatureSpent): Promise<boolean> {
  if (store.signatureUsed !== undefined) return store.signatureUsed(spent.sha256);
  return (await store.readStream(signatureStream(spent.sha256))).length > 0;
}

/**
 * A signature is accepted once, also after a restart and across instances. Where the request's own
 * command records it (see authenticate.ts) this is not called; otherwise (a store without
 * signatureUsed, or a request that ended without writing: refused by the decider, a no-op) its use
 * is an event in a stream named after the signature's hash, appended with `no_stream`, so a second
 * use loses that append and is refused as a replay. The event's metadata names the signature too,
 * so on SQLite the same unique index covers both kinds of record. The stream holds the hash, never
 * the signature.
 */
export async function recordSignatureUse(store: EventStore, use: SignatureUse): Promise<void> {
  const spent = signatureSpent(use);
  const stream = signatureStream(spent.sha256);
  const data: JsonObject = {
    signature_sha256: spent.sha256,
    wallet: use.wallet,
    action: use.action,
    order_id: use.orderId,
    used_at: use.now.toISOString(),
  };
  const ctx = { correlationId: use.correlationId, causationId: null, actor: use.wallet, recordedAt: use.now.toISOString(), newEventId: use.newEventId, signature: spent };
  try {
    await store.append(stream, chainedEvents(stream, NEW_STREAM, [{ type: 'SignatureUsed', data }], ctx), 'no_stream');
  } catch (error) {
    if (isVersionConflict(error) || error instanceof SignatureAlreadyUsed) throw replayed();
    throw error;
  }
}

import { sha256Hex } from '../crypto/preimage.js';
import { chainedEvents, NEW_STREAM } from '../eventstore/chainedEvents.js';
import { isVersionConflict, type EventStore, type JsonObject } from '../eventstore/types.js';
import { WalletAuthError } from '../crypto/walletAuth.js';

import { signatureStream } from '../streamNames.js';

export { SIGNATURE_STREAM_PREFIX } from '../streamNames.js';

/**
 * A signature is accepted once, also after a restart and across instances: its first use is an
 * event in a stream named after the signature's hash, appended with `no_stream`, so a second use
 * loses that append and is refused as a replay. The stream holds the hash, never the signature.
 */
export async function recordSignatureUse(
  store: EventStore,
  use: { signatureHex: string; wallet: string; action: string; orderId: string; correlationId: string; now: Date; newEventId?: () => string },
): Promise<void> {
  const signatureSha256 = sha256Hex(use.signatureHex.toLowerCase());
  const stream = signatureStream(signatureSha256);
  const data: JsonObject = {
    signature_sha256: signatureSha256,
    wallet: use.wallet,
    action: use.action,
    order_id: use.orderId,
    used_at: use.now.toISOString(),
  };
  const ctx = { correlationId: use.correlationId, causationId: null, actor: use.wallet, recordedAt: use.now.toISOString(), newEventId: use.newEventId };
  try {
    await store.append(stream, chainedEvents(stream, NEW_STREAM, [{ type: 'SignatureUsed', data }], ctx), 'no_stream');
  } catch (error) {
    if (isVersionConflict(error)) throw new WalletAuthError('wallet_auth_replayed', 'this signature was already used');
    throw error;
  }
}

import { canonicalWallet } from '../aggregates/order/index.js';
import { VersionMismatch } from '../commands/handleCommand.js';
import { loadOrder } from '../commands/loadOrder.js';
import { recordSignatureUse } from '../commands/signatures.js';
import { verifyWalletAuth, type WalletAction } from '../crypto/walletAuth.js';
import type { JsonValue } from '../eventstore/types.js';
import type { LedgerDeps, RequestContext } from './deps.js';

export interface SignedRequest {
  readonly action: WalletAction;
  readonly orderId: string;
  readonly wallet: string;
  /** The action's bound fields in their signed form ("" when absent). */
  readonly bound: Record<string, JsonValue>;
  readonly auth: unknown;
}

/**
 * Checks the wallet's signature and records its use, once. A stale If-Match is refused before the
 * signature is spent, so the client may resend it as is. Returns the canonical wallet.
 */
export async function authenticate(deps: LedgerDeps, signed: SignedRequest, req: RequestContext): Promise<string> {
  const now = deps.now();
  const signatureHex = verifyWalletAuth({ ...signed }, now.getTime());
  if (req.ifMatchVersion !== undefined) {
    const current = await loadOrder(deps.store, signed.orderId);
    if (current.version !== req.ifMatchVersion) throw new VersionMismatch(req.ifMatchVersion, current.version);
  }
  const wallet = canonicalWallet(signed.wallet);
  await recordSignatureUse(deps.store, { signatureHex, wallet, action: signed.action, orderId: signed.orderId, correlationId: req.requestId, now, newEventId: deps.newEventId });
  return wallet;
}

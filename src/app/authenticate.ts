import { canonicalWallet, refuse } from '../aggregates/order/index.js';
import { VersionMismatch } from '../commands/handleCommand.js';
import { loadOrder } from '../commands/loadOrder.js';
import { recordSignatureUse } from '../commands/signatures.js';
import { verifyWalletAuthAsync, type WalletAction } from '../crypto/walletAuth.js';
import type { JsonValue } from '../eventstore/types.js';
import type { LedgerDeps, RequestContext } from './deps.js';
import { checkOpenOrderCap } from './openOrderCap.js';

export interface SignedRequest {
  readonly action: WalletAction;
  readonly orderId: string;
  readonly wallet: string;
  /** The action's bound fields in their signed form ("" when absent). */
  readonly bound: Record<string, JsonValue>;
  readonly auth: unknown;
}

/**
 * Checks the wallet's signature and records its use, once. What can be refused without deciding is
 * refused before the signature is spent, and so writes nothing (see refuseBeforeSpending). Every
 * request that reaches the decider has spent its signature, refused or not. Returns the canonical
 * wallet.
 */
export async function authenticate(deps: LedgerDeps, signed: SignedRequest, req: RequestContext): Promise<string> {
  const now = deps.now();
  const signatureHex = await (deps.verifySignature ?? verifyWalletAuthAsync)({ ...signed }, now.getTime());
  const wallet = canonicalWallet(signed.wallet);
  await refuseBeforeSpending(deps, signed.action === 'create_order' ? { wallet } : { orderId: signed.orderId }, req);
  await recordSignatureUse(deps.store, { signatureHex, wallet, action: signed.action, orderId: signed.orderId, correlationId: req.requestId, now, newEventId: deps.newEventId });
  return wallet;
}

/**
 * Issue 10, "Refused requests write": read-only checks that need no decision, run after the
 * signature verifies and before its use is recorded, so such a refusal appends nothing (a signed
 * match on a missing order used to write a SignatureUsed event). Only refusals that the same request
 * could never get past later belong here: a missing order (ids are random and never reused), a
 * stale If-Match (the client resends as is), the open-order cap (the client resends once it has
 * room). State rules (order_not_open, not_maker, …) stay with the decider, after the signature is
 * spent: refused there, a request can never be replayed once the order's state has moved on.
 */
async function refuseBeforeSpending(deps: LedgerDeps, target: { orderId: string } | { wallet: string }, req: RequestContext): Promise<void> {
  if ('wallet' in target) return checkOpenOrderCap(deps, target.wallet);
  const current = await loadOrder(deps.store, target.orderId);
  if (req.ifMatchVersion !== undefined && current.version !== req.ifMatchVersion) throw new VersionMismatch(req.ifMatchVersion, current.version);
  if (current.state.status === 'none') refuse('order_not_found', 'no such order');
}

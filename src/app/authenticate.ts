import { canonicalWallet, refuse } from '../aggregates/order/index.js';
import { VersionMismatch } from '../commands/handleCommand.js';
import { loadOrder, type LoadedOrder } from '../commands/loadOrder.js';
import { isSignatureUsed, recordSignatureUse, replayed, signatureSpent, type SignatureUse } from '../commands/signatures.js';
import { verifyWalletAuthAsync, WalletAuthError, type WalletAction } from '../crypto/walletAuth.js';
import type { SignatureSpent } from '../eventstore/chainedEvents.js';
import { SignatureAlreadyUsed, type JsonValue } from '../eventstore/types.js';
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

/** A signature checked and not used before, whose use the request's own first append records. */
export interface PendingSignature {
  readonly spent: SignatureSpent;
  readonly use: SignatureUse;
}

export interface Authenticated {
  /** The canonical wallet. */
  readonly wallet: string;
  /** The order as the pre-checks read it (undefined for create_order): the command starts from it. */
  readonly loaded?: LoadedOrder;
  /** Null when the use is already recorded (a store without signatureUsed records it up front). */
  readonly signature: PendingSignature | null;
}

/**
 * Checks the wallet's signature and that it was not used before. What can be refused without
 * deciding is refused before the signature is spent, and so writes nothing (see refuseBeforeSpending).
 * Every request that reaches the decider spends its signature, refused or not: on SQLite in the
 * metadata of the command's first event (decideThenDrive), or, when the request writes nothing, in
 * a `sig-` stream of its own (spendOnFailure); on a store without signatureUsed up front, as before.
 */
export async function authenticate(deps: LedgerDeps, signed: SignedRequest, req: RequestContext): Promise<Authenticated> {
  const now = deps.now();
  const signatureHex = await (deps.verifySignature ?? verifyWalletAuthAsync)({ ...signed }, now.getTime());
  const wallet = canonicalWallet(signed.wallet);
  const loaded = await refuseBeforeSpending(deps, signed.action === 'create_order' ? { wallet } : { orderId: signed.orderId }, req);
  const use: SignatureUse = { signatureHex, wallet, action: signed.action, orderId: signed.orderId, correlationId: req.requestId, now, newEventId: deps.newEventId };
  if (deps.store.signatureUsed === undefined) {
    await recordSignatureUse(deps.store, use);
    return { wallet, loaded, signature: null };
  }
  const spent = signatureSpent(use);
  // The append that spends it refuses a second use too; this makes a replay answer
  // wallet_auth_replayed before the decider could refuse it for the state it finds.
  if (await isSignatureUsed(deps.store, spent)) throw replayed();
  return { wallet, loaded, signature: { spent, use } };
}

/**
 * Runs what the signed request does before (or instead of) its first append. If that fails, the
 * request wrote nothing, so its signature is recorded on its own before the failure is passed on:
 * a refused request stays spent, as issue 10 made it. A use recorded meanwhile by the same
 * signature (two copies of one request at once) answers wallet_auth_replayed instead.
 */
export async function spendOnFailure<T>(deps: Pick<LedgerDeps, 'store'>, signature: PendingSignature | null, act: () => Promise<T>): Promise<T> {
  if (signature === null) return act();
  try {
    return await act();
  } catch (error) {
    if (error instanceof SignatureAlreadyUsed) throw replayed();
    await spendAlone(deps, signature, error);
    throw error;
  }
}

/** Records the use in a stream of its own; a replay found doing so wins over `cause`, another failure does not. */
export async function spendAlone(deps: Pick<LedgerDeps, 'store'>, signature: PendingSignature, cause?: unknown): Promise<void> {
  try {
    await recordSignatureUse(deps.store, signature.use);
  } catch (error) {
    if (cause === undefined || (error instanceof WalletAuthError && error.code === 'wallet_auth_replayed')) throw error;
  }
}

/**
 * Issue 10, "Refused requests write": read-only checks that need no decision, run after the
 * signature verifies and before its use is recorded, so such a refusal appends nothing (a signed
 * match on a missing order used to write a SignatureUsed event). Only refusals that the same request
 * could never get past later belong here: a missing order (ids are random and never reused), a
 * stale If-Match (the client resends as is), the open-order cap (the client resends once it has
 * room). State rules (order_not_open, not_maker, …) stay with the decider, after the signature is
 * spent: refused there, a request can never be replayed once the order's state has moved on.
 * Returns the order it read, so the command does not read it again.
 */
async function refuseBeforeSpending(deps: LedgerDeps, target: { orderId: string } | { wallet: string }, req: RequestContext): Promise<LoadedOrder | undefined> {
  if ('wallet' in target) {
    await checkOpenOrderCap(deps, target.wallet);
    return undefined;
  }
  const current = await loadOrder(deps.store, target.orderId, deps.orderCache);
  if (req.ifMatchVersion !== undefined && current.version !== req.ifMatchVersion) throw new VersionMismatch(req.ifMatchVersion, current.version);
  if (current.state.status === 'none') refuse('order_not_found', 'no such order');
  return current;
}

import { authenticate, spendOnFailure } from './authenticate.js';
import { decideThenDrive } from './decideThenDrive.js';
import { cancelQuoteChain } from './rearmOrder.js';
import { commandContext, type LedgerDeps, type OrderResult, type RequestContext } from './deps.js';

export interface CancelOrderRequest {
  readonly wallet: string;
  readonly walletAuth: unknown;
}

/** The maker withdraws an open (or lapsed) order; a held escrow is refunded by the driver. */
export async function cancelOrder(deps: LedgerDeps, orderId: string, input: CancelOrderRequest, req: RequestContext): Promise<OrderResult> {
  const { wallet: maker, loaded, signature } = await authenticate(deps, { action: 'cancel_order', orderId, wallet: input.wallet, bound: {}, auth: input.walletAuth }, req);
  // A lapsed order's refund waits for the chain's word that no swap under its hashlock is live.
  const command = { type: 'CancelOrder' as const, wallet: maker, ...(await spendOnFailure(deps, signature, () => cancelQuoteChain(deps, orderId))), now: deps.now() };
  return decideThenDrive(deps, { orderId, command, ctx: commandContext(deps, req, maker), mode: 'inline', loaded, signature }, req);
}

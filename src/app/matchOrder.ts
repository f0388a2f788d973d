import { dueStep } from '../aggregates/order/index.js';
import { loadOrder } from '../commands/loadOrder.js';
import { generatePreimage } from '../crypto/preimage.js';
import { driveOrder } from '../settlement/driver.js';
import { matchQuoteLeg } from './quoteLeg.js';
import { checkMatchCooldown } from './matchCooldown.js';
import { authenticate, spendOnFailure } from './authenticate.js';
import { decideThenDrive } from './decideThenDrive.js';
import { guardMatch } from './matchGuards.js';
import { commandContext, type LedgerDeps, type OrderResult, type RequestContext } from './deps.js';

export interface MatchOrderRequest {
  readonly wallet: string;
  readonly ethAddress: string | null;
  readonly htlcHash: string | null;
  readonly walletAuth: unknown;
}

/** A taker takes an order; the taker of a buy order sells, and without a hash gets a generated preimage. */
export async function matchOrder(deps: LedgerDeps, orderId: string, input: MatchOrderRequest, req: RequestContext): Promise<OrderResult> {
  const bound = { eth_address: input.ethAddress ?? '', htlc_hash: input.htlcHash ?? '' };
  const auth = await authenticate(deps, { action: 'match_order', orderId, wallet: input.wallet, bound, auth: input.walletAuth }, req);
  const taker = auth.wallet;
  const ctx = commandContext(deps, req, taker);
  let current = auth.loaded ?? (await loadOrder(deps.store, orderId, deps.orderCache));
  // Before anyone takes a sell order, its maker's escrow must still be at the node.
  if (dueStep(current.state, 'watch') !== null) {
    current = await spendOnFailure(deps, auth.signature, async () => {
      await driveOrder(deps, orderId, ctx, 'watch');
      return loadOrder(deps.store, orderId, deps.orderCache);
    });
  }
  if (current.state.status !== 'none') {
    const maker = { wallet: current.state.makerWallet, ethAddress: current.state.makerEthAddress };
    await spendOnFailure(deps, auth.signature, () => checkMatchCooldown(deps, [{ wallet: taker, ethAddress: input.ethAddress }, maker]));
  }
  const buyOrder = current.state.status !== 'none' && current.state.side === 'buy';
  const generated = buyOrder && input.htlcHash === null ? generatePreimage(deps.randomBytes) : null;
  const command = {
    type: 'MatchOrder' as const, takerWallet: taker, takerEthAddress: input.ethAddress,
    htlcHash: generated?.htlcHash ?? input.htlcHash?.toLowerCase() ?? null,
    settleWindowSeconds: deps.settleWindowSeconds,
    quoteLeg: current.state.status === 'none' ? null : matchQuoteLeg(deps.quoteLeg, current.state.pair),
    now: deps.now(),
  };
  // A refused match spends its signature too: replayed once the buyer's funds arrive, it must not take the order.
  const state = current.state;
  await spendOnFailure(deps, auth.signature, () => guardMatch(deps, orderId, command, state, req));
  return decideThenDrive(deps, { orderId, command, ctx, mode: 'inline', htlcSecret: generated?.secretHex ?? null, loaded: current, signature: auth.signature }, req);
}

import type { CancelOrder, QuoteChainTime } from '../aggregates/order/index.js';
import { loadOrder } from '../commands/loadOrder.js';
import { generatePreimage } from '../crypto/preimage.js';
import { authenticate, spendOnFailure } from './authenticate.js';
import { guardRearm } from './matchGuards.js';
import { decideThenDrive } from './decideThenDrive.js';
import { commandContext, type LedgerDeps, type OrderResult, type RequestContext } from './deps.js';

export interface RearmOrderRequest {
  readonly wallet: string;
  /** The fresh hashlock; null = the ledger generates the preimage and shows it once. */
  readonly htlcHash: string | null;
  readonly walletAuth: unknown;
}

/**
 * The maker of a lapsed sell order puts it back on the book under a fresh hashlock (api.md, rearm).
 * The final look-up for the old hashlock comes first, so the decider refuses while any swap under
 * it is live (quote_lock_live); the fresh hash is then reserved like a place's (htlcHashes.ts), so a
 * hash any other order used is htlc_hash_reused. A refusal spends the signature like any other.
 */
export async function rearmOrder(deps: LedgerDeps, orderId: string, input: RearmOrderRequest, req: RequestContext): Promise<OrderResult> {
  const bound = { htlc_hash: input.htlcHash ?? '' };
  const { wallet: maker, loaded, signature } = await authenticate(deps, { action: 'rearm_order', orderId, wallet: input.wallet, bound, auth: input.walletAuth }, req);
  const generated = input.htlcHash === null ? generatePreimage(deps.randomBytes) : null;
  const htlcHash = generated?.htlcHash ?? (input.htlcHash as string).toLowerCase();
  const prepared = await spendOnFailure(deps, signature, async () => {
    const current = loaded ?? (await loadOrder(deps.store, orderId, deps.orderCache));
    const quoteChain = current.state.status === 'lapsed' ? await lookUp(deps, orderId) : null;
    const command = { type: 'RearmOrder' as const, wallet: maker, htlcHash, quoteChain, now: deps.now() };
    await guardRearm(deps, orderId, command, current.state, req);
    return { current, command };
  });
  const { current, command } = prepared;
  return decideThenDrive(deps, { orderId, command, ctx: commandContext(deps, req, maker), mode: 'inline', htlcSecret: generated?.secretHex ?? null, loaded: current, signature }, req);
}

/** The final look-up for a lapsed order's old hashlock; null in manual mode or when the chain cannot be read. */
async function lookUp(deps: LedgerDeps, orderId: string): Promise<QuoteChainTime | null> {
  return deps.finalLookUp ? deps.finalLookUp(orderId) : null;
}

/** What a cancel of a lapsed order carries: the chain's word on its old hashlock (see CancelOrder). */
export async function cancelQuoteChain(deps: LedgerDeps, orderId: string): Promise<Pick<CancelOrder, 'quoteChain'>> {
  const { state } = await loadOrder(deps.store, orderId);
  return state.status === 'lapsed' ? { quoteChain: await lookUp(deps, orderId) } : {};
}

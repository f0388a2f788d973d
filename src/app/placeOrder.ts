import type { Pair, Side } from '../aggregates/order/index.js';
import { generatePreimage } from '../crypto/preimage.js';
import { EMPTY_FOLD } from '../orderStream/fold.js';
import { authenticate, spendOnFailure } from './authenticate.js';
import { decideThenDrive } from './decideThenDrive.js';
import { guardPlace } from './matchGuards.js';
import { commandContext, newOrderId, signedInteger, type LedgerDeps, type OrderResult, type RequestContext } from './deps.js';

export interface PlaceOrderRequest {
  readonly side: Side;
  readonly pair: Pair;
  readonly wallet: string;
  readonly amountMicroRtc: bigint;
  readonly pricePerRtcNanoQuote: bigint;
  readonly ttlSeconds: number;
  readonly ethAddress: string | null;
  readonly htlcHash: string | null;
  readonly walletAuth: unknown;
}

/** A maker places an order; a sell order without a hash of its own gets a generated preimage. */
export async function placeOrder(deps: LedgerDeps, input: PlaceOrderRequest, req: RequestContext): Promise<OrderResult> {
  const bound = {
    side: input.side,
    pair: input.pair,
    amount_micro_rtc: signedInteger(input.amountMicroRtc),
    price_per_rtc_nano_quote: signedInteger(input.pricePerRtcNanoQuote),
    ttl_seconds: input.ttlSeconds,
    eth_address: input.ethAddress ?? '',
    htlc_hash: input.htlcHash ?? '',
  };
  const { wallet: maker, signature } = await authenticate(deps, { action: 'create_order', orderId: 'create_order', wallet: input.wallet, bound, auth: input.walletAuth }, req);
  const generated = input.side === 'sell' && input.htlcHash === null ? generatePreimage(deps.randomBytes) : null;
  const orderId = (deps.newOrderId ?? newOrderId)();
  const command = {
    type: 'PlaceOrder' as const, orderId, side: input.side, pair: input.pair, makerWallet: maker,
    amountMicroRtc: input.amountMicroRtc, pricePerRtcNanoQuote: input.pricePerRtcNanoQuote, ttlSeconds: input.ttlSeconds,
    makerEthAddress: input.ethAddress, htlcHash: generated?.htlcHash ?? input.htlcHash?.toLowerCase() ?? null, now: deps.now(),
  };
  // A refused place (a reused hash, a TTL too long for the chain) spends its signature like any refusal.
  await spendOnFailure(deps, signature, () => guardPlace(deps, command, req));
  const ctx = commandContext(deps, req, maker);
  // A fresh id has no stream: with the order cache wired (the server) the command starts from the
  // empty fold instead of reading one. The append expects no stream, so an id that did exist
  // conflicts and the retry reads it whole. Without the cache (the simulator) it reads, as before,
  // so the simulator's interleaving of awaits, and its event-log hashes, stay as they were.
  const loaded = deps.orderCache === undefined ? undefined : EMPTY_FOLD;
  return decideThenDrive(deps, { orderId, command, ctx, mode: 'inline', htlcSecret: generated?.secretHex ?? null, signature, loaded }, req);
}

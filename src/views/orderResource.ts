import { orderFacts, type EscrowStatus, type OrderSummary, type PayoutStatus } from '../aggregates/order/facts.js';
import { formatQuote, formatRtc } from '../aggregates/order/money.js';
import type { OrderStatus, PlacedOrder } from '../aggregates/order/state.js';
import type { QuoteLegFacts } from './quoteLegFacts.js';

/** The order resource of api.md: every field present, absent values null, money as strings. */
export interface OrderResource {
  order_id: string;
  side: string | null;
  pair: string | null;
  quote_currency: string | null;
  status: OrderStatus;
  version: number;
  maker_wallet: string | null;
  taker_wallet: string | null;
  seller_wallet: string | null;
  buyer_wallet: string | null;
  maker_eth_address: string | null;
  taker_eth_address: string | null;
  amount_rtc: string;
  amount_micro_rtc: string;
  price_per_rtc: string;
  price_per_rtc_nano_quote: string;
  total_quote: string;
  total_quote_nano: string;
  htlc_hash: string | null;
  htlc_secret: string | null;
  escrow: { job_id: string | null; status: EscrowStatus };
  payout: { key: string | null; status: PayoutStatus; tx_hash: string | null };
  quote_tx: string | null;
  created_at: string | null;
  expires_at: string | null;
  matched_at: string | null;
  settle_by: string | null;
  completed_at: string | null;
  updated_at: string | null;
  /** The quote leg (api.md); null where the caller does not compute it (read-model listings). */
  quote_leg: QuoteLegResource | null;
}

export interface QuoteLegResource {
  mode: 'evm' | 'sandbox' | 'manual';
  chain_id: number | null;
  contract: string | null;
  token: string | null;
  amount_base_units: string | null;
  lock_by: string | null;
  timelock_min: string | null;
  timelock_max: string | null;
  status: 'awaiting_custody' | 'awaiting_lock' | 'locked' | 'claimed' | 'refunded' | 'lapsed' | null;
  swap_id: string | null;
  lock_tx: string | null;
  claim_tx: string | null;
  refund_tx: string | null;
  rejected_locks: Array<{ swap_id: string; tx_hash: string; reason: string; timelock: string }>;
}

export interface OrderResourceOptions {
  /**
   * The preimage, already decrypted by the caller. It is shown only once the payout is confirmed
   * (status completed); before that a queued payout could still be voided, so it stays hidden.
   */
  readonly revealSecret?: string | null;
  /** When the order last changed: its last event's recorded_at. */
  readonly updatedAt?: string | null;
  readonly quoteLeg?: QuoteLegResource | null;
}

/** "RTC/USDC" → "USDC": the currency the price and total are quoted in. */
export function quoteCurrencyOf(pair: string | null): string | null {
  if (pair === null) return null;
  return pair.split('/')[1] ?? null;
}

export function toOrderResource(state: PlacedOrder, version: bigint, options: OrderResourceOptions = {}): OrderResource {
  return resourceOfFacts(orderFacts(state), version, options);
}

/** The resource from an order's summary. */
export function resourceOfFacts(f: OrderSummary, version: bigint, options: OrderResourceOptions = {}): OrderResource {
  const secret = f.status === 'completed' ? (options.revealSecret ?? null) : null;
  return {
    order_id: f.orderId,
    side: f.side,
    pair: f.pair,
    quote_currency: quoteCurrencyOf(f.pair),
    status: f.status,
    version: Number(version),
    maker_wallet: f.makerWallet,
    taker_wallet: f.takerWallet,
    seller_wallet: f.sellerWallet,
    buyer_wallet: f.buyerWallet,
    maker_eth_address: f.makerEthAddress,
    taker_eth_address: f.takerEthAddress,
    amount_rtc: formatRtc(f.amountMicroRtc),
    amount_micro_rtc: f.amountMicroRtc.toString(),
    price_per_rtc: formatQuote(f.pricePerRtcNanoQuote),
    price_per_rtc_nano_quote: f.pricePerRtcNanoQuote.toString(),
    total_quote: formatQuote(f.totalQuoteNano),
    total_quote_nano: f.totalQuoteNano.toString(),
    htlc_hash: f.htlcHash,
    htlc_secret: secret,
    escrow: { job_id: f.escrow.jobId, status: f.escrow.status },
    payout: { key: f.payout.key, status: f.payout.status, tx_hash: f.payout.txHash },
    quote_tx: f.quoteTx,
    created_at: f.createdAt,
    expires_at: f.expiresAt,
    matched_at: f.matchedAt,
    settle_by: f.settleBy,
    completed_at: f.completedAt,
    updated_at: options.updatedAt ?? null,
    quote_leg: options.quoteLeg ?? null,
  };
}

/** An order as a read model stores it (see projections/orders.ts). */
export interface StoredOrderView {
  readonly summary: OrderSummary;
  readonly version: bigint;
  readonly updatedAt: string;
  readonly secretCiphertext: string | null;
  readonly quoteLeg?: QuoteLegFacts | null;
}

/**
 * The resource of a stored order; `reveal` decrypts the preimage, asked only for completed orders;
 * `quoteLegOf` turns the stored quote-leg facts into `quote_leg` (absent: null, as before).
 */
export function resourceOfStored(
  stored: StoredOrderView,
  reveal?: (orderId: string, ciphertext: string) => string | null,
  quoteLegOf?: (summary: OrderSummary, leg: QuoteLegFacts | null) => QuoteLegResource,
): OrderResource {
  const { summary, secretCiphertext } = stored;
  const revealSecret = summary.status === 'completed' && secretCiphertext !== null ? (reveal?.(summary.orderId, secretCiphertext) ?? null) : null;
  const quoteLeg = quoteLegOf?.(summary, stored.quoteLeg ?? null) ?? null;
  return resourceOfFacts(summary, stored.version, { revealSecret, updatedAt: stored.updatedAt, quoteLeg });
}

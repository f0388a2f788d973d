import { buyerWallet, sellerWallet, type OrderState } from '../aggregates/order/state.js';
import { formatQuote, formatRtc } from '../aggregates/order/money.js';
import type { EscrowStatus, OrderStatus, PayoutStatus } from '../aggregates/order/state.js';

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
}

export interface OrderResourceOptions {
  /**
   * The preimage, already decrypted by the caller. It is shown only once the payout is confirmed
   * (status completed); before that a queued payout could still be voided, so it stays hidden.
   */
  readonly revealSecret?: string | null;
}

/** "RTC/USDC" → "USDC": the currency the price and total are quoted in. */
export function quoteCurrencyOf(pair: string | null): string | null {
  if (pair === null) return null;
  return pair.split('/')[1] ?? null;
}

export function toOrderResource(state: OrderState, version: bigint, options: OrderResourceOptions = {}): OrderResource {
  const secret = state.status === 'completed' ? (options.revealSecret ?? null) : null;
  return {
    order_id: state.orderId ?? '',
    side: state.side,
    pair: state.pair,
    quote_currency: quoteCurrencyOf(state.pair),
    status: state.status,
    version: Number(version),
    maker_wallet: state.makerWallet,
    taker_wallet: state.takerWallet,
    seller_wallet: state.side === null ? null : sellerWallet(state),
    buyer_wallet: state.side === null ? null : buyerWallet(state),
    maker_eth_address: state.makerEthAddress,
    taker_eth_address: state.takerEthAddress,
    amount_rtc: formatRtc(state.amountMicroRtc),
    amount_micro_rtc: state.amountMicroRtc.toString(),
    price_per_rtc: formatQuote(state.pricePerRtcNanoQuote),
    price_per_rtc_nano_quote: state.pricePerRtcNanoQuote.toString(),
    total_quote: formatQuote(state.totalQuoteNano),
    total_quote_nano: state.totalQuoteNano.toString(),
    htlc_hash: state.htlcHash,
    htlc_secret: secret,
    escrow: { job_id: state.escrow.jobId, status: state.escrow.status },
    payout: { key: state.payout.key, status: state.payout.status, tx_hash: state.payout.txHash },
    quote_tx: state.quoteTx,
    created_at: state.createdAt,
    expires_at: state.expiresAt,
    matched_at: state.matchedAt,
    settle_by: state.settleBy,
    completed_at: state.completedAt,
    updated_at: state.updatedAt,
  };
}

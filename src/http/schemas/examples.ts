import { htlcHashOf } from '../../crypto/preimage.js';
import { walletFromSeed } from '../../crypto/signer.js';
import { signedMessage, type WalletAction } from '../../crypto/walletAuth.js';
import { chainHash, GENESIS_HASH } from '../../eventstore/hashChain.js';
import type { JsonValue } from '../../eventstore/types.js';

/**
 * Examples for the OpenAPI document, computed rather than typed in: the signatures are real
 * Ed25519 signatures by two fixed development keys, so a client author can check their own signing
 * code against them (tests/http/openapi.test.ts verifies them, and that docs/PROTOCOL.md shows the
 * same worked example). The timestamps are in the past, so a server would answer
 * wallet_auth_timestamp_expired: sign with the current time.
 */

/** Development keys only: anyone can derive these wallets, never fund them. */
export const EXAMPLE_SELLER_SEED_HEX = '01'.repeat(32);
export const EXAMPLE_BUYER_SEED_HEX = '02'.repeat(32);
const seller = walletFromSeed(EXAMPLE_SELLER_SEED_HEX);
const buyer = walletFromSeed(EXAMPLE_BUYER_SEED_HEX);

export const EXAMPLE_ORDER_ID = 'otc_5f3c9a1e0b7d2468';
/** 2026-01-01T00:00:00Z. */
export const EXAMPLE_TIMESTAMP = 1_767_225_600;
export const EXAMPLE_SECRET_HEX = '7c'.repeat(32);
const EXAMPLE_HTLC_HASH = htlcHashOf(EXAMPLE_SECRET_HEX);
const QUOTE_TX = '0x9f1b3c5d7e9fa1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182930';
const ETH_ADDRESS = '0x52908400098527886E0F7030069857D2E4169EE7';

/** One signed request, with every intermediate value a client author needs to reproduce it. */
export interface WorkedSignature {
  readonly seedHex: string;
  readonly publicKeyHex: string;
  readonly wallet: string;
  readonly action: WalletAction;
  readonly orderId: string;
  readonly timestamp: number;
  readonly bound: Readonly<Record<string, JsonValue>>;
  readonly message: string;
  readonly signatureHex: string;
}

function worked(seedHex: string, action: WalletAction, orderId: string, bound: Readonly<Record<string, JsonValue>>): WorkedSignature {
  const key = walletFromSeed(seedHex);
  const auth = key.sign(action, orderId, bound, EXAMPLE_TIMESTAMP);
  return {
    seedHex, publicKeyHex: key.publicKeyHex, wallet: key.wallet, action, orderId, timestamp: EXAMPLE_TIMESTAMP, bound,
    message: signedMessage(action, orderId, key.wallet, EXAMPLE_TIMESTAMP, bound),
    signatureHex: auth.signature,
  };
}

/** The worked example of the reference and of docs/PROTOCOL.md: a sell order of 100 RTC at 0.1 USDC. */
export const WORKED_PLACE = worked(EXAMPLE_SELLER_SEED_HEX, 'create_order', 'create_order', {
  side: 'sell', pair: 'RTC/USDC', amount_micro_rtc: 100_000_000, price_per_rtc_nano_quote: 100_000_000,
  ttl_seconds: 604_800, eth_address: '', htlc_hash: '',
});

const authOf = (w: WorkedSignature) => ({ public_key: w.publicKeyHex, signature: w.signatureHex, timestamp: w.timestamp });

const MATCH = worked(EXAMPLE_BUYER_SEED_HEX, 'match_order', EXAMPLE_ORDER_ID, { eth_address: ETH_ADDRESS, htlc_hash: '' });
export const WORKED_CONFIRM = worked(EXAMPLE_SELLER_SEED_HEX, 'confirm_settlement', EXAMPLE_ORDER_ID, { quote_tx: QUOTE_TX, secret_sha256: EXAMPLE_HTLC_HASH });
const CANCEL = worked(EXAMPLE_SELLER_SEED_HEX, 'cancel_order', EXAMPLE_ORDER_ID, {});
const REARM = worked(EXAMPLE_SELLER_SEED_HEX, 'rearm_order', EXAMPLE_ORDER_ID, { htlc_hash: '' });

export const requestExamples = {
  place: { side: 'sell', pair: 'RTC/USDC', wallet: seller.wallet, amount_rtc: '100', price_per_rtc: '0.1', ttl_seconds: 604_800, wallet_auth: authOf(WORKED_PLACE) },
  match: { wallet: buyer.wallet, eth_address: ETH_ADDRESS, wallet_auth: authOf(MATCH) },
  confirm: { wallet: seller.wallet, quote_tx: QUOTE_TX, secret: EXAMPLE_SECRET_HEX, wallet_auth: authOf(WORKED_CONFIRM) },
  cancel: { wallet: seller.wallet, wallet_auth: authOf(CANCEL) },
  rearm: { wallet: seller.wallet, wallet_auth: authOf(REARM) },
  redrive: { operator: 'alice@desk', reason: 'node confirmed the payout job was lost; retrying' },
} as const;

const at = (seconds: number) => new Date((EXAMPLE_TIMESTAMP + seconds) * 1000).toISOString();

type Status = 'open' | 'matched' | 'completed' | 'payout_pending' | 'settlement_recovery' | 'cancelled';

/** The order resource at a point of its life, as the server shows it. */
export function exampleOrder(status: Status, version: number): Record<string, unknown> {
  const matched = status !== 'open' && status !== 'cancelled';
  const done = status === 'completed';
  return {
    order_id: EXAMPLE_ORDER_ID, side: 'sell', pair: 'RTC/USDC', quote_currency: 'USDC', status, version,
    maker_wallet: seller.wallet, taker_wallet: matched ? buyer.wallet : null,
    seller_wallet: seller.wallet, buyer_wallet: matched ? buyer.wallet : null,
    maker_eth_address: null, taker_eth_address: matched ? ETH_ADDRESS : null,
    amount_rtc: '100.000000', amount_micro_rtc: '100000000', price_per_rtc: '0.100000000', price_per_rtc_nano_quote: '100000000',
    total_quote: '10.000000000', total_quote_nano: '10000000000',
    htlc_hash: EXAMPLE_HTLC_HASH, htlc_secret: done ? EXAMPLE_SECRET_HEX : null,
    escrow: { job_id: 'job_8d2f41', status: status === 'cancelled' ? 'refunded' : matched && status !== 'matched' ? 'released' : 'locked' },
    payout: { key: matched && status !== 'matched' ? `payout-${EXAMPLE_ORDER_ID}` : null, status: done ? 'confirmed' : status === 'payout_pending' ? 'queued' : 'none', tx_hash: done ? 'tx_51aa09' : null },
    quote_tx: matched && status !== 'matched' ? QUOTE_TX : null,
    created_at: at(0), expires_at: at(604_800), matched_at: matched ? at(600) : null, settle_by: matched ? at(600 + 86_400) : null,
    completed_at: done ? at(1200) : null, updated_at: at(status === 'open' ? 0 : 1200),
    quote_leg: {
      mode: 'manual', chain_id: null, contract: null, token: null, amount_base_units: null, lock_by: null, timelock_min: null, timelock_max: null,
      status: null, swap_id: null, lock_tx: null, claim_tx: null, refund_tx: null, rejected_locks: [],
    },
  };
}

const PLACED_DATA = {
  order_id: EXAMPLE_ORDER_ID, side: 'sell', pair: 'RTC/USDC', maker_wallet: seller.wallet, amount_micro_rtc: '100000000',
  price_per_rtc_nano_quote: '100000000', htlc_hash: EXAMPLE_HTLC_HASH, expires_at: at(604_800),
};
const LOCKED_DATA = { party: 'maker', job_id: 'job_8d2f41' };
const PLACED_HASH = chainHash(GENESIS_HASH, { stream: `order-${EXAMPLE_ORDER_ID}`, version: 1n, type: 'OrderPlaced', data: PLACED_DATA });
const LOCKED_HASH = chainHash(PLACED_HASH, { stream: `order-${EXAMPLE_ORDER_ID}`, version: 2n, type: 'EscrowLocked', data: LOCKED_DATA });
const PLACED_ID = '0b6f7c1e-2f4a-4d1b-9c57-3f0e7f3b9a01';

/** Two events of a history; their hashes are computed by the ledger's own chain function. */
export const exampleHistory = {
  ok: true, order_id: EXAMPLE_ORDER_ID, chain_valid: true,
  events: [
    {
      version: 1, type: 'OrderPlaced', recorded_at: at(0), actor: seller.wallet, status_after: 'escrow_pending',
      event_id: PLACED_ID, correlation_id: 'client-req-0001', causation_id: null, prev_hash: GENESIS_HASH, hash: PLACED_HASH,
      data: PLACED_DATA, problem: null,
    },
    {
      version: 2, type: 'EscrowLocked', recorded_at: at(1), actor: 'ledger', status_after: 'open',
      event_id: '5d0e2a9b-7c3f-4e81-a6d2-91b4c8e7f302', correlation_id: 'client-req-0001', causation_id: PLACED_ID,
      prev_hash: PLACED_HASH, hash: LOCKED_HASH, data: LOCKED_DATA, problem: null,
    },
  ],
};

export const exampleTrade = {
  trade_id: `trade_${EXAMPLE_ORDER_ID}`, order_id: EXAMPLE_ORDER_ID, pair: 'RTC/USDC', side: 'sell', amount_rtc: '100.000000',
  price_per_rtc: '0.100000000', total_quote: '10.000000000', seller_wallet: seller.wallet, buyer_wallet: buyer.wallet,
  quote_tx: QUOTE_TX, payout_tx_hash: 'tx_51aa09', completed_at: at(1200),
};

export const exampleBook = {
  pair: 'RTC/USDC',
  asks: [{ price: '0.100000000', total_rtc: '100.000000', order_count: 1 }],
  bids: [{ price: '0.095000000', total_rtc: '40.000000', order_count: 2 }],
  best_ask: '0.100000000', best_bid: '0.095000000', spread: '0.005000000', last_price: '0.098000000',
  volume_24h_rtc: '250.000000', trades_24h: 3,
};

export const exampleStats = {
  pair: 'RTC/USDC', total_trades: 12, total_volume_rtc: '1200.000000', volume_24h_rtc: '250.000000', volume_7d_rtc: '900.000000',
  last_price: '0.098000000', high_24h: '0.101000000', low_24h: '0.094000000',
  open_sells: { count: 3, total_rtc: '300.000000' }, open_buys: { count: 2, total_rtc: '40.000000' },
};

export const exampleRecoveryEntry = {
  order_id: EXAMPLE_ORDER_ID, status: 'settlement_recovery', version: 5, last_event_at: at(1200), idle_ms: 600_000, attempts: 3,
  last_error: 'payout refused: insufficient_funds', recovery_reason: 'payout_refused',
};

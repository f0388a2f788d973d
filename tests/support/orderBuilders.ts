import {
  totalQuoteNano,
  tradeIdFor,
  type CancelOrder,
  type ConfirmSettlement,
  type Deadline,
  type EscrowLocked,
  type EscrowLockFailed,
  type EscrowReleased,
  type ExpireOrder,
  type MatchAborted,
  type Matched,
  type MatchOrder,
  type NodeCallFailed,
  type OperatorRedriveRequested,
  type OrderCancelled,
  type OrderEvent,
  type OrderExpired,
  type OrderPlaced,
  type Party,
  type PayoutConfirmed,
  type PayoutQueued,
  type PayoutVoided,
  type PlaceOrder,
  type RecordEscrowLocked,
  type RecordEscrowLockFailed,
  type RecordEscrowReleased,
  type RecordNodeCallFailed,
  type RecordPayoutStatus,
  type RecordRefundIssued,
  type RefundIssued,
  type RequestRedrive,
  type RequireRecovery,
  type RevertSettlement,
  type SettlementClaimed,
  type SettlementRecoveryRequired,
  type SettlementReverted,
  type Side,
} from '../../src/aggregates/order/index.js';
import { htlcHashOf } from '../../src/crypto/preimage.js';

/**
 * Event and command builders for the order decider's tests: sensible defaults (one sell or buy
 * order of 100 RTC at 0.1 USDC, placed at a fixed time) and overrides for what a test is about.
 */

export const ORDER_ID = 'otc_0123456789abcdef';
export { MAKER, STRANGER, TAKER } from './wallets.js';
import { MAKER, TAKER } from './wallets.js';
/** The same wallets with their hex upper-cased: the same owners, never someone else. */
export const upperHex = (wallet: string): string => `RTC${wallet.slice(3).toUpperCase()}`;

export const sha256Hex = htlcHashOf;
/** The maker's preimage of a sell order, and the taker's of a buy order. */
export const MAKER_SECRET = '11'.repeat(32);
export const MAKER_HTLC_HASH = sha256Hex(MAKER_SECRET);
export const TAKER_SECRET = '22'.repeat(32);
export const TAKER_HTLC_HASH = sha256Hex(TAKER_SECRET);
export const WRONG_SECRET = '33'.repeat(32);

export const AMOUNT_MICRO_RTC = 100_000_000n; // 100 RTC
export const PRICE_NANO_QUOTE = 100_000_000n; // 0.1 USDC per RTC
export const TTL_SECONDS = 7 * 86_400;
export const SETTLE_WINDOW_SECONDS = 86_400;

export const PLACED_AT = new Date('2025-03-01T12:00:00.000Z');
export const EXPIRES_AT = new Date(PLACED_AT.getTime() + TTL_SECONDS * 1000);
export const MATCHED_AT = new Date('2025-03-02T12:00:00.000Z');
export const SETTLE_BY = new Date(MATCHED_AT.getTime() + SETTLE_WINDOW_SECONDS * 1000);
export const LATER = new Date('2025-03-02T13:00:00.000Z');
export const at = (date: Date, seconds = 0): Date => new Date(date.getTime() + seconds * 1000);

export const MAKER_JOB = 'job_maker_0001';
export const TAKER_JOB = 'job_taker_0001';
export const jobOf = (party: Party): string => (party === 'maker' ? MAKER_JOB : TAKER_JOB);
export const PAYOUT_KEY = `otc_payout:${ORDER_ID}`;
export const PAYOUT_TX = 'f00dfeedf00dfeedf00dfeedf00dfeed';
export const QUOTE_TX = '0xquote000000000000000000000000000000000000000000000000000000beef';
export const CIPHERTEXT = 'v1:ciphertext-of-the-preimage';
export const TRADE_ID = tradeIdFor(ORDER_ID);

type DataOf<E extends OrderEvent> = Partial<E['data']>;

// ---- events ----

function placed(side: Side, overrides: DataOf<OrderPlaced>): OrderPlaced {
  return {
    type: 'OrderPlaced',
    data: {
      order_id: ORDER_ID,
      side,
      pair: 'RTC/USDC',
      maker_wallet: MAKER,
      amount_micro_rtc: AMOUNT_MICRO_RTC.toString(),
      price_per_rtc_nano_quote: PRICE_NANO_QUOTE.toString(),
      total_quote_nano: totalQuoteNano(AMOUNT_MICRO_RTC, PRICE_NANO_QUOTE).toString(),
      maker_eth_address: '0x' + 'ab'.repeat(20),
      htlc_hash: side === 'sell' ? MAKER_HTLC_HASH : null,
      ttl_seconds: TTL_SECONDS,
      placed_at: PLACED_AT.toISOString(),
      expires_at: EXPIRES_AT.toISOString(),
      ...overrides,
    },
  };
}

export const placedSell = (overrides: DataOf<OrderPlaced> = {}): OrderPlaced => placed('sell', overrides);
export const placedBuy = (overrides: DataOf<OrderPlaced> = {}): OrderPlaced => placed('buy', overrides);

export const escrowLocked = (party: Party, overrides: DataOf<EscrowLocked> = {}): EscrowLocked => ({
  type: 'EscrowLocked',
  data: {
    party,
    job_id: jobOf(party),
    amount_micro_rtc: AMOUNT_MICRO_RTC.toString(),
    locked_at: (party === 'maker' ? PLACED_AT : MATCHED_AT).toISOString(),
    ...overrides,
  },
});

export const escrowLockFailed = (party: Party, reason = 'insufficient balance'): EscrowLockFailed => ({
  type: 'EscrowLockFailed',
  data: { party, reason },
});

/** Matched on a sell order (no htlc_hash: the maker's is used). */
export const matched = (overrides: DataOf<Matched> = {}): Matched => ({
  type: 'Matched',
  data: {
    taker_wallet: TAKER,
    taker_eth_address: '0x' + 'cd'.repeat(20),
    htlc_hash: null,
    matched_at: MATCHED_AT.toISOString(),
    settle_by: SETTLE_BY.toISOString(),
    ...overrides,
  },
});

/** Matched on a buy order: the taker sells and brings the htlc_hash. */
export const matchedBuy = (overrides: DataOf<Matched> = {}): Matched => matched({ htlc_hash: TAKER_HTLC_HASH, ...overrides });

export const matchAborted = (reason = 'insufficient balance'): MatchAborted => ({ type: 'MatchAborted', data: { reason } });

export const settlementClaimed = (overrides: DataOf<SettlementClaimed> = {}): SettlementClaimed => ({
  type: 'SettlementClaimed',
  data: { quote_tx: QUOTE_TX, secret_ciphertext: CIPHERTEXT, claimed_at: LATER.toISOString(), ...overrides },
});

export const escrowReleased = (party: Party, overrides: DataOf<EscrowReleased> = {}): EscrowReleased => ({
  type: 'EscrowReleased',
  data: { job_id: jobOf(party), released_at: LATER.toISOString(), ...overrides },
});

export const settlementReverted = (reason = 'escrow release refused'): SettlementReverted => ({
  type: 'SettlementReverted',
  data: { reason },
});

export const payoutQueued = (to: string, overrides: DataOf<PayoutQueued> = {}): PayoutQueued => ({
  type: 'PayoutQueued',
  data: {
    payout_key: PAYOUT_KEY,
    tx_hash: PAYOUT_TX,
    to,
    amount_micro_rtc: AMOUNT_MICRO_RTC.toString(),
    queued_at: LATER.toISOString(),
    ...overrides,
  },
});

export const payoutConfirmed = (overrides: DataOf<PayoutConfirmed> = {}): PayoutConfirmed => ({
  type: 'PayoutConfirmed',
  data: { payout_key: PAYOUT_KEY, tx_hash: PAYOUT_TX, confirmed_at: LATER.toISOString(), trade_id: TRADE_ID, ...overrides },
});

export const payoutVoided = (overrides: DataOf<PayoutVoided> = {}): PayoutVoided => ({
  type: 'PayoutVoided',
  data: { payout_key: PAYOUT_KEY, reason: 'the node voided the queued transfer', ...overrides },
});

export const recoveryRequired = (reason = 'release_outcome_unknown', detail = 'timeout'): SettlementRecoveryRequired => ({
  type: 'SettlementRecoveryRequired',
  data: { reason, detail },
});

export const redriveRequested = (operator = 'alice', reason = 'node is back'): OperatorRedriveRequested => ({
  type: 'OperatorRedriveRequested',
  data: { operator, reason },
});

export const orderCancelled = (by = MAKER): OrderCancelled => ({
  type: 'OrderCancelled',
  data: { by, cancelled_at: LATER.toISOString() },
});

export const orderExpired = (deadline: Deadline): OrderExpired => ({
  type: 'OrderExpired',
  data: { deadline, expired_at: (deadline === 'expires_at' ? EXPIRES_AT : SETTLE_BY).toISOString() },
});

export const refundIssued = (party: Party, overrides: DataOf<RefundIssued> = {}): RefundIssued => ({
  type: 'RefundIssued',
  data: { party, job_id: jobOf(party), refunded_at: LATER.toISOString(), ...overrides },
});

export const nodeCallFailed = (overrides: DataOf<NodeCallFailed> = {}): NodeCallFailed => ({
  type: 'NodeCallFailed',
  data: { step: 'release', key: `otc_release:${ORDER_ID}`, outcome: 'unknown', reason: 'timeout', ...overrides },
});

// ---- commands ----

export const placeOrder = (side: Side, overrides: Partial<PlaceOrder> = {}): PlaceOrder => ({
  type: 'PlaceOrder',
  orderId: ORDER_ID,
  side,
  pair: 'RTC/USDC',
  makerWallet: MAKER,
  amountMicroRtc: AMOUNT_MICRO_RTC,
  pricePerRtcNanoQuote: PRICE_NANO_QUOTE,
  ttlSeconds: TTL_SECONDS,
  makerEthAddress: '0x' + 'ab'.repeat(20),
  htlcHash: side === 'sell' ? MAKER_HTLC_HASH : null,
  now: PLACED_AT,
  ...overrides,
});

export const matchOrder = (side: Side, overrides: Partial<MatchOrder> = {}): MatchOrder => ({
  type: 'MatchOrder',
  takerWallet: TAKER,
  takerEthAddress: '0x' + 'cd'.repeat(20),
  htlcHash: side === 'buy' ? TAKER_HTLC_HASH : null,
  settleWindowSeconds: SETTLE_WINDOW_SECONDS,
  now: MATCHED_AT,
  ...overrides,
});

export const cancelOrder = (wallet = MAKER, now = LATER): CancelOrder => ({ type: 'CancelOrder', wallet, now });

export const confirmSettlement = (wallet: string, secret: string, overrides: Partial<ConfirmSettlement> = {}): ConfirmSettlement => ({
  type: 'ConfirmSettlement',
  wallet,
  quoteTx: QUOTE_TX,
  secret,
  secretCiphertext: CIPHERTEXT,
  now: LATER,
  ...overrides,
});

export const recordEscrowLocked = (party: Party, jobId = jobOf(party), now = LATER): RecordEscrowLocked => ({
  type: 'RecordEscrowLocked',
  party,
  jobId,
  now,
});

export const recordEscrowLockFailed = (party: Party, reason = 'insufficient balance'): RecordEscrowLockFailed => ({
  type: 'RecordEscrowLockFailed',
  party,
  reason,
});

export const recordEscrowReleased = (jobId: string, now = LATER): RecordEscrowReleased => ({ type: 'RecordEscrowReleased', jobId, now });

export const revertSettlement = (reason = 'escrow release refused'): RevertSettlement => ({ type: 'RevertSettlement', reason });

export const recordPayoutStatus = (
  phase: RecordPayoutStatus['phase'],
  payoutKey = PAYOUT_KEY,
  overrides: Partial<RecordPayoutStatus> = {},
): RecordPayoutStatus => ({ type: 'RecordPayoutStatus', payoutKey, txHash: PAYOUT_TX, phase, now: LATER, ...overrides });

export const requireRecovery = (reason = 'release_outcome_unknown', detail = 'timeout'): RequireRecovery => ({
  type: 'RequireRecovery',
  reason,
  detail,
});

export const requestRedrive = (operator = 'alice', reason = 'node is back'): RequestRedrive => ({ type: 'RequestRedrive', operator, reason });

export const expireOrder = (now: Date): ExpireOrder => ({ type: 'ExpireOrder', now });

export const recordRefundIssued = (party: Party, jobId = jobOf(party), now = LATER): RecordRefundIssued => ({
  type: 'RecordRefundIssued',
  party,
  jobId,
  now,
});

export const recordNodeCallFailed = (overrides: Partial<RecordNodeCallFailed> = {}): RecordNodeCallFailed => ({
  type: 'RecordNodeCallFailed',
  step: 'release',
  key: `otc_release:${ORDER_ID}`,
  outcome: 'unknown',
  reason: 'timeout',
  ...overrides,
});

// ---- histories, per side ----

/**
 * One side of the trade, with the roles that differ between sell and buy orders: who sells (locks
 * escrow, owns the preimage, confirms) and who buys (receives the payout), and the histories that
 * bring an order of that side to each status.
 */
export interface SideScenario {
  readonly side: Side;
  readonly seller: string;
  readonly buyer: string;
  readonly sellerParty: Party;
  readonly sellerJob: string;
  readonly secret: string;
  readonly htlcHash: string;
  readonly open: () => OrderEvent[];
  readonly matched: () => OrderEvent[];
  readonly settling: () => OrderEvent[];
  readonly released: () => OrderEvent[];
  readonly payoutPending: () => OrderEvent[];
  readonly completed: () => OrderEvent[];
  readonly recoveryAfterVoid: () => OrderEvent[];
  /** Matched, unclaimed past settle_by: expired and waiting for the seller's refund. */
  readonly expiredRefundPending: () => OrderEvent[];
  readonly expiredRefunded: () => OrderEvent[];
}

const sellOpen = (): OrderEvent[] => [placedSell(), escrowLocked('maker')];
const buyOpen = (): OrderEvent[] => [placedBuy()];

function scenario(side: Side): SideScenario {
  const sell = side === 'sell';
  const seller = sell ? MAKER : TAKER;
  const buyer = sell ? TAKER : MAKER;
  const sellerParty: Party = sell ? 'maker' : 'taker';
  const open = sell ? sellOpen : buyOpen;
  const matchedHistory = (): OrderEvent[] => (sell ? [...sellOpen(), matched()] : [...buyOpen(), matchedBuy(), escrowLocked('taker')]);
  const settling = (): OrderEvent[] => [...matchedHistory(), settlementClaimed()];
  const released = (): OrderEvent[] => [...settling(), escrowReleased(sellerParty)];
  const payoutPending = (): OrderEvent[] => [...released(), payoutQueued(buyer)];
  return {
    side,
    seller,
    buyer,
    sellerParty,
    sellerJob: jobOf(sellerParty),
    secret: sell ? MAKER_SECRET : TAKER_SECRET,
    htlcHash: sell ? MAKER_HTLC_HASH : TAKER_HTLC_HASH,
    open,
    matched: matchedHistory,
    settling,
    released,
    payoutPending,
    completed: () => [...payoutPending(), payoutConfirmed()],
    recoveryAfterVoid: () => [...payoutPending(), payoutVoided()],
    expiredRefundPending: () => [...matchedHistory(), orderExpired('settle_by')],
    expiredRefunded: () => [...matchedHistory(), orderExpired('settle_by'), refundIssued(sellerParty)],
  };
}

export const SELL = scenario('sell');
export const BUY = scenario('buy');
export const SCENARIOS: readonly SideScenario[] = [SELL, BUY];

/** Histories that end in each terminal status. */
export const TERMINAL_HISTORIES: ReadonlyArray<readonly [string, () => OrderEvent[]]> = [
  ['completed sell', SELL.completed],
  ['completed buy', BUY.completed],
  ['cancelled sell (refunded)', () => [...sellOpen(), orderCancelled(), refundIssued('maker')]],
  ['cancelled buy (no escrow)', () => [...buyOpen(), orderCancelled()]],
  ['expired sell at expires_at (refunded)', () => [...sellOpen(), orderExpired('expires_at'), refundIssued('maker')]],
  ['expired buy at expires_at (no escrow)', () => [...buyOpen(), orderExpired('expires_at')]],
  ['expired sell at settle_by (refunded)', SELL.expiredRefunded],
  ['expired buy at settle_by (refunded)', BUY.expiredRefunded],
  ['rejected sell', () => [placedSell(), escrowLockFailed('maker')]],
];

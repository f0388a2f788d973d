import type * as E from './events.js';
import type { OrderEvent } from './events.js';
import {
  InvariantViolation,
  initialState,
  type Claim,
  type Escrow,
  type MatchedOrder,
  type OrderBase,
  type OrderState,
  type OrderStatus,
  type ParkedOrder,
  type QuoteLeg,
  type RecoveryOrder,
  type SettlingOrder,
  type Taker,
} from './state.js';
import {
  cancelledOrder, carryOf, completedOrder, expiredOrder, lapsedOrder, matchedOrder, matchingOrder, openBuy, openSell,
  payoutPendingOrder, recoveryOrder, refundPendingOrder, rejectedOrder, settlingOrder, type Carry,
} from './shapes.js';
import { isRefundHold, REFUND_HOLD_REASON } from './chainTime.js';

/**
 * A recorded event that cannot follow the state before it: a stream written by something other
 * than this decider (a forger with the store, a bug). Folding stops there; readers report it.
 */
export class EventDoesNotApply extends InvariantViolation {
  constructor(readonly eventType: string, readonly status: OrderStatus, detail = '') {
    super(`${eventType} does not apply to an order that is ${status}${detail === '' ? '' : ` (${detail})`}`);
    this.name = 'EventDoesNotApply';
  }
}

type In<S extends OrderStatus> = Extract<OrderState, { status: S }>;

/** Narrows the state to the statuses an event may follow, or throws EventDoesNotApply. */
function expectStatus<S extends OrderStatus>(state: OrderState, event: OrderEvent, statuses: readonly S[]): asserts state is In<S> {
  if (!(statuses as readonly OrderStatus[]).includes(state.status)) throw new EventDoesNotApply(event.type, state.status);
}

/**
 * Folds one event into the state. Every event type has its case, and the `never` check makes the
 * compiler refuse an event type nobody handles. An event the state cannot take is not refused (a
 * recorded fact is never refused) but reported: EventDoesNotApply stops the fold for its readers.
 */
export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced': return placed(state, event);
    case 'EscrowLocked': return escrowLocked(state, event);
    case 'EscrowLockFailed': return escrowLockFailed(state, event);
    case 'Matched': return matched(state, event);
    case 'MatchAborted': return matchAborted(state, event);
    case 'SettlementClaimed': return settlementClaimed(state, event);
    case 'EscrowReleased': return escrowReleased(state, event);
    case 'SettlementReverted': return settlementReverted(state, event);
    case 'PayoutQueued': return payoutQueued(state, event);
    case 'PayoutConfirmed': return payoutConfirmed(state, event);
    case 'PayoutVoided': return payoutVoided(state, event);
    case 'SettlementRecoveryRequired': return recoveryRequired(state, event);
    case 'OperatorRedriveRequested': return redriveRequested(state, event);
    case 'OrderCancelled': return ended(state, event, 'cancelled');
    case 'OrderExpired': return ended(state, event, 'expired');
    case 'RefundIssued': return refundIssued(state, event);
    case 'NodeCallFailed': return nodeCallFailed(state, event);
    case 'QuoteLockObserved': return quoteLockObserved(state, event);
    case 'QuoteLockRejected': return quoteLockRejected(state, event);
    case 'QuoteClaimObserved': return quoteClaimObserved(state, event);
    case 'QuoteRefundObserved': return quoteRefundObserved(state, event);
    case 'EscrowHeld': return escrowHeld(state, event);
    case 'MatchLapsed': return matchLapsed(state, event);
    case 'OrderRearmed': return orderRearmed(state, event);
    case 'QuoteObservationReorged': return quoteObservationReorged(state, event);
    case 'RefundHoldReleased': return refundHoldReleased(state, event);
    default: return unhandled(event);
  }
}

function unhandled(event: never): never {
  throw new InvariantViolation(`no case for event ${JSON.stringify(event)}`);
}

function placed(state: OrderState, event: E.OrderPlaced): OrderState {
  expectStatus(state, event, ['none']);
  const d = event.data;
  const terms: OrderBase = {
    orderId: d.order_id, side: d.side, pair: d.pair, makerWallet: d.maker_wallet, makerEthAddress: d.maker_eth_address,
    amountMicroRtc: BigInt(d.amount_micro_rtc), pricePerRtcNanoQuote: BigInt(d.price_per_rtc_nano_quote),
    totalQuoteNano: BigInt(d.total_quote_nano), ttlSeconds: d.ttl_seconds, createdAt: d.placed_at, expiresAt: d.expires_at,
    attempts: 0, lastError: null, quoteLeg: null,
  };
  if (d.side === 'buy') {
    if (d.htlc_hash !== null) throw new EventDoesNotApply(event.type, state.status, 'a buy order is placed without htlc_hash');
    return openBuy(terms, terms);
  }
  if (d.htlc_hash === null) throw new EventDoesNotApply(event.type, state.status, 'a sell order is placed with its htlc_hash');
  return { ...terms, status: 'escrow_pending', side: 'sell', htlcHash: d.htlc_hash };
}

function escrowLocked(state: OrderState, event: E.EscrowLocked): OrderState {
  expectStatus(state, event, ['escrow_pending', 'matching']);
  const d = event.data;
  const escrow: Escrow = { party: d.party, jobId: d.job_id, amountMicroRtc: BigInt(d.amount_micro_rtc) };
  if (state.status === 'escrow_pending' && d.party === 'maker') return openSell(state, carryOf(state, true), state.htlcHash, escrow);
  if (state.status === 'matching' && d.party === 'taker') return matchedOrder(state, carryOf(state, true), state.htlcHash, state.taker, escrow, null);
  throw new EventDoesNotApply(event.type, state.status, `no ${d.party} escrow is being locked`);
}

function escrowLockFailed(state: OrderState, event: E.EscrowLockFailed): OrderState {
  expectStatus(state, event, ['escrow_pending', 'matching']);
  const failure: Carry = { attempts: 0, lastError: event.data.reason, quoteLeg: state.quoteLeg };
  if (state.status === 'escrow_pending' && event.data.party === 'maker') return rejectedOrder(state, failure, state.htlcHash);
  // A buy order's taker could not lock: MatchAborted, decided with this event, puts it back on the book.
  if (state.status === 'matching' && event.data.party === 'taker') return matchingOrder(state, failure, state.htlcHash, state.taker);
  throw new EventDoesNotApply(event.type, state.status, `no ${event.data.party} escrow is being locked`);
}

function matched(state: OrderState, event: E.Matched): OrderState {
  expectStatus(state, event, ['open']);
  const d = event.data;
  const taker = { wallet: d.taker_wallet, ethAddress: d.taker_eth_address, matchedAt: d.matched_at, settleBy: d.settle_by };
  const quoteLeg: QuoteLeg | null = d.quote_leg === undefined ? null : {
    mode: d.quote_leg.mode, chainId: d.quote_leg.chain_id, lockBy: d.quote_leg.lock_by,
    lock: null, rejected: [], claim: null, refunds: [], observed: [],
  };
  const carry: Carry = { attempts: state.attempts, lastError: state.lastError, quoteLeg };
  if (state.side === 'sell') return matchedOrder(state, carry, state.htlcHash, taker, state.escrow, null);
  if (d.htlc_hash === null) throw new EventDoesNotApply(event.type, state.status, 'the taker of a buy order brings the htlc_hash');
  return matchingOrder(state, carry, d.htlc_hash, taker);
}

function matchAborted(state: OrderState, event: E.MatchAborted): OrderState {
  expectStatus(state, event, ['matching']);
  return openBuy(state, NO_QUOTE_LEG);
}

const NO_QUOTE_LEG: Carry = { attempts: 0, lastError: null, quoteLeg: null };
const freshPayouts = { voidedCount: 0, voided: null } as const;

/** A claim accepted on an order whose escrow is held: settling, the escrow's release due (nothing voided yet). */
function settlingFrom(s: OrderBase & { readonly escrow: Escrow }, settlement: { htlcHash: string; taker: Taker }, claim: Claim, c: Carry): SettlingOrder {
  return settlingOrder(s, c, { htlcHash: settlement.htlcHash, taker: settlement.taker, escrow: s.escrow, claim, payouts: freshPayouts }, false);
}

function settlementClaimed(state: OrderState, event: E.SettlementClaimed): OrderState {
  expectStatus(state, event, ['matched']);
  return settlingFrom(state, state, { quoteTx: event.data.quote_tx, secretCiphertext: event.data.secret_ciphertext }, state);
}

/** Released by the driver while settling, or found released by the reconciler while in recovery. */
function escrowReleased(state: OrderState, event: E.EscrowReleased): OrderState {
  expectStatus(state, event, ['settling', 'settlement_recovery']);
  const claimed = state.status === 'settlement_recovery' ? state.parked : state;
  if (claimed.status === 'settling' && !claimed.released) return settlingOrder(claimed, carryOf(claimed, true), claimed, true);
  if (claimed.status === 'matched' && claimed.claim !== null) {
    const { htlcHash, taker, escrow, claim } = claimed;
    return settlingOrder(claimed, carryOf(claimed, true), { htlcHash, taker, escrow, claim, payouts: freshPayouts }, true);
  }
  throw new EventDoesNotApply(event.type, state.status, 'no claimed escrow is held');
}

/** quote_tx and the ciphertext stay as the claim: this order must never be refunded to its seller. */
function settlementReverted(state: OrderState, event: E.SettlementReverted): OrderState {
  expectStatus(state, event, ['settling']);
  if (state.released) throw new EventDoesNotApply(event.type, state.status, 'the escrow was released');
  const reverted: Carry = { attempts: 0, lastError: event.data.reason, quoteLeg: state.quoteLeg };
  return matchedOrder(state, reverted, state.htlcHash, state.taker, state.escrow, state.claim);
}

function payoutQueued(state: OrderState, event: E.PayoutQueued): OrderState {
  expectStatus(state, event, ['settling']);
  if (!state.released) throw new EventDoesNotApply(event.type, state.status, 'the escrow is not released');
  return payoutPendingOrder(state, carryOf(state, true), state, { key: event.data.payout_key, txHash: event.data.tx_hash });
}

function payoutConfirmed(state: OrderState, event: E.PayoutConfirmed): OrderState {
  expectStatus(state, event, ['payout_pending']);
  const payout = { key: state.payout.key, txHash: event.data.tx_hash };
  return completedOrder(state, carryOf(state, true), state, payout, event.data.confirmed_at, event.data.trade_id);
}

/** A void parks the order; a re-drive queues the payout again, under a fresh key. */
function payoutVoided(state: OrderState, event: E.PayoutVoided): OrderState {
  expectStatus(state, event, ['payout_pending']);
  const { htlcHash, taker, escrow, claim } = state;
  const payouts = { voidedCount: state.payouts.voidedCount + 1, voided: state.payout };
  const parked = settlingOrder(state, state, { htlcHash, taker, escrow, claim, payouts }, true);
  return recoveryOrder(state, state, `payout_voided: ${event.data.reason}`, parked);
}

function recoveryRequired(state: OrderState, event: E.SettlementRecoveryRequired): OrderState {
  expectStatus(state, event, ['open', 'matched', 'lapsed', 'settling', 'payout_pending', 'refund_pending', 'settlement_recovery']);
  const parked: ParkedOrder = state.status === 'settlement_recovery' ? state.parked : state;
  return recoveryOrder(state, { attempts: state.attempts, lastError: event.data.detail, quoteLeg: state.quoteLeg }, event.data.reason, parked);
}

/**
 * A re-driven order picks up the work it was doing when it was parked: a refund resumes as a
 * refund (never as a release: nobody claimed settlement), a queued payout with its look-up under
 * the same key, an unclaimed order whose escrow is held as it was, and a reverted claim as settling.
 */
function redriveRequested(state: OrderState, event: E.OperatorRedriveRequested): OrderState {
  expectStatus(state, event, ['settlement_recovery']);
  return resumed(state);
}

function resumed(state: RecoveryOrder): ParkedOrder {
  const parked = state.parked;
  if (parked.status === 'matched' && parked.claim !== null) {
    return settlingFrom(parked, parked, parked.claim, { attempts: 0, lastError: state.lastError, quoteLeg: parked.quoteLeg });
  }
  return { ...parked, attempts: 0, lastError: state.lastError };
}

/** Cancelled or expired: an order whose escrow is held waits for its refund before it ends. */
function ended(state: OrderState, event: E.OrderCancelled | E.OrderExpired, endingAs: 'cancelled' | 'expired'): OrderState {
  expectStatus(state, event, endingAs === 'cancelled' ? ['open', 'lapsed'] : ['open', 'matched', 'lapsed']);
  // A lapsed order keeps its taker: a late lock of theirs claimed during the refund still pays them.
  const taker = state.status === 'matched' || state.status === 'lapsed' ? state.taker : null;
  if (state.escrow !== null) return refundPendingOrder(state, state, state.htlcHash, taker, state.escrow, endingAs);
  if (endingAs === 'cancelled') return cancelledOrder(state, state, state.htlcHash, null);
  return expiredOrder(state, state, state.htlcHash, taker, null);
}

function refundIssued(state: OrderState, event: E.RefundIssued): OrderState {
  expectStatus(state, event, ['refund_pending']);
  if (state.endingAs === 'cancelled') return cancelledOrder(state, carryOf(state, true), state.htlcHash, state.escrow);
  return expiredOrder(state, carryOf(state, true), state.htlcHash, state.taker, state.escrow);
}

function nodeCallFailed(state: OrderState, event: E.NodeCallFailed): OrderState {
  if (state.status === 'none' || state.status === 'completed' || state.status === 'cancelled' || state.status === 'expired' || state.status === 'rejected') {
    throw new EventDoesNotApply(event.type, state.status);
  }
  return { ...state, attempts: state.attempts + 1, lastError: `${event.data.step}: ${event.data.reason}` };
}

// ── The quote leg: facts seen on the chain (quote-chain.md, "What each observation does") ──

type LiveOrder = Exclude<OrderState, { status: 'none' | 'completed' | 'cancelled' | 'expired' | 'rejected' }>;

/** The order with its quote leg changed; in recovery the parked state too, so a re-drive resumes with it. */
function withQuoteLeg(state: OrderState, event: OrderEvent, change: (leg: QuoteLeg) => QuoteLeg): LiveOrder {
  if (state.status === 'none' || state.status === 'completed' || state.status === 'cancelled' || state.status === 'expired' || state.status === 'rejected') {
    throw new EventDoesNotApply(event.type, state.status);
  }
  if (state.quoteLeg === null) throw new EventDoesNotApply(event.type, state.status, 'the order has no chain-verified quote leg');
  const leg = change(state.quoteLeg);
  if (state.status === 'settlement_recovery') return { ...state, quoteLeg: leg, parked: { ...state.parked, quoteLeg: leg } };
  return { ...state, quoteLeg: leg };
}

const sighting = (d: E.ChainPosition) => ({ swapId: d.swap_id, txHash: d.tx_hash, blockTimeSeconds: BigInt(d.block_time_seconds) });
const seen = (leg: QuoteLeg, key: string): readonly string[] => [...leg.observed, key];

function quoteLockObserved(state: OrderState, event: E.QuoteLockObserved): OrderState {
  const d = event.data;
  return holdRefundBack(withQuoteLeg(state, event, (leg) => {
    if (leg.lock !== null) throw new EventDoesNotApply(event.type, state.status, 'the order already has its quote lock');
    const lock = { ...sighting(d), timelockSeconds: BigInt(d.timelock_seconds), amountBaseUnits: BigInt(d.amount_base_units) };
    return { ...leg, lock, observed: seen(leg, d.key) };
  }));
}

function quoteLockRejected(state: OrderState, event: E.QuoteLockRejected): OrderState {
  const d = event.data;
  return holdRefundBack(withQuoteLeg(state, event, (leg) => ({
    ...leg, rejected: [...leg.rejected, { ...sighting(d), timelockSeconds: BigInt(d.timelock_seconds), reason: d.reason }], observed: seen(leg, d.key),
  })));
}

/**
 * A lock seen while the seller's refund is due but not yet sent (a lapse, or T passed, then a late
 * lock under the same hashlock before a held job's expiry let the refund go out): the seller could
 * still claim that swap, so the refund must not go out on the earlier decision (invariant 9;
 * simulator seed 2127). The order is parked (REFUND_HOLD_REASON) and the reconciler releases it on
 * the final look-up's word once the swap's T has passed unclaimed or it was refunded
 * (RefundHoldReleased); a claim seen meanwhile settles it to the buyer.
 */
function holdRefundBack(state: LiveOrder): LiveOrder {
  if (state.status !== 'refund_pending') return state;
  return recoveryOrder(state, state, REFUND_HOLD_REASON, state);
}

/** The held refund is due again (chain time decided it, chainTime.ts releaseRefundHold): back to refund_pending. */
function refundHoldReleased(state: OrderState, event: E.RefundHoldReleased): OrderState {
  if (!isRefundHold(state)) throw new EventDoesNotApply(event.type, state.status, 'no refund is held back');
  return { ...state.parked, attempts: 0, lastError: state.lastError };
}

/**
 * A reveal: a matched order (or one whose refund is due but not yet sent) starts settling to the
 * buyer exactly as after a confirm, with the claim's transaction as its quote_tx. In any other live
 * state the claim is kept on the quote leg, which bars every later refund.
 */
function quoteClaimObserved(state: OrderState, event: E.QuoteClaimObserved): OrderState {
  const d = event.data;
  const next = withQuoteLeg(state, event, (leg) => ({
    ...leg, claim: leg.claim ?? { ...sighting(d), secretCiphertext: d.secret_ciphertext }, observed: seen(leg, d.key),
  }));
  const claim: Claim = { quoteTx: d.tx_hash, secretCiphertext: d.secret_ciphertext };
  if (next.status === 'matched' || next.status === 'lapsed') return settlingFrom(next, next, claim, carryOf(next, true));
  // A refund held back for a swap under the hashlock: that swap's claim pays the buyer after all.
  const pending = isRefundHold(next) ? next.parked : next;
  if (pending.status === 'refund_pending' && pending.taker !== null && pending.htlcHash !== null) {
    return settlingFrom(pending, { htlcHash: pending.htlcHash, taker: pending.taker }, claim, carryOf(pending, true));
  }
  return next;
}

function quoteRefundObserved(state: OrderState, event: E.QuoteRefundObserved): OrderState {
  const d = event.data;
  return withQuoteLeg(state, event, (leg) => ({ ...leg, refunds: [...leg.refunds, sighting(d)], observed: seen(leg, d.key) }));
}

/**
 * A recorded observation whose log vanished in a reorganisation: forgotten (a lock made again is then
 * observed afresh, a matched order awaits a valid lock again), except a claim, which stays: its
 * preimage was public once, so the RTC remains the buyer's.
 */
function quoteObservationReorged(state: OrderState, event: E.QuoteObservationReorged): OrderState {
  const d = event.data;
  const gone = (s: { swapId: string; txHash: string }): boolean => s.swapId.toLowerCase() === d.swap_id.toLowerCase() && s.txHash.toLowerCase() === d.tx_hash.toLowerCase();
  return withQuoteLeg(state, event, (leg) => {
    if (!leg.observed.includes(d.key)) throw new EventDoesNotApply(event.type, state.status, 'the observation was not recorded');
    const observed = leg.observed.filter((k) => k !== d.key);
    switch (d.kind) {
      case 'lock':
        if (leg.lock === null || !gone(leg.lock)) throw new EventDoesNotApply(event.type, state.status, 'not the order\'s quote lock');
        return { ...leg, lock: null, observed };
      case 'rejected_lock': return { ...leg, rejected: leg.rejected.filter((r) => !gone(r)), observed };
      case 'refund': return { ...leg, refunds: leg.refunds.filter((r) => !gone(r)), observed };
      case 'claim': return { ...leg, observed };
    }
  });
}

/** The ledger's worker holds the matched order's escrow job (custody.ts): the hold travels with the escrow. */
function escrowHeld(state: OrderState, event: E.EscrowHeld): OrderState {
  expectStatus(state, event, ['matched']);
  if (state.escrow.jobId !== event.data.job_id) throw new EventDoesNotApply(event.type, state.status, 'another escrow job');
  const hold = { workerWallet: event.data.worker_wallet, expiresAt: event.data.expires_at };
  return { ...state, escrow: { ...state.escrow, hold } };
}

/**
 * A lapse (chain time decided it, src/aggregates/order/chainTime.ts): a sell order goes off the book
 * holding its maker's escrow; a buy order's taker (the seller) gets the escrow back, then it is expired.
 */
function matchLapsed(state: OrderState, event: E.MatchLapsed): OrderState {
  expectStatus(state, event, ['matched']);
  if (state.claim !== null) throw new EventDoesNotApply(event.type, state.status, 'a settlement was claimed');
  const { htlcHash, taker, escrow } = state;
  if (state.side === 'sell') return lapsedOrder(state, carryOf(state, true), htlcHash, taker, escrow, event.data.lapsed_at);
  return refundPendingOrder(state, carryOf(state, true), htlcHash, taker, escrow, 'expired');
}

/** Back on the book under the fresh hashlock; the old quote leg is done with (no swap under it is live). */
function orderRearmed(state: OrderState, event: E.OrderRearmed): OrderState {
  expectStatus(state, event, ['lapsed']);
  return openSell(state, NO_QUOTE_LEG, event.data.htlc_hash, state.escrow);
}

/** The state after a whole history of events known to be valid (tests, a command's own decisions). */
export function foldEvents(events: Iterable<OrderEvent>): OrderState {
  let state = initialState;
  for (const event of events) state = evolve(state, event);
  return state;
}

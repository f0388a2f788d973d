import { createHash, timingSafeEqual } from 'node:crypto';
import type * as C from './commands.js';
import { refuse } from './errors.js';
import { tradeIdFor, type OrderEvent } from './events.js';
import { totalQuoteNano } from './money.js';
import {
  buyerWallet,
  heldEscrow,
  isTerminal,
  payoutStatusUnder,
  releasedEscrow,
  takerOf,
  type OrderState,
  type PlacedOrder,
  type QuoteLeg,
} from './state.js';
import { canonicalWallet, sameWallet } from './wallet.js';
import { payoutKeyFor } from './steps.js';
import { recordEscrowHeld } from './custody.js';
import { cancelLapsed, expireLapsed, expireOnChainTime, rearmOrder, releaseRefundHold } from './chainTime.js';
import { recordQuoteReorg } from './reorg.js';

/**
 * The order decider: given the state folded from the stream, the events a command produces, or a
 * refusal naming the broken rule. A command that is already satisfied decides `[]`.
 * Pure: no clock, no randomness, no I/O.
 */
export function decide(command: C.OrderCommand, state: OrderState): OrderEvent[] {
  if (command.type === 'PlaceOrder') return placeOrder(command, state);
  if (state.status === 'none') return refuse('order_not_found', 'no such order');
  switch (command.type) {
    case 'MatchOrder': return matchOrder(command, state);
    case 'CancelOrder': return cancelOrder(command, state);
    case 'ConfirmSettlement': return confirmSettlement(command, state);
    case 'RecordEscrowLocked': return recordEscrowLocked(command, state);
    case 'RecordEscrowLockFailed': return recordEscrowLockFailed(command, state);
    case 'RecordEscrowReleased': return recordEscrowReleased(command, state);
    case 'RevertSettlement': return revertSettlement(command, state);
    case 'RecordPayoutStatus': return recordPayoutStatus(command, state);
    case 'RequireRecovery': return requireRecovery(command, state);
    case 'RequestRedrive': return requestRedrive(command, state);
    case 'ExpireOrder': return expireOrder(command, state);
    case 'RecordRefundIssued': return recordRefundIssued(command, state);
    case 'RecordNodeCallFailed': return recordNodeCallFailed(command, state);
    case 'ObserveQuoteLock': return observeQuoteLock(command, state);
    case 'ObserveQuoteClaim': return observeQuoteClaim(command, state);
    case 'ObserveQuoteRefund': return observeQuoteRefund(command, state);
    case 'RecordEscrowHeld': return recordEscrowHeld(command, state);
    case 'RearmOrder': return rearmOrder(command, state);
    case 'RecordQuoteReorg': return recordQuoteReorg(command, state);
    case 'ReleaseRefundHold': return releaseRefundHold(command, state);
  }
}

const iso = (date: Date): string => date.toISOString();
const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

function placeOrder(c: C.PlaceOrder, state: OrderState): OrderEvent[] {
  if (state.status !== 'none') refuse('order_exists', 'an order with this id already exists');
  if (c.amountMicroRtc <= 0n) refuse('amount_must_be_positive', 'amount must be above zero');
  if (c.pricePerRtcNanoQuote <= 0n) refuse('price_must_be_positive', 'price must be above zero');
  if (c.side === 'sell' && c.htlcHash === null) refuse('htlc_hash_required', 'a sell order needs the seller\'s htlc_hash');
  if (c.side === 'buy' && c.htlcHash !== null) refuse('htlc_hash_not_allowed', 'the htlc_hash of a buy order comes from its taker');
  return [{
    type: 'OrderPlaced',
    data: {
      order_id: c.orderId,
      side: c.side,
      pair: c.pair,
      maker_wallet: canonicalWallet(c.makerWallet),
      amount_micro_rtc: c.amountMicroRtc.toString(),
      price_per_rtc_nano_quote: c.pricePerRtcNanoQuote.toString(),
      total_quote_nano: totalQuoteNano(c.amountMicroRtc, c.pricePerRtcNanoQuote).toString(),
      maker_eth_address: c.makerEthAddress,
      htlc_hash: c.htlcHash,
      ttl_seconds: c.ttlSeconds,
      placed_at: iso(c.now),
      expires_at: iso(addSeconds(c.now, c.ttlSeconds)),
    },
  }];
}

function refuseIfTerminal(state: PlacedOrder): void {
  if (isTerminal(state.status)) refuse('order_terminal', `the order is ${state.status}`, state.status);
}

function matchOrder(c: C.MatchOrder, state: PlacedOrder): OrderEvent[] {
  if (state.status !== 'open') return refuse('order_not_open', `the order is ${state.status}`, state.status);
  if (c.now.getTime() >= Date.parse(state.expiresAt)) refuse('order_expired', 'the order has expired');
  if (sameWallet(c.takerWallet, state.makerWallet)) refuse('self_match', 'a wallet cannot take its own order');
  if (state.side === 'buy' && c.htlcHash === null) refuse('htlc_hash_required', 'the taker of a buy order sells and needs an htlc_hash');
  if (state.side === 'sell' && c.htlcHash !== null) refuse('htlc_hash_not_allowed', 'the htlc_hash of a sell order is the maker\'s');
  // A lock is checked against both quote addresses (the seller's claim address, the buyer's refund address).
  if (c.quoteLeg && (state.makerEthAddress === null || c.takerEthAddress === null)) {
    refuse('eth_address_required', 'a quote leg on the chain needs both parties\' quote addresses (the maker\'s at placement, the taker\'s at match)');
  }
  return [{
    type: 'Matched',
    data: {
      taker_wallet: canonicalWallet(c.takerWallet),
      taker_eth_address: c.takerEthAddress,
      htlc_hash: state.side === 'buy' ? c.htlcHash : null,
      matched_at: iso(c.now),
      settle_by: iso(addSeconds(c.now, c.settleWindowSeconds)),
      ...(c.quoteLeg ? { quote_leg: { mode: c.quoteLeg.mode, chain_id: c.quoteLeg.chainId, lock_by: lockByOf(c, c.quoteLeg) } } : {}),
    },
  }];
}

/** lock_by is judged against block times, so it is counted from chain time at the match when the command carries it. */
function lockByOf(c: C.MatchOrder, leg: NonNullable<C.MatchOrder['quoteLeg']>): string {
  const from = leg.chainNowSeconds === undefined || leg.chainNowSeconds === null ? c.now : new Date(Number(leg.chainNowSeconds) * 1000);
  return iso(addSeconds(from, leg.lockWindowSeconds));
}

function cancelOrder(c: C.CancelOrder, state: PlacedOrder): OrderEvent[] {
  if (!sameWallet(c.wallet, state.makerWallet)) refuse('not_maker', 'only the maker may cancel an order');
  // A cancel whose refund is still under way is already satisfied.
  if (state.status === 'refund_pending' && state.endingAs === 'cancelled') return [];
  if (state.status === 'lapsed') return cancelLapsed(c, state);
  if (state.status !== 'open') refuse('order_not_open', `the order is ${state.status}`, state.status);
  return [{ type: 'OrderCancelled', data: { by: canonicalWallet(c.wallet), cancelled_at: iso(c.now) } }];
}

/** The seller of any order, once known: the maker of a sell order, the taker of a buy order. */
function sellerOf(state: PlacedOrder): string | null {
  return state.side === 'sell' ? state.makerWallet : (takerOf(state)?.wallet ?? null);
}

/** The buyer of any order, once known: the taker of a sell order, the maker of a buy order. */
function buyerOf(state: PlacedOrder): string | null {
  return state.side === 'buy' ? state.makerWallet : (takerOf(state)?.wallet ?? null);
}

/**
 * Either party may confirm with the preimage: the seller (the fast path), or the buyer who read it
 * on the quote chain after the seller's claim there. The payout goes to the buyer either way, so
 * the buyer's confirm is their recourse against a seller who claims the quote and never confirms.
 */
function confirmSettlement(c: C.ConfirmSettlement, state: PlacedOrder): OrderEvent[] {
  if (c.quoteTx.trim() === '') refuse('quote_tx_required', 'quote_tx must not be empty');
  const seller = sellerOf(state);
  const buyer = buyerOf(state);
  const isSeller = seller !== null && sameWallet(c.wallet, seller);
  const isBuyer = buyer !== null && sameWallet(c.wallet, buyer);
  if (!isSeller && !isBuyer) refuse('not_party', 'only the seller or the buyer may confirm settlement');
  if (state.status !== 'matched') return refuse('order_not_matched', `the order is ${state.status}`, state.status);
  if (!preimageMatches(c.secret, state.htlcHash)) refuse('secret_mismatch', 'the secret does not hash to htlc_hash');
  if (state.quoteLeg !== null) checkQuoteLegConfirm(c, state.quoteLeg, isSeller && !isBuyer);
  return [{
    type: 'SettlementClaimed',
    data: { quote_tx: c.quoteTx, secret_ciphertext: c.secretCiphertext, claimed_at: iso(c.now) },
  }];
}

/**
 * A chain-verified order's confirm (quote-chain.md, "Chain time decides"): the seller needs the
 * buyer's verified lock first; and once a lock exists, nobody may confirm within the claim guard of
 * its timelock (chain time), since a buyer could copy a preimage from a claim still in the mempool
 * and then refund the quote. A claim already seen on chain settles on its own.
 */
function checkQuoteLegConfirm(c: C.ConfirmSettlement, leg: QuoteLeg, bySeller: boolean): void {
  if (bySeller && leg.lock === null) refuse('quote_lock_missing', 'the buyer\'s quote lock is not verified on the chain yet');
  if (leg.lock === null || leg.claim !== null) return;
  const finalized = c.quoteChain?.finalizedTimeSeconds ?? null;
  // Chain time is at least the lock's own block time, whatever the follower has reported so far.
  const chainTime = finalized !== null && finalized > leg.lock.blockTimeSeconds ? finalized : leg.lock.blockTimeSeconds;
  const guard = c.quoteChain?.claimGuardSeconds ?? 0n;
  if (chainTime >= leg.lock.timelockSeconds - guard) {
    refuse('claim_window_closing', 'the quote lock\'s timelock is too close: claim on chain, the ledger then releases on its own');
  }
}

/** sha256(preimage bytes) == htlc_hash, compared in constant time. */
export function preimageMatches(secretHex: string, htlcHash: string | null): boolean {
  if (htlcHash === null || !/^[0-9a-fA-F]{64}$/.test(secretHex)) return false;
  const actual = createHash('sha256').update(Buffer.from(secretHex, 'hex')).digest();
  const expected = Buffer.from(htlcHash, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

function recordEscrowLocked(c: C.RecordEscrowLocked, state: PlacedOrder): OrderEvent[] {
  const held = heldEscrow(state);
  if (held !== null && held.party === c.party && held.jobId === c.jobId) return [];
  const due = (state.status === 'escrow_pending' && c.party === 'maker') || (state.status === 'matching' && c.party === 'taker');
  if (!due) refuse('escrow_lock_not_pending', `no ${c.party} escrow lock is pending (order is ${state.status})`, state.status);
  const parked: OrderEvent[] = c.parkAs === undefined ? [] : [{ type: 'SettlementRecoveryRequired', data: { reason: c.parkAs.reason, detail: c.parkAs.detail } }];
  return [{
    type: 'EscrowLocked',
    data: { party: c.party, job_id: c.jobId, amount_micro_rtc: state.amountMicroRtc.toString(), locked_at: iso(c.now) },
  }, ...parked];
}

function recordEscrowLockFailed(c: C.RecordEscrowLockFailed, state: PlacedOrder): OrderEvent[] {
  if (state.status === 'escrow_pending' && c.party === 'maker') {
    return [{ type: 'EscrowLockFailed', data: { party: 'maker', reason: c.reason } }];
  }
  if (state.status === 'matching' && c.party === 'taker') {
    return [
      { type: 'EscrowLockFailed', data: { party: 'taker', reason: c.reason } },
      { type: 'MatchAborted', data: { reason: c.reason } },
    ];
  }
  if (c.party === 'maker' && state.status === 'rejected') return [];
  return refuse('escrow_lock_not_pending', `no ${c.party} escrow lock is pending (order is ${state.status})`, state.status);
}

/** The held escrow a settlement claim authorises releasing: settling, or parked in recovery under a claim. */
function claimedEscrow(state: PlacedOrder): string | null {
  const claimed = state.status === 'settlement_recovery' ? state.parked : state;
  if (claimed.status === 'settling' && !claimed.released) return claimed.escrow.jobId;
  if (claimed.status === 'matched' && claimed.claim !== null && state.status === 'settlement_recovery') return claimed.escrow.jobId;
  return null;
}

function recordEscrowReleased(c: C.RecordEscrowReleased, state: PlacedOrder): OrderEvent[] {
  if (releasedEscrow(state)?.jobId === c.jobId) return [];
  if (state.status !== 'settling' && state.status !== 'settlement_recovery') {
    refuse('release_not_due', `release is not due (order is ${state.status})`, state.status);
  }
  if (heldEscrow(state)?.jobId !== c.jobId) refuse('escrow_job_mismatch', 'that escrow job is not locked for this order', state.status);
  // Only a settlement claim authorises a release; a refund or an unclaimed order in recovery never becomes one.
  if (claimedEscrow(state) !== c.jobId) refuse('settlement_not_claimed', 'no settlement was claimed, so no release is due', state.status);
  return [{ type: 'EscrowReleased', data: { job_id: c.jobId, released_at: iso(c.now) } }];
}

/** Allowed only while the escrow provably never left: released ⇒ never matched again. */
function revertSettlement(c: C.RevertSettlement, state: PlacedOrder): OrderEvent[] {
  if (state.status !== 'settling' || state.released) {
    const escrow = releasedEscrow(state) === null ? 'held' : 'released';
    refuse('settlement_not_revertible', `settlement cannot be reverted (order is ${state.status}, escrow ${escrow})`, state.status);
  }
  return [{ type: 'SettlementReverted', data: { reason: c.reason } }];
}

function recordPayoutStatus(c: C.RecordPayoutStatus, state: PlacedOrder): OrderEvent[] {
  const current = payoutStatusUnder(state, c.payoutKey);
  if (current === 'confirmed' || (current === 'voided' && c.phase === 'voided')) return [];
  if (current === 'queued' && c.phase === 'pending') return [];
  const queueDue = state.status === 'settling' && state.released && current === 'none' && c.payoutKey === payoutKeyFor(state);
  const lookupDue = state.status === 'payout_pending' && current === 'queued';
  if (!queueDue && !lookupDue) refuse('payout_not_due', `no payout under ${c.payoutKey} is due (order is ${state.status})`, state.status);
  const events: OrderEvent[] = [];
  if (state.status === 'settling') {
    events.push({
      type: 'PayoutQueued',
      data: {
        payout_key: c.payoutKey,
        tx_hash: c.txHash,
        to: buyerWallet(state),
        amount_micro_rtc: state.escrow.amountMicroRtc.toString(),
        queued_at: iso(c.now),
      },
    });
  }
  if (c.phase === 'confirmed') {
    events.push({
      type: 'PayoutConfirmed',
      data: { payout_key: c.payoutKey, tx_hash: c.txHash, confirmed_at: iso(c.now), trade_id: tradeIdFor(state.orderId) },
    });
  } else if (c.phase === 'voided') {
    events.push({ type: 'PayoutVoided', data: { payout_key: c.payoutKey, reason: 'the node voided the queued transfer' } });
  }
  return events;
}

/** Recovery parks an in-flight settlement or refund whose outcome is unknown or broken. */
function requireRecovery(c: C.RequireRecovery, state: PlacedOrder): OrderEvent[] {
  refuseIfTerminal(state);
  // A hijacked escrow stays parked as such: no later reason may make it re-drivable.
  if (state.status === 'settlement_recovery' && (state.reason === c.reason || state.reason === 'escrow_hijacked')) return [];
  // `open`, `matched` and `lapsed` while escrow is held: a node-side cancel or expiry of that escrow
  // must park the order before anyone takes it, the seller claims, or a late lock is claimed.
  const holdsEscrow = (state.status === 'open' || state.status === 'matched' || state.status === 'lapsed') && heldEscrow(state) !== null;
  const inFlight = holdsEscrow || ['settling', 'payout_pending', 'refund_pending', 'settlement_recovery'].includes(state.status);
  if (!inFlight) refuse('nothing_in_flight', `nothing is in flight (order is ${state.status})`, state.status);
  return [{ type: 'SettlementRecoveryRequired', data: { reason: c.reason, detail: c.detail } }];
}

function requestRedrive(c: C.RequestRedrive, state: PlacedOrder): OrderEvent[] {
  if (state.status !== 'settlement_recovery') return refuse('order_not_in_recovery', `the order is ${state.status}`, state.status);
  // Resuming would accept a job another worker holds, or pay the buyer from the float (invariant 10).
  if (state.reason === 'escrow_hijacked') refuse('escrow_hijacked', 'the escrow was taken by a worker other than the ledger\'s; it cannot be re-driven', state.status);
  return [{ type: 'OperatorRedriveRequested', data: { operator: c.operator, reason: c.reason } }];
}

/** Expiry is the reconciler's: open orders at expires_at, unclaimed matched orders at settle_by. */
function expireOrder(c: C.ExpireOrder, state: PlacedOrder): OrderEvent[] {
  refuseIfTerminal(state);
  const now = c.now.getTime();
  if (state.status === 'open' && now >= Date.parse(state.expiresAt)) {
    return [{ type: 'OrderExpired', data: { deadline: 'expires_at', expired_at: iso(c.now) } }];
  }
  // The preimage is public on the chain: the RTC is the buyer's, never refunded (invariant 9).
  if (state.quoteLeg?.claim) return [];
  if (state.status === 'matched' && state.quoteLeg !== null) return expireOnChainTime(c, state);
  if (state.status === 'lapsed') return expireLapsed(c, state);
  if (state.status === 'matched' && now >= Date.parse(state.taker.settleBy)) {
    // A seller who once confirmed with the right preimage may already hold the quote leg: refunding
    // them would cost the buyer both legs. Such an order waits for an operator to re-drive the release.
    if (state.claim !== null) {
      return [{ type: 'SettlementRecoveryRequired', data: { reason: 'settle_by_passed_after_claim', detail: 'a settlement was claimed and reverted; the release must be retried, never refunded' } }];
    }
    return [{ type: 'OrderExpired', data: { deadline: 'settle_by', expired_at: iso(c.now) } }];
  }
  return [];
}

const chainPosition = (f: C.ChainFact) => ({
  key: f.key, chain_id: f.chainId, swap_id: f.swapId, tx_hash: f.txHash,
  block_number: f.blockNumber.toString(), block_time_seconds: f.blockTimeSeconds.toString(),
});

/** The live order's quote leg, or null when an observation has nothing to change (a no-op, never a refusal: the chain is a fact). */
function legFor(state: PlacedOrder, key: string): QuoteLeg | null {
  if (isTerminal(state.status) || state.quoteLeg === null) return null;
  return state.quoteLeg.observed.includes(key) ? null : state.quoteLeg;
}

/** The first valid lock is the order's quote lock; any other (a second valid one included) is recorded as rejected. */
function observeQuoteLock(c: C.ObserveQuoteLock, state: PlacedOrder): OrderEvent[] {
  const leg = legFor(state, c.fact.key);
  if (leg === null) return [];
  const timelock_seconds = c.timelockSeconds.toString();
  const reason = c.rejection ?? (leg.lock !== null ? 'duplicate_lock' : null);
  if (reason !== null) return [{ type: 'QuoteLockRejected', data: { ...chainPosition(c.fact), timelock_seconds, reason } }];
  return [{ type: 'QuoteLockObserved', data: { ...chainPosition(c.fact), timelock_seconds, amount_base_units: c.amountBaseUnits.toString() } }];
}

/** Any claim whose preimage hashes to htlc_hash is a reveal for the order, whatever the swap. */
function observeQuoteClaim(c: C.ObserveQuoteClaim, state: PlacedOrder): OrderEvent[] {
  const leg = legFor(state, c.fact.key);
  if (leg === null) return [];
  const htlcHash = state.status === 'settlement_recovery' ? state.parked.htlcHash : state.htlcHash;
  if (!preimageMatches(c.preimage.replace(/^0x/, ''), htlcHash)) refuse('secret_mismatch', 'the claimed preimage does not hash to htlc_hash');
  return [{ type: 'QuoteClaimObserved', data: { ...chainPosition(c.fact), secret_ciphertext: c.secretCiphertext } }];
}

function observeQuoteRefund(c: C.ObserveQuoteRefund, state: PlacedOrder): OrderEvent[] {
  if (legFor(state, c.fact.key) === null) return [];
  return [{ type: 'QuoteRefundObserved', data: chainPosition(c.fact) }];
}

function recordRefundIssued(c: C.RecordRefundIssued, state: PlacedOrder): OrderEvent[] {
  if ((state.status === 'cancelled' || state.status === 'expired') && state.refunded?.jobId === c.jobId) return [];
  if (state.status !== 'refund_pending' || state.escrow.jobId !== c.jobId || state.escrow.party !== c.party) {
    return refuse('refund_not_pending', `no refund of that escrow is pending (order is ${state.status})`, state.status);
  }
  return [{ type: 'RefundIssued', data: { party: c.party, job_id: c.jobId, refunded_at: iso(c.now) } }];
}

function recordNodeCallFailed(c: C.RecordNodeCallFailed, state: PlacedOrder): OrderEvent[] {
  refuseIfTerminal(state);
  return [{ type: 'NodeCallFailed', data: { step: c.step, key: c.key, outcome: c.outcome, reason: c.reason } }];
}

import { describe, expect, it } from 'vitest';
import { given, stateAfter } from '../support/orderFixtures.js';
import { at, MAKER, MAKER_JOB, MATCHED_AT, orderExpired, SELL, TAKER, TAKER_JOB, matched } from '../support/orderBuilders.js';
import { chainMatched, claimObserved, fact, quoteLeg } from '../support/quoteLegBuilders.js';
import {
  dueStep, escrowHeld, evolve, EventDoesNotApply, holdDue, type EscrowHeld, type RecordEscrowHeld,
} from '../../src/aggregates/order/index.js';

/**
 * Custody (quote-chain.md): a chain-verified matched order's escrow job is held by the ledger's
 * worker before any lock is offered; the hold is a due step and EscrowHeld records it.
 */
const HELD_AT = at(MATCHED_AT, 5);
const EXPIRES = at(MATCHED_AT, 30 * 86_400);
const hold = (jobId = MAKER_JOB, expiresAt: Date | null = EXPIRES): RecordEscrowHeld => ({
  type: 'RecordEscrowHeld', jobId, workerWallet: 'otc_bridge_worker', expiresAt, now: HELD_AT,
});
const escrowHeldEvent = (jobId = MAKER_JOB): EscrowHeld => ({
  type: 'EscrowHeld', data: { job_id: jobId, worker_wallet: 'otc_bridge_worker', expires_at: EXPIRES.toISOString(), held_at: HELD_AT.toISOString() },
});

describe('RecordEscrowHeld', () => {
  it('records the hold of a chain-verified sell order\'s maker escrow, with the node\'s expiry', () => {
    given(...chainMatched('sell')).when(hold()).thenExactly([escrowHeldEvent()]);
  });

  it('records the hold of a buy order\'s taker escrow once it is locked', () => {
    given(...chainMatched('buy')).when(hold(TAKER_JOB)).then([{ type: 'EscrowHeld', data: { job_id: TAKER_JOB } }]);
  });

  it('keeps a null expiry when the node gave none', () => {
    given(...chainMatched('sell')).when(hold(MAKER_JOB, null)).then([{ type: 'EscrowHeld', data: { expires_at: null } }]);
  });

  it('is a no-op once the same job is held', () => {
    given(...chainMatched('sell'), escrowHeldEvent()).when(hold()).thenNothing();
  });

  it('refuses a hold in manual mode (hold_not_due)', () => {
    given(...SELL.matched()).when(hold()).thenRefuses('hold_not_due');
  });

  it('refuses a hold of an open order (hold_not_due)', () => {
    given(...SELL.open()).when(hold()).thenRefuses('hold_not_due');
  });

  it('refuses a hold of another job (escrow_job_mismatch)', () => {
    given(...chainMatched('sell')).when(hold('job_other')).thenRefuses('escrow_job_mismatch');
  });

  it('refuses a hold once the order is settling on a claim seen on chain (hold_not_due)', () => {
    given(...chainMatched('sell'), claimObserved(fact(2))).when(hold()).thenRefuses('hold_not_due');
  });
});

describe('EscrowHeld in the fold and the due steps', () => {
  it('the hold is due for a chain-verified matched order, and the step names its job and poster', () => {
    const state = stateAfter(...chainMatched('sell'));
    expect(holdDue(state)).toBe(true);
    expect(dueStep(state)).toEqual({ kind: 'hold', key: `otc_hold:${state.status === 'none' ? '' : state.orderId}`, jobId: MAKER_JOB, wallet: MAKER });
    expect(dueStep(stateAfter(...chainMatched('buy')))).toMatchObject({ kind: 'hold', jobId: TAKER_JOB, wallet: TAKER });
  });

  it('nothing is due once held; the watch still looks the job up', () => {
    const state = stateAfter(...chainMatched('sell'), escrowHeldEvent());
    expect(escrowHeld(state)).toBe(true);
    expect(holdDue(state)).toBe(false);
    expect(dueStep(state)).toBeNull();
    expect(dueStep(state, 'watch')).toMatchObject({ kind: 'escrow_watch', jobId: MAKER_JOB });
  });

  it('no hold is due in manual mode', () => {
    expect(dueStep(stateAfter(...SELL.matched()))).toBeNull();
  });

  it('the hold travels with the escrow: a refund of a held job says so', () => {
    const state = stateAfter(...chainMatched('sell'), escrowHeldEvent(), orderExpired('settle_by'));
    expect(state.status).toBe('refund_pending');
    expect(dueStep(state)).toMatchObject({ kind: 'refund', jobId: MAKER_JOB, held: true });
  });

  it('EscrowHeld does not apply to an order that is not matched, nor to another job', () => {
    expect(() => evolve(stateAfter(...SELL.open()), escrowHeldEvent())).toThrow(EventDoesNotApply);
    expect(() => evolve(stateAfter(...SELL.open(), matched({ quote_leg: quoteLeg })), escrowHeldEvent('job_other'))).toThrow(EventDoesNotApply);
  });
});

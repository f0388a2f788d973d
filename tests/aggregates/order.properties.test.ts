import { facts, nextPayoutKey } from '../support/orderFixtures.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buyerWallet,
  decide,
  dueStep,
  evolve,
  foldEvents,
  initialState,
  isTerminal,
  ORDER_STATUSES,
  OrderRefused,
  sellerParty,
  sellerWallet,
  tradeIdFor,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
  type OrderStatus,
  type Party,
  type Side,
} from '../../src/aggregates/order/index.js';
import {
  at,
  MAKER,
  MAKER_HTLC_HASH,
  MAKER_JOB,
  MAKER_SECRET,
  ORDER_ID,
  PAYOUT_KEY,
  PLACED_AT,
  placeOrder,
  QUOTE_TX,
  STRANGER,
  TAKER,
  TAKER_HTLC_HASH,
  TAKER_JOB,
  TAKER_SECRET,
  TTL_SECONDS,
  upperHex,
  WRONG_SECRET,
} from '../support/orderBuilders.js';

/**
 * Random command sequences from random actors against one order, checked after every event against
 * domain.md §7 (1–6) and "released ⇒ never matched again". Actions are plain data, resolved into a
 * command against the current state, so fast-check can print and shrink a failing sequence.
 */

const WALLETS = [MAKER, TAKER, STRANGER, upperHex(MAKER), upperHex(TAKER)] as const;
const SECRETS = [MAKER_SECRET, TAKER_SECRET, WRONG_SECRET, MAKER_SECRET.toUpperCase()] as const;
const JOBS = [MAKER_JOB, TAKER_JOB, 'job_other'] as const;
const PARTIES: readonly Party[] = ['maker', 'taker'];
const REASONS = ['release_outcome_unknown', 'payout_rejected', 'refund_outcome_unknown', 'escrow_job_cancelled'] as const;
/** Clocks around every deadline: placement, the settle window, expires_at ± 1 s, far past. */
const DAY = 86_400;
const clockArb = fc.oneof(
  fc.constantFrom(0, 3600, DAY, DAY + 3600, 2 * DAY, TTL_SECONDS - 1, TTL_SECONDS, TTL_SECONDS + 1, 3 * TTL_SECONDS),
  fc.integer({ min: 0, max: 3 * TTL_SECONDS }),
);
/** Parties act mostly while the order is live; now and then past its deadlines. */
const partyClockArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: TTL_SECONDS - 1 }) }, { weight: 1, arbitrary: clockArb });

type Action =
  /** `chain`: the pair's quote leg is read on a chain (lock_by, chain-time lapses and refunds). */
  | { kind: 'match'; wallet: number; htlc: number; clock: number; windowSeconds: number; chain: boolean }
  | { kind: 'chainTime'; decision: 'claimed' | 'no_swap' | 'refund_allowed' | 'wait'; clock: number }
  | { kind: 'rearm'; wallet: number; htlc: number; clock: number }
  | { kind: 'cancel'; wallet: number; clock: number }
  | { kind: 'confirm'; wallet: number; secret: number; emptyQuoteTx: boolean; clock: number }
  | { kind: 'lock'; party: number; job: number }
  | { kind: 'lockFailed'; party: number }
  | { kind: 'release'; job: number }
  | { kind: 'revert' }
  | { kind: 'payout'; key: 'due' | 'current' | 'base' | 'redrive-1'; phase: 'pending' | 'confirmed' | 'voided' }
  | { kind: 'recovery'; reason: number }
  | { kind: 'redrive' }
  | { kind: 'expire'; clock: number }
  | { kind: 'refund'; party: number; job: number }
  | { kind: 'nodeCallFailed'; unknown: boolean }
  /** The driver: whatever dueStep says, with an outcome picked by `outcome`. */
  | { kind: 'drive'; outcome: number };

/** An index into a list, or -1 (about half the time): the choice that fits the order's roles. */
const index = (n: number) => fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: n - 1 }));

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('match' as const), wallet: index(WALLETS.length), htlc: index(3), clock: partyClockArb, windowSeconds: fc.constantFrom(60, DAY), chain: fc.constantFrom(false, false, false, true) }) },
  // Chain time (the final look-up's decision at a finalized block) and re-arming a lapsed order.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('chainTime' as const), decision: fc.constantFrom('claimed' as const, 'no_swap' as const, 'refund_allowed' as const, 'wait' as const), clock: clockArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rearm' as const), wallet: index(WALLETS.length), htlc: index(3), clock: partyClockArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), wallet: index(WALLETS.length), clock: clockArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('confirm' as const), wallet: index(WALLETS.length), secret: index(SECRETS.length), emptyQuoteTx: fc.constantFrom(false, false, false, true), clock: partyClockArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lock' as const), party: index(2), job: index(JOBS.length) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lockFailed' as const), party: index(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), job: index(JOBS.length) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'revert' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('payout' as const), key: fc.constantFrom('due' as const, 'current' as const, 'base' as const, 'redrive-1' as const), phase: fc.constantFrom('pending' as const, 'confirmed' as const, 'voided' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('recovery' as const), reason: index(REASONS.length) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'redrive' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), clock: clockArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), party: index(2), job: index(JOBS.length) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nodeCallFailed' as const), unknown: fc.boolean() }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('drive' as const), outcome: fc.integer({ min: 0, max: 9 }) }) },
);

const scenarioArb = fc.record({
  side: fc.constantFrom<Side>('sell', 'buy'),
  actions: fc.array(actionArb, { maxLength: 80, size: 'max' }),
});

const pick = <T>(list: readonly T[], i: number, fit?: T): T => (i < 0 && fit !== undefined ? fit : (list[Math.abs(i) % list.length] as T));
const secretOf = (state: OrderState): string => (facts(state).htlcHash === TAKER_HTLC_HASH ? TAKER_SECRET : MAKER_SECRET);
const clockAt = (seconds: number): Date => at(PLACED_AT, seconds);

function payoutKey(choice: 'due' | 'current' | 'base' | 'redrive-1', state: OrderState): string {
  if (choice === 'due') return nextPayoutKey(state);
  if (choice === 'current') return facts(state).payout.key ?? PAYOUT_KEY;
  if (choice === 'base') return PAYOUT_KEY;
  return `${PAYOUT_KEY}:redrive-1`;
}

/**
 * What the driver would record after calling the node for the due step. `outcome` 0–4 is ok, 5–9
 * picks a refusal or an unknown outcome (node call failed, recovery, revert, void).
 */
function driverResult(outcome: number, state: OrderState): OrderCommand | null {
  const step = dueStep(state);
  if (step === null) return null;
  const now = clockAt(2 * DAY);
  const failed = (unknown: boolean): OrderCommand => ({ type: 'RecordNodeCallFailed', step: step.kind, key: step.key, outcome: unknown ? 'unknown' : 'rejected', reason: 'node' });
  const ok = outcome < 5;
  switch (step.kind) {
    case 'lock': {
      const jobId = step.party === 'maker' ? MAKER_JOB : TAKER_JOB;
      if (ok) return { type: 'RecordEscrowLocked', party: step.party, jobId, now };
      return outcome < 8 ? failed(outcome === 5) : { type: 'RecordEscrowLockFailed', party: step.party, reason: 'insufficient balance' };
    }
    case 'release':
      if (ok) return { type: 'RecordEscrowReleased', jobId: step.jobId, now };
      return pick<OrderCommand>(
        [
          { type: 'RevertSettlement', reason: 'escrow release refused' },
          { type: 'RequireRecovery', reason: 'release_outcome_unknown', detail: 'timeout' },
          failed(true),
          { type: 'RequireRecovery', reason: 'escrow_job_expired', detail: 'node expired the job' },
          failed(false),
        ],
        outcome - 5,
      );
    case 'payout':
    case 'payout_lookup': {
      const phase = ok ? pick(['confirmed', 'pending', 'confirmed'] as const, outcome) : outcome < 7 ? 'voided' : null;
      if (phase !== null) return { type: 'RecordPayoutStatus', payoutKey: step.key, txHash: `tx:${step.key}`, phase, now };
      return outcome === 7 ? failed(true) : { type: 'RequireRecovery', reason: 'payout_outcome_unknown', detail: 'timeout' };
    }
    case 'refund':
      if (ok) return { type: 'RecordRefundIssued', party: step.party, jobId: step.jobId, now };
      return outcome < 8 ? failed(outcome === 5) : { type: 'RequireRecovery', reason: 'refund_outcome_unknown', detail: 'timeout' };
    case 'hold':
      return ok ? { type: 'RecordEscrowHeld', jobId: step.jobId, workerWallet: 'otc_bridge_worker', expiresAt: null, now } : failed(outcome === 5);
    case 'lock_lookup':
    case 'release_lookup':
    case 'escrow_watch':
      throw new Error(`an inline drive never picks ${step.kind}`);
  }
}

function toCommand(action: Action, state: OrderState): OrderCommand | null {
  switch (action.kind) {
    case 'match':
      return {
        type: 'MatchOrder',
        takerWallet: pick(WALLETS, action.wallet, TAKER),
        takerEthAddress: null,
        htlcHash: pick([null, TAKER_HTLC_HASH, MAKER_HTLC_HASH], action.htlc, facts(state).side === 'buy' ? TAKER_HTLC_HASH : null),
        settleWindowSeconds: action.windowSeconds,
        ...(action.chain ? { takerEthAddress: '0x' + 'cd'.repeat(20), quoteLeg: { mode: 'sandbox' as const, chainId: 31337, lockWindowSeconds: 1800 } } : {}),
        now: clockAt(action.clock),
      };
    case 'chainTime':
      // Only a chain-verified order is decided on chain time; on the others this is the plain expire above.
      if (state.status === 'none' || state.quoteLeg === null) return null;
      return { type: 'ExpireOrder', now: clockAt(action.clock), quoteChain: { decision: action.decision, finalizedTimeSeconds: BigInt(Math.floor(clockAt(action.clock).getTime() / 1000)) } };
    case 'rearm':
      return {
        type: 'RearmOrder', wallet: pick(WALLETS, action.wallet, MAKER), htlcHash: pick([MAKER_HTLC_HASH, TAKER_HTLC_HASH, 'ee'.repeat(32)], action.htlc, 'ee'.repeat(32)),
        quoteChain: { decision: 'no_swap', finalizedTimeSeconds: BigInt(Math.floor(clockAt(action.clock).getTime() / 1000)) }, now: clockAt(action.clock),
      };
    case 'cancel':
      return { type: 'CancelOrder', wallet: pick(WALLETS, action.wallet, MAKER), now: clockAt(action.clock) };
    case 'confirm':
      return {
        type: 'ConfirmSettlement',
        wallet: pick(WALLETS, action.wallet, facts(state).sellerWallet ?? STRANGER),
        quoteTx: action.emptyQuoteTx ? '' : QUOTE_TX,
        secret: pick(SECRETS, action.secret, secretOf(state)),
        secretCiphertext: 'ciphertext',
        now: clockAt(action.clock),
      };
    case 'lock':
      return { type: 'RecordEscrowLocked', party: pick(PARTIES, action.party, sellerParty(facts(state).side)), jobId: pick(JOBS, action.job, MAKER_JOB), now: clockAt(DAY) };
    case 'lockFailed':
      return { type: 'RecordEscrowLockFailed', party: pick(PARTIES, action.party, sellerParty(facts(state).side)), reason: 'refused' };
    case 'release':
      return { type: 'RecordEscrowReleased', jobId: pick(JOBS, action.job, facts(state).escrow.jobId ?? MAKER_JOB), now: clockAt(2 * DAY) };
    case 'revert':
      return { type: 'RevertSettlement', reason: 'refused' };
    case 'payout':
      return { type: 'RecordPayoutStatus', payoutKey: payoutKey(action.key, state), txHash: 'tx', phase: action.phase, now: clockAt(2 * DAY) };
    case 'recovery':
      return { type: 'RequireRecovery', reason: pick(REASONS, action.reason, 'release_outcome_unknown'), detail: 'detail' };
    case 'redrive':
      return { type: 'RequestRedrive', operator: 'alice', reason: 'retry' };
    case 'expire':
      return { type: 'ExpireOrder', now: clockAt(action.clock) };
    case 'refund':
      return {
        type: 'RecordRefundIssued',
        party: pick(PARTIES, action.party, facts(state).escrow.party ?? 'maker'),
        jobId: pick(JOBS, action.job, facts(state).escrow.jobId ?? MAKER_JOB),
        now: clockAt(2 * DAY),
      };
    case 'nodeCallFailed':
      return { type: 'RecordNodeCallFailed', step: 'release', key: `otc_release:${ORDER_ID}`, outcome: action.unknown ? 'unknown' : 'rejected', reason: 'node' };
    case 'drive':
      return driverResult(action.outcome, state);
  }
}

function decideOrRefuse(command: OrderCommand, state: OrderState): OrderEvent[] | OrderRefused {
  try {
    return decide(command, state);
  } catch (error) {
    if (error instanceof OrderRefused) return error;
    throw error;
  }
}

const ofType = <T extends OrderEvent['type']>(history: readonly OrderEvent[], type: T) =>
  history.filter((e): e is Extract<OrderEvent, { type: T }> => e.type === type);

/** domain.md §7, 1–6, over the history and the state folded from it. */
function checkInvariants(history: readonly OrderEvent[], state: OrderState): void {
  const terminal = isTerminal(state.status);
  const locks = ofType(history, 'EscrowLocked');
  const releases = ofType(history, 'EscrowReleased');
  const refunds = ofType(history, 'RefundIssued');

  // One order holds at most one escrow; nothing is released or refunded that was not locked.
  expect(locks.length).toBeLessThanOrEqual(1);
  const lockedJobs = new Set(locks.map((e) => e.data.job_id));
  for (const e of [...releases, ...refunds]) expect(lockedJobs.has(e.data.job_id)).toBe(true);

  let lockedMicroRtc = 0n;
  let releasedMicroRtc = 0n;
  let refundedMicroRtc = 0n;
  let heldMicroRtc = 0n;
  for (const lock of locks) {
    const amount = BigInt(lock.data.amount_micro_rtc);
    const released = releases.filter((e) => e.data.job_id === lock.data.job_id).length;
    const refunded = refunds.filter((e) => e.data.job_id === lock.data.job_id).length;
    // (2) never both a release and a refund of one escrow, and each at most once.
    expect(released + refunded).toBeLessThanOrEqual(1);
    // (1) each locked escrow ends released or refunded, or its order is not terminal.
    if (terminal) expect(released + refunded).toBe(1);
    lockedMicroRtc += amount;
    if (released) releasedMicroRtc += amount;
    else if (refunded) refundedMicroRtc += amount;
    else heldMicroRtc += amount;
  }
  // (3) RTC conserved: the state agrees with the history, and locked = released + refunded + held.
  const stateHeld = facts(state).escrow.status === 'locked' ? facts(state).escrow.lockedMicroRtc : 0n;
  expect(facts(state).escrow.lockedMicroRtc).toBe(lockedMicroRtc);
  expect(facts(state).escrow.releasedMicroRtc).toBe(releasedMicroRtc);
  expect(facts(state).escrow.refundedMicroRtc).toBe(refundedMicroRtc);
  expect(stateHeld).toBe(heldMicroRtc);
  expect(facts(state).escrow.releasedMicroRtc + facts(state).escrow.refundedMicroRtc + stateHeld).toBe(facts(state).escrow.lockedMicroRtc);
  // Every queued payout pays exactly the released RTC to the buyer.
  for (const queued of ofType(history, 'PayoutQueued')) {
    expect(BigInt(queued.data.amount_micro_rtc)).toBe(releasedMicroRtc);
    expect(queued.data.to).toBe(facts(state).buyerWallet);
  }

  // (2) at most one confirmed payout per order.
  const confirmed = ofType(history, 'PayoutConfirmed');
  expect(confirmed.length).toBeLessThanOrEqual(1);
  // (4) completed iff a PayoutConfirmed exists: the preimage (readable only when completed) is never out early.
  expect(state.status === 'completed').toBe(confirmed.length === 1);
  // ...and never in the history in clear.
  const text = JSON.stringify(history).toLowerCase();
  expect(text).not.toContain(MAKER_SECRET);
  expect(text).not.toContain(TAKER_SECRET);

  // (6) at most one trade, only on PayoutConfirmed, its id derived from the order id.
  const withTrade = history.filter((e) => 'trade_id' in e.data);
  expect(withTrade.every((e) => e.type === 'PayoutConfirmed')).toBe(true);
  expect(withTrade.length).toBeLessThanOrEqual(1);
  expect(facts(state).tradeId).toBe(confirmed.length === 1 ? tradeIdFor(ORDER_ID) : null);

  // Released ⇒ never matched (or open) again.
  if (releases.length > 0) expect(['escrow_pending', 'open', 'matching', 'matched', 'lapsed']).not.toContain(state.status);
  // A refund is pending only for a held escrow; settling only under a claim.
  if (state.status === 'refund_pending') expect(facts(state).escrow.status).toBe('locked');
  if (state.status === 'settling' || state.status === 'payout_pending') expect(facts(state).quoteTx).not.toBeNull();
}

interface RunResult {
  readonly statuses: Set<OrderStatus>;
  readonly accepted: number;
}

/** Applies each action's command; refused commands are skipped, accepted events appended and checked one by one. */
function run(side: Side, actions: readonly Action[]): RunResult {
  const placed = decide(placeOrder(side), initialState);
  const history: OrderEvent[] = [...placed];
  let state = foldEvents(history);
  const statuses = new Set<OrderStatus>([state.status]);
  let accepted = 0;
  checkInvariants(history, state);
  for (const action of actions) {
    const command = toCommand(action, state);
    if (command === null) continue;
    const decided = decideOrRefuse(command, state);
    // decide is pure: the same command on the same state decides the same.
    expect(decideOrRefuse(command, state)).toEqual(decided);
    if (decided instanceof OrderRefused) continue;
    // (5) terminal orders receive no further events.
    if (isTerminal(state.status)) expect(decided).toEqual([]);
    if (decided.length > 0) accepted += 1;
    for (const event of decided) {
      // Events are JSON-safe: what the store keeps is what was decided.
      expect(JSON.parse(JSON.stringify(event))).toEqual(event);
      const before = state;
      history.push(event);
      state = evolve(state, event);
      statuses.add(state.status);
      if (event.type === 'EscrowReleased') expect(facts(before).quoteTx).not.toBeNull();
      checkInvariants(history, state);
    }
  }
  expect(foldEvents(history)).toEqual(state);
  return { statuses, accepted };
}

describe('order decider properties (domain.md §7)', () => {
  it('holds invariants 1–6 after every event of random command sequences', () => {
    fc.assert(
      fc.property(scenarioArb, ({ side, actions }) => {
        run(side, actions);
      }),
      { numRuns: 400 },
    );
  });

  it('the generator reaches every status, so the invariants are checked on all of them', () => {
    const reached = new Set<OrderStatus>();
    let accepted = 0;
    let completed = 0;
    let redrivenToCompletion = 0;
    for (const { side, actions } of fc.sample(scenarioArb, { numRuns: 300, seed: 20250301 })) {
      const result = run(side, actions);
      result.statuses.forEach((s) => reached.add(s));
      accepted += result.accepted;
      if (result.statuses.has('completed')) completed += 1;
      if (result.statuses.has('completed') && result.statuses.has('settlement_recovery')) redrivenToCompletion += 1;
    }
    expect([...reached].sort()).toEqual([...ORDER_STATUSES].sort());
    expect(accepted).toBeGreaterThan(500);
    expect(completed).toBeGreaterThan(10);
    expect(redrivenToCompletion).toBeGreaterThan(0);
  });
});

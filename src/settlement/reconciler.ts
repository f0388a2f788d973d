import { randomUUID } from 'node:crypto';
import {
  decide, escrowFacts, heldRefundWaitsUntilMs, holdDue, isRefundHold, OrderRefused, IN_FLIGHT_STATUSES, isTerminal, ORDER_STREAM_PREFIX, orderIdFromStream,
  type OrderState,
} from '../aggregates/order/index.js';
import { handleOrderCommand, type CommandContext } from '../commands/handleCommand.js';
import { loadOrder, type LoadedOrder } from '../commands/loadOrder.js';
import { isCorrupt } from '../orderStream/fold.js';
import { driveOrder, type DriverDeps } from './driver.js';
import { driveChainTime, driveRefundHold, type ChainTimeWatch } from './chainTime.js';
import { streamsWithPrefix } from '../eventstore/streams.js';
import { isVersionConflict } from '../eventstore/types.js';

export interface ReconcileSummary {
  examined: number;
  completed: number;
  payout_pending: number;
  recovered: number;
  reverted: number;
  refunded: number;
  expired: number;
  /** Matches that lapsed on chain time (no valid quote lock by lock_by). */
  lapsed: number;
  locked: number;
  left: number;
}

/** Where a pass finds the orders that may need it (the work-queue read model, or a scan). */
export type CandidateSource = (now: Date, stuckMs: number) => Promise<readonly string[]>;

export interface ReconcilerDeps extends DriverDeps {
  readonly stuckMs: number;
  readonly now: () => Date;
  readonly candidates: CandidateSource;
  /** Matched orders whose escrow job to look up this pass (a bounded sample); none when absent. */
  readonly escrowWatch?: () => Promise<readonly string[]>;
  /** Chain-verified orders decided on finalized chain time (sandbox and evm mode); none when absent. */
  readonly chainTime?: ChainTimeWatch;
  /** Each pass's correlation id and the event ids (random unless given: the simulator seeds them). */
  readonly newPassId?: () => string;
  readonly newEventId?: () => string;
}


/**
 * One reconciler pass: expire what is past its deadline, resume in-flight orders whose last event
 * is older than the stuck threshold (measured from that order's last event, so a live confirm is
 * never touched), look pending payouts up, and look recovered releases up. Every append carries the
 * expected version and every node call the order's lease, so concurrent passes are safe.
 */
export async function reconcilePass(deps: ReconcilerDeps): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { examined: 0, completed: 0, payout_pending: 0, recovered: 0, reverted: 0, refunded: 0, expired: 0, lapsed: 0, locked: 0, left: 0 };
  const passId = deps.newPassId?.() ?? randomUUID();
  const ctx: CommandContext = { correlationId: `reconcile-${passId}`, causationId: null, actor: 'reconciler', now: deps.now, newEventId: deps.newEventId };
  await watchEscrows(deps, ctx);
  await reconcileChainTime(deps, ctx, summary);
  for (const orderId of await deps.candidates(deps.now(), deps.stuckMs)) {
    summary.examined += 1;
    const loaded = await loadOrder(deps.store, orderId, deps.orderCache);
    const before = loaded.state;
    if (isTerminal(before.status) || before.status === 'none' || isCorrupt(loaded)) continue;
    const after = await reconcileOrder(deps, orderId, loaded, ctx, summary);
    count(summary, before, after);
  }
  return summary;
}

async function reconcileOrder(deps: ReconcilerDeps, orderId: string, loaded: LoadedOrder, ctx: CommandContext, summary: ReconcileSummary): Promise<OrderState> {
  const { state } = loaded;
  const now = deps.now();
  // The decider owns the deadlines: asking it (pure, no I/O) says whether expiry is due at all.
  if (decide({ type: 'ExpireOrder', now }, state).length > 0) {
    const expired = await expireLosingRace(deps, orderId, now, ctx);
    if (expired === null) return state;
    if (expired.written.some((e) => e.type === 'OrderExpired')) summary.expired += 1;
    return (await driveOrder(deps, orderId, ctx, 'inline')).state;
  }
  // A refund held back for a swap under the hashlock is released on the chain's word, never by the clock.
  if (isRefundHold(state)) return deps.chainTime ? ((await driveRefundHold(deps, deps.chainTime, orderId, ctx))?.after ?? state) : state;
  // In recovery the driver only looks up what a look-up can prove (a release that did happen).
  if (state.status === 'settlement_recovery') return (await driveOrder(deps, orderId, ctx, 'resume')).state;
  if (!isDue(loaded, now, deps.stuckMs)) return state;
  return (await driveOrder(deps, orderId, ctx, 'resume')).state;
}

/** The held escrow of every open and matched order this pass looks at: the driver's watch step. */
async function watchEscrows(deps: ReconcilerDeps, ctx: CommandContext): Promise<void> {
  for (const orderId of (await deps.escrowWatch?.()) ?? []) {
    // A match whose custody hold was never recorded (a crash, a lost answer) is held now, under the lease.
    const { state } = await loadOrder(deps.store, orderId);
    await driveOrder(deps, orderId, ctx, holdDue(state) ? 'resume' : 'watch');
  }
}

/**
 * Chain-verified orders on finalized chain time: lapses at lock_by, refunds once every T has passed
 * unclaimed (src/settlement/chainTime.ts). These are not in the work queue's due list (nothing at the
 * node is in flight for them), so they come from the watch's own bounded list.
 */
async function reconcileChainTime(deps: ReconcilerDeps, ctx: CommandContext, summary: ReconcileSummary): Promise<void> {
  const watch = deps.chainTime;
  if (watch === undefined) return;
  for (const orderId of await watch.candidates()) {
    const outcome = await driveChainTime(deps, watch, orderId, ctx);
    if (outcome === null) continue;
    summary.examined += 1;
    if (outcome.written.includes('MatchLapsed')) summary.lapsed += 1;
    if (outcome.written.includes('OrderExpired')) summary.expired += 1;
    count(summary, outcome.before, outcome.after);
  }
}

/** Expires the order; null when it moved meanwhile and the decider now refuses (the mover owns it). */
async function expireLosingRace(deps: ReconcilerDeps, orderId: string, now: Date, ctx: CommandContext) {
  try {
    return await handleOrderCommand(deps.store, orderId, { type: 'ExpireOrder', now }, ctx);
  } catch (error) {
    if (error instanceof OrderRefused || isVersionConflict(error)) return null;
    throw error;
  }
}

function isDue({ state, updatedAt }: LoadedOrder, now: Date, stuckMs: number): boolean {
  // A queued payout is only looked up, which changes nothing at the node: do it every pass.
  if (state.status === 'payout_pending') return true;
  if (!IN_FLIGHT_STATUSES.includes(state.status) && !holdDue(state)) return false;
  // A held job's refund can go out only past the job's expiry at the node: look again then, not every pass.
  const heldUntilMs = heldRefundWaitsUntilMs(state);
  if (heldUntilMs !== null && now.getTime() <= heldUntilMs) return false;
  const lastEventMs = updatedAt === null ? 0 : Date.parse(updatedAt);
  return now.getTime() - lastEventMs >= stuckMs;
}

function count(summary: ReconcileSummary, before: OrderState, after: OrderState): void {
  if (after.status === 'completed' && before.status !== 'completed') summary.completed += 1;
  else if (after.status === 'payout_pending' && before.status !== 'payout_pending') summary.payout_pending += 1;
  if (before.status === 'settlement_recovery' && after.status !== 'settlement_recovery') summary.recovered += 1;
  if (before.status === 'settling' && after.status === 'matched') summary.reverted += 1;
  const [was, is] = [escrowFacts(before).status, escrowFacts(after).status];
  if (was !== 'refunded' && is === 'refunded') summary.refunded += 1;
  if (was === 'locking' && is === 'locked') summary.locked += 1;
  if (IN_FLIGHT_STATUSES.includes(after.status) || after.status === 'settlement_recovery') summary.left += 1;
}

/** Candidates by scanning every order stream: for the CLI and tests, where no work queue runs. */
export function scanAllOrders(deps: Pick<ReconcilerDeps, 'store'>, maxOrders = 100_000): CandidateSource {
  return async () => {
    const ids: string[] = [];
    for await (const stream of streamsWithPrefix(deps.store, ORDER_STREAM_PREFIX)) {
      if (ids.length >= maxOrders) break;
      ids.push(orderIdFromStream(stream));
    }
    return ids;
  };
}

export interface ReconcilerTimer {
  stop(): Promise<void>;
}

/** A pass at start, then one every intervalMs (0: only the pass at start); passes never overlap. */
export function startReconciler(deps: ReconcilerDeps, intervalMs: number, onPass?: (s: ReconcileSummary | Error) => void): ReconcilerTimer {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    running = reconcilePass(deps)
      .then((s) => onPass?.(s), (e: unknown) => onPass?.(e instanceof Error ? e : new Error(String(e))))
      .finally(() => {
        if (!stopped && intervalMs > 0) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

import { ORDER_STREAM_PREFIX, orderIdFromStream } from '../aggregates/order/index.js';
import { initialState, isTerminal, type CompletedOrder, type OrderState } from '../aggregates/order/state.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { isProblem, stepOrder, type StreamProblem } from '../orderStream/fold.js';

/** One step of an order's fold as a projection sees it; `problem` when this event broke the fold. */
export interface FoldedStep {
  readonly orderId: string;
  readonly before: OrderState;
  readonly after: OrderState;
  readonly version: bigint;
  readonly problem: StreamProblem | null;
}

/** An order's fold as the runner keeps it in memory: the state, its version, and the break that froze it, if any. */
export interface StoredState {
  readonly state: OrderState;
  readonly version: bigint;
  readonly problem: StreamProblem | null;
}

export function isOrderEvent(event: RecordedEvent): boolean {
  return event.stream.startsWith(ORDER_STREAM_PREFIX);
}

/**
 * Folds one recorded event onto the stored state with the one fold's step (stepOrder). Null when
 * there is nothing to apply: another stream, a version already applied (idempotence), an event
 * after the order ended or after its stream broke, or an event of an order whose state is not held
 * (a stream that did not start with OrderPlaced). An event that breaks the fold is kept as the
 * step's `problem`; a projection never stops on a recorded fact.
 */
export function foldStep(event: RecordedEvent, prior: StoredState | null): FoldedStep | null {
  if (!isOrderEvent(event)) return null;
  if (prior !== null && event.version <= prior.version) return null;
  // Terminal orders receive no further events (invariant 5). Folding a late one anyway would make
  // read models depend on batch boundaries, since the fold cache forgets terminal orders; verify
  // reports such an event instead. A broken stream stays at its last readable state.
  if (prior !== null && (isTerminal(prior.state.status) || prior.problem !== null)) return null;
  // A fold starts at the stream's first event: an event of a stream whose fold is unknown (it did
  // not start with version 1 in what was read) starts nothing.
  if (prior === null && event.version !== 1n) return null;
  const before = prior?.state ?? initialState;
  // The one fold's step (stepOrder), without the stream position a projection keeps no use for.
  const step = stepOrder(before, event);
  const problem = isProblem(step) ? step : null;
  return { orderId: orderIdFromStream(event.stream), before, after: problem === null ? (step as OrderState) : before, version: event.version, problem };
}

/**
 * What one batch did to one order: the state held before the batch (null: the order had no state
 * before it, so no read model has a row of it) and the state after it, with the last event that
 * moved it there.
 */
export class BatchFold {
  constructor(
    readonly orderId: string,
    readonly before: StoredState | null,
    readonly state: OrderState,
    readonly version: bigint,
    readonly lastEvent: RecordedEvent,
    /** The event that broke this order's fold, if one did (in this batch or before). */
    readonly problem: StreamProblem | null,
  ) {}
}

/** A step that completes a trade, and where in the log it happened. */
export interface Completion {
  readonly trade: CompletedOrder;
  readonly position: bigint;
}

/** One batch folded: each touched order's change, and the trades completed on the way. */
export interface FoldedBatch {
  readonly changes: ReadonlyMap<string, BatchFold>;
  readonly completions: readonly Completion[];
}

/**
 * The order's fold just before the event of `version` (null: nothing before it). Read models keep
 * no copy of the fold: it is a pure function of the stream's events 1..version-1, which never
 * change, so it comes from memory (FoldCache) or from the event store (preloadStreams).
 */
export type StateLoader = (orderId: string, version: bigint) => StoredState | null;

/**
 * Folds a batch of events, loading each order's prior state at most once and keeping it in
 * memory for the rest of the batch, so rows that depend only on an order's final state are
 * written once per batch instead of once per event.
 */
export function foldBatch(events: readonly RecordedEvent[], load: StateLoader): FoldedBatch {
  const changes = new Map<string, BatchFold>();
  const completions: Completion[] = [];
  for (const event of events) {
    if (!isOrderEvent(event)) continue;
    const orderId = orderIdFromStream(event.stream);
    const current = changes.get(orderId);
    const before = current === undefined ? load(orderId, event.version) : current.before;
    const step = foldStep(event, current === undefined ? before : { state: current.state, version: current.version, problem: current.problem });
    if (step === null) continue;
    const trade = completedBy(step);
    if (trade !== null) completions.push({ trade, position: event.position });
    changes.set(orderId, new BatchFold(orderId, before, step.after, step.version, event, step.problem));
  }
  return { changes, completions };
}

/** The fold of a stream's events before `version`, as the read models saw them (foldStep). */
export function foldStreamBefore(stream: readonly RecordedEvent[], version: bigint): StoredState | null {
  let prior: StoredState | null = null;
  for (const event of stream) {
    if (event.version >= version) break;
    const step = foldStep(event, prior);
    if (step !== null) prior = { state: step.after, version: step.version, problem: step.problem };
  }
  return prior;
}

/** The step that completes an order records its trade; any other step leaves trades alone. */
export function completedBy(step: FoldedStep): CompletedOrder | null {
  return step.after.status === 'completed' && step.before.status !== 'completed' ? step.after : null;
}

/** ISO time → epoch ms for sortable integer columns; null stays null. */
export function toMs(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

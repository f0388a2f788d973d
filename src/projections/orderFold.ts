import type { Database as Db } from 'better-sqlite3';
import { ORDER_STREAM_PREFIX, orderIdFromStream } from '../aggregates/order/index.js';
import { initialState, isTerminal, type CompletedOrder, type OrderState } from '../aggregates/order/state.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { EMPTY_FOLD, foldOrderEvent, type StreamProblem } from '../orderStream/fold.js';
import { cachedStatement } from './registry.js';

/** One step of an order's fold as a projection sees it; `problem` when this event broke the fold. */
export interface FoldedStep {
  readonly orderId: string;
  readonly before: OrderState;
  readonly after: OrderState;
  readonly version: bigint;
  readonly problem: StreamProblem | null;
}

/** An order's fold as a state table keeps it: the state, its version, and the break that froze it, if any. */
export interface StoredState {
  readonly state: OrderState;
  readonly version: bigint;
  readonly problem: StreamProblem | null;
}

export function isOrderEvent(event: RecordedEvent): boolean {
  return event.stream.startsWith(ORDER_STREAM_PREFIX);
}

/**
 * Folds one recorded event onto the stored state with the one fold (foldOrderEvent). Null when
 * there is nothing to apply: another stream, a version already applied (idempotence), an event
 * after the order ended or after its stream broke, or an event of an order whose state is not held
 * (a stream that did not start with OrderPlaced). An event that breaks the fold is kept as the
 * step's `problem`; a projection never stops on a recorded fact.
 */
export function foldStep(event: RecordedEvent, prior: StoredState | null): FoldedStep | null {
  if (!isOrderEvent(event)) return null;
  if (prior !== null && event.version <= prior.version) return null;
  // Terminal orders receive no further events (invariant 5). Folding a late one anyway would make
  // read models depend on batch boundaries, since state tables forget terminal orders; verify
  // reports such an event instead. A broken stream stays at its last readable state.
  if (prior !== null && (isTerminal(prior.state.status) || prior.problem !== null)) return null;
  // A fold starts at the stream's first event. A late OrderPlaced after the order ended must not
  // start it again: state tables have forgotten the ended order, the orders table has not, and both
  // must agree whichever of them (or the in-memory cache) the prior state was read from.
  if (prior === null && event.version !== 1n) return null;
  const before = prior?.state ?? initialState;
  const folded = foldOrderEvent({ ...EMPTY_FOLD, state: before, version: prior?.version ?? 0n }, event);
  const problem = folded.problems[0] ?? null;
  return { orderId: orderIdFromStream(event.stream), before, after: folded.state, version: event.version, problem };
}

/**
 * A fold as stored JSON: bigints tagged as `{"$n": "123"}` so any shape of the state round-trips.
 * Read back by `decodeState`, which refuses a snapshot of another codec version, loudly.
 */
const CODEC_VERSION = 2;

export function encodeState(stored: Omit<StoredState, 'version'>): string {
  return JSON.stringify({ codec: CODEC_VERSION, state: stored.state, problem: stored.problem }, (_key, value: unknown) =>
    typeof value === 'bigint' ? { $n: value.toString() } : value,
  );
}

export function decodeState(text: string, version: bigint): StoredState {
  const raw: unknown = JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && '$n' in value && typeof value.$n === 'string' ? BigInt(value.$n) : value,
  );
  if (!isSnapshot(raw)) throw new Error(`a stored order state is not of codec ${CODEC_VERSION}: rebuild the read models`);
  return { state: raw.state, version, problem: raw.problem };
}

function isSnapshot(raw: unknown): raw is { codec: number; state: OrderState; problem: StreamProblem | null } {
  return raw !== null && typeof raw === 'object' && 'codec' in raw && raw.codec === CODEC_VERSION && 'state' in raw;
}

/**
 * What one batch did to one order: the state held before the batch (null: none held, so no row of
 * it exists in any state table) and the state after it, with the last event that moved it there.
 */
export class BatchFold {
  private json: string | null = null;
  constructor(
    readonly orderId: string,
    readonly before: StoredState | null,
    readonly state: OrderState,
    readonly version: bigint,
    readonly lastEvent: RecordedEvent,
    /** The event that broke this order's fold, if one did (in this batch or before). */
    readonly problem: StreamProblem | null,
  ) {}

  /** The state as stored, encoded once however many tables store it. */
  get stateJson(): string {
    this.json ??= encodeState({ state: this.state, problem: this.problem });
    return this.json;
  }
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

export type StateLoader = (orderId: string) => StoredState | null;

export interface FoldOptions {
  /**
   * Every event is past the checkpoint of the tables the loader reads (applyEvents guarantees it).
   * Then a stream's first event has nothing stored before it, and its look-up is skipped.
   */
  readonly fresh?: boolean;
}

/**
 * Folds a batch of events, loading each order's stored state at most once and keeping it in
 * memory for the rest of the batch, so rows that depend only on an order's final state are
 * written once per batch instead of once per event.
 */
export function foldBatch(events: readonly RecordedEvent[], load: StateLoader, options: FoldOptions = {}): FoldedBatch {
  const changes = new Map<string, BatchFold>();
  const completions: Completion[] = [];
  for (const event of events) {
    if (!isOrderEvent(event)) continue;
    const orderId = orderIdFromStream(event.stream);
    const current = changes.get(orderId);
    const before = current === undefined ? loadBefore(event, orderId, load, options) : current.before;
    const step = foldStep(event, current === undefined ? before : { state: current.state, version: current.version, problem: current.problem });
    if (step === null) continue;
    const trade = completedBy(step);
    if (trade !== null) completions.push({ trade, position: event.position });
    changes.set(orderId, new BatchFold(orderId, before, step.after, step.version, event, step.problem));
  }
  return { changes, completions };
}

function loadBefore(event: RecordedEvent, orderId: string, load: StateLoader, options: FoldOptions): StoredState | null {
  return options.fresh === true && event.version === 1n ? null : load(orderId);
}

/** The step that completes an order records its trade; any other step leaves trades alone. */
export function completedBy(step: FoldedStep): CompletedOrder | null {
  return step.after.status === 'completed' && step.before.status !== 'completed' ? step.after : null;
}

/** Reads a stored state from any table with (order_id, version, state) columns. */
export function loadStateFrom(db: Db, table: string): StateLoader {
  const stmt = cachedStatement(db, `SELECT version, state FROM ${table} WHERE order_id = ?`);
  return (orderId) => {
    const row = stmt.get(orderId) as { version: number; state: string } | undefined;
    return row === undefined ? null : decodeState(row.state, BigInt(row.version));
  };
}

/** DDL of a state table: the fold of every non-terminal order, for projections that need it. */
export function stateTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL);`;
}

/**
 * Writes the batch's final states to a state table. Terminal orders leave it (they receive no
 * further events, invariant 5), which keeps it as small as the set of live orders. An order that
 * began and ended within the batch never had a row, so there is nothing to delete.
 */
export function saveStates(db: Db, table: string, batch: FoldedBatch): void {
  const remove = cachedStatement(db, `DELETE FROM ${table} WHERE order_id = ?`);
  const upsert = cachedStatement(db, `INSERT OR REPLACE INTO ${table} (order_id, version, state) VALUES (?, ?, ?)`);
  for (const f of batch.changes.values()) {
    if (!isTerminal(f.state.status)) upsert.run(f.orderId, f.version, f.stateJson);
    else if (f.before !== null) remove.run(f.orderId);
  }
}

/** ISO time → epoch ms for sortable integer columns; null stays null. */
export function toMs(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

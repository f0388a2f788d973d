import type { Database as Db } from 'better-sqlite3';
import { evolve, ORDER_EVENT_TYPES, ORDER_STREAM_PREFIX, orderIdFromStream, type OrderEventType } from '../aggregates/order/index.js';
import { initialState, isTerminal, type OrderState } from '../aggregates/order/state.js';
import { toOrderEvent } from '../commands/loadOrder.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { recordedAtOf } from './eventSource.js';
import { cachedStatement } from './registry.js';

/** One step of an order's fold as a projection sees it. */
export interface FoldedStep {
  readonly orderId: string;
  readonly before: OrderState;
  readonly after: OrderState;
  readonly version: bigint;
}

export interface StoredState {
  readonly state: OrderState;
  readonly version: bigint;
}

const KNOWN_TYPES = new Set<string>(ORDER_EVENT_TYPES);

export function isOrderEvent(event: RecordedEvent): boolean {
  return event.stream.startsWith(ORDER_STREAM_PREFIX) && KNOWN_TYPES.has(event.type as OrderEventType);
}

/**
 * Folds one recorded event onto the stored state. Null when there is nothing to apply: another
 * stream, an unknown type, a version already applied (idempotence), an event after the order ended,
 * or an event of an order whose state is not held (a stream that did not start with OrderPlaced).
 */
export function foldStep(event: RecordedEvent, prior: StoredState | null): FoldedStep | null {
  if (!isOrderEvent(event)) return null;
  if (prior !== null && event.version <= prior.version) return null;
  // Terminal orders receive no further events (invariant 5). Folding a late one anyway would make
  // read models depend on batch boundaries, since state tables forget terminal orders; verify
  // reports such an event instead.
  if (prior !== null && isTerminal(prior.state.status)) return null;
  // A fold starts at the stream's first event. A late OrderPlaced after the order ended must not
  // start it again: state tables have forgotten the ended order, the orders table has not, and both
  // must agree whichever of them (or the in-memory cache) the prior state was read from.
  if (prior === null && (event.type !== 'OrderPlaced' || event.version !== 1n)) return null;
  const before = prior?.state ?? initialState;
  let after: OrderState;
  try {
    after = evolve(before, toOrderEvent(event), recordedAtOf(event));
  } catch {
    // An event the decider cannot read (corrupted or forged in the store) is skipped here, the
    // same way in every batch and every rebuild, and reported by verify as malformed_event; a
    // projection never stops on a recorded fact.
    return null;
  }
  return { orderId: orderIdFromStream(event.stream), before, after, version: event.version };
}

/**
 * OrderState as JSON with its bigints as decimal strings. Written field by field rather than with
 * a replacer/reviver: this runs for every order a batch touches, and the generic hooks are slow.
 */
export function encodeState(state: OrderState): string {
  const e = state.escrow;
  return JSON.stringify({
    ...state,
    amountMicroRtc: state.amountMicroRtc.toString(),
    pricePerRtcNanoQuote: state.pricePerRtcNanoQuote.toString(),
    totalQuoteNano: state.totalQuoteNano.toString(),
    escrow: { ...e, lockedMicroRtc: e.lockedMicroRtc.toString(), releasedMicroRtc: e.releasedMicroRtc.toString(), refundedMicroRtc: e.refundedMicroRtc.toString() },
  });
}

export function decodeState(text: string): OrderState {
  const raw = JSON.parse(text) as Record<string, unknown> & { escrow: Record<string, unknown> };
  const e = raw.escrow;
  return {
    ...(raw as unknown as OrderState),
    amountMicroRtc: BigInt(raw.amountMicroRtc as string),
    pricePerRtcNanoQuote: BigInt(raw.pricePerRtcNanoQuote as string),
    totalQuoteNano: BigInt(raw.totalQuoteNano as string),
    escrow: {
      ...(e as unknown as OrderState['escrow']),
      lockedMicroRtc: BigInt(e.lockedMicroRtc as string),
      releasedMicroRtc: BigInt(e.releasedMicroRtc as string),
      refundedMicroRtc: BigInt(e.refundedMicroRtc as string),
    },
  };
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
  ) {}

  /** The state as stored, encoded once however many tables store it. */
  get stateJson(): string {
    this.json ??= encodeState(this.state);
    return this.json;
  }
}

/** A step that completes a trade, and where in the log it happened. */
export interface Completion {
  readonly step: FoldedStep;
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
    const step = foldStep(event, current ?? before);
    if (step === null) continue;
    if (completesTrade(step)) completions.push({ step, position: event.position });
    changes.set(orderId, new BatchFold(orderId, before, step.after, step.version, event));
  }
  return { changes, completions };
}

function loadBefore(event: RecordedEvent, orderId: string, load: StateLoader, options: FoldOptions): StoredState | null {
  return options.fresh === true && event.version === 1n ? null : load(orderId);
}

/** The step that completes an order records its trade; any other step leaves trades alone. */
export function completesTrade(step: FoldedStep): boolean {
  return step.after.status === 'completed' && step.before.status !== 'completed';
}

/** Reads a stored state from any table with (order_id, version, state) columns. */
export function loadStateFrom(db: Db, table: string): StateLoader {
  const stmt = cachedStatement(db, `SELECT version, state FROM ${table} WHERE order_id = ?`);
  return (orderId) => {
    const row = stmt.get(orderId) as { version: number; state: string } | undefined;
    return row === undefined ? null : { version: BigInt(row.version), state: decodeState(row.state) };
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

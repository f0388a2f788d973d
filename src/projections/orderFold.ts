import type { Database as Db } from 'better-sqlite3';
import { evolve, ORDER_EVENT_TYPES, ORDER_STREAM_PREFIX, orderIdFromStream, type OrderEventType } from '../aggregates/order/index.js';
import { initialState, isTerminal, type OrderState } from '../aggregates/order/state.js';
import { toOrderEvent } from '../commands/loadOrder.js';
import type { RecordedEvent } from '../eventstore/types.js';
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
  if (prior === null && event.type !== 'OrderPlaced') return null;
  const before = prior?.state ?? initialState;
  const after = evolve(before, toOrderEvent(event), event.metadata.recorded_at);
  return { orderId: orderIdFromStream(event.stream), before, after, version: event.version };
}

/**
 * OrderState as JSON with its bigints as decimal strings. Written field by field rather than with
 * a replacer/reviver: this runs for every event of a rebuild, and the generic hooks are slow.
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

/** An order's state at the end of a batch, and the last event that moved it there. */
export interface BatchFold {
  readonly orderId: string;
  readonly state: OrderState;
  readonly version: bigint;
  readonly lastEvent: RecordedEvent;
}

/**
 * Folds a batch of events, loading each order's stored state once and keeping it in memory for
 * the rest of the batch. Rows that depend only on an order's final state are then written once
 * per batch instead of once per event. `onStep` sees every individual step (trades need the
 * completing one).
 */
export function foldBatch(
  events: readonly RecordedEvent[],
  load: (orderId: string) => StoredState | null,
  onStep?: (step: FoldedStep, event: RecordedEvent) => void,
): Map<string, BatchFold> {
  const folded = new Map<string, BatchFold>();
  for (const event of events) {
    if (!isOrderEvent(event)) continue;
    const orderId = orderIdFromStream(event.stream);
    const prior = folded.get(orderId) ?? load(orderId);
    const step = foldStep(event, prior);
    if (step === null) continue;
    onStep?.(step, event);
    folded.set(orderId, { orderId, state: step.after, version: step.version, lastEvent: event });
  }
  return folded;
}

/** Reads a stored state from any table with (order_id, version, state) columns. */
export function loadStateFrom(db: Db, table: string): (orderId: string) => StoredState | null {
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
 * further events, invariant 5), which keeps it as small as the set of live orders.
 */
export function saveStates(db: Db, table: string, folded: Map<string, BatchFold>): void {
  const remove = cachedStatement(db, `DELETE FROM ${table} WHERE order_id = ?`);
  const upsert = cachedStatement(db, `INSERT OR REPLACE INTO ${table} (order_id, version, state) VALUES (?, ?, ?)`);
  for (const f of folded.values()) {
    if (isTerminal(f.state.status)) remove.run(f.orderId);
    else upsert.run(f.orderId, f.version, encodeState(f.state));
  }
}

/** ISO time → epoch ms for sortable integer columns; null stays null. */
export function toMs(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

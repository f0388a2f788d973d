import type { Database as Db } from 'better-sqlite3';
import { isTerminal } from '../aggregates/order/state.js';
import { orderIdFromStream } from '../aggregates/order/index.js';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import { LazyEvent, rawReaderOf } from './eventSource.js';
import { BatchFold, completedBy, foldStep, foldStreamBefore, isOrderEvent, type Completion, type FoldedBatch, type StoredState } from './orderFold.js';
import type { CopyTarget } from './applyCopies.js';

/**
 * The rebuild's fold of the whole log (issue 14 lever 6). Orders are independent streams, so each
 * live order is folded in memory from batch to batch and its rows are written only when it ends
 * or when the transaction that carries the copies' checkpoint commits, instead of once per batch
 * of 20,000 events as the runner's path did. Rows come from the read models' own writers
 * (`orderFold.write`) fed with the same before/after states the runner would hand them, so a
 * rebuilt copy equals what the runner writes, row for row (tests/projections/rebuildEqualsLive).
 */

/** An order as the rebuild holds it: what its rows show, and its fold since. */
interface HeldOrder {
  /** The fold the copy's rows show (null: no row of this order written yet). */
  written: StoredState | null;
  /** The fold so far; null for a stream whose fold never started (its first event was not version 1). */
  state: StoredState | null;
  /** The last event that moved it since `written`; null when the rows show `state`. */
  lastEvent: RecordedEvent | null;
}

/** Default bound on orders held in memory; beyond it clean entries go and are folded again from their streams on need. */
const HELD_ORDERS = 20_000;

export class RebuildFold {
  private readonly held = new Map<string, HeldOrder>();
  /** Orders that ended since the last flush (they leave `held`: nothing more folds onto them). */
  private ended = new Map<string, BatchFold>();
  private completions: Completion[] = [];

  constructor(private readonly capacity = HELD_ORDERS) {}

  /**
   * Folds one event of the log. False when the event belongs to an order whose fold before it is
   * not held (a copy resuming from a checkpoint, an order dropped from memory): the caller loads
   * it from its stream (`hold`) and folds the event again.
   */
  fold(event: RecordedEvent): boolean {
    if (!isOrderEvent(event)) return true;
    const orderId = orderIdFromStream(event.stream);
    const entry = this.held.get(orderId);
    if (entry === undefined && event.version !== 1n) return false;
    const step = foldStep(event, entry?.state ?? null);
    if (step === null) return true;
    const trade = completedBy(step);
    if (trade !== null) this.completions.push({ trade, position: event.position });
    const state: StoredState = { state: step.after, version: step.version, problem: step.problem };
    const written = entry?.written ?? null;
    if (isTerminal(step.after.status)) {
      // Ended: no event folds onto it any more (foldStep), so its rows are final once written.
      this.held.delete(orderId);
      this.ended.set(orderId, new BatchFold(orderId, written, state.state, state.version, event, state.problem));
      return true;
    }
    if (entry === undefined) this.held.set(orderId, { written, state, lastEvent: event });
    else {
      entry.state = state;
      entry.lastEvent = event;
    }
    return true;
  }

  /** An order's fold before `version`, read from its stream: what the copy's rows show at its checkpoint. */
  hold(orderId: string, state: StoredState | null): void {
    this.held.set(orderId, { written: state, state, lastEvent: null });
  }

  /** True when the fold of this order is held in memory. */
  holds(orderId: string): boolean {
    return this.held.has(orderId);
  }

  /** Ended orders since the last call, with the trades they completed: written at once, then forgotten. */
  takeEnded(): FoldedBatch {
    const batch: FoldedBatch = { changes: this.ended, completions: this.completions };
    this.ended = new Map();
    this.completions = [];
    return batch;
  }

  /**
   * Every order whose rows do not show its fold yet (ended or live): what must be written before a
   * checkpoint may pass its last event. Once taken, the held folds count as written.
   */
  takeDirty(): FoldedBatch {
    const batch = this.takeEnded();
    const changes = batch.changes as Map<string, BatchFold>;
    for (const [orderId, entry] of this.held) {
      if (entry.lastEvent === null || entry.state === null) continue;
      changes.set(orderId, new BatchFold(orderId, entry.written, entry.state.state, entry.state.version, entry.lastEvent, entry.state.problem));
      entry.written = entry.state;
      entry.lastEvent = null;
    }
    return batch;
  }

  /** After a commit: clean entries beyond the bound go (oldest first); a later event loads them again. */
  trim(): void {
    for (const [orderId, entry] of this.held) {
      if (this.held.size <= this.capacity) break;
      if (entry.lastEvent === null) this.held.delete(orderId);
    }
  }
}

/** Writes a folded set of orders to every order read model's copy, and the events to the others. */
export function writeCopies(db: Db, targets: readonly CopyTarget[], batch: FoldedBatch | null, events: readonly RecordedEvent[]): void {
  for (const { projection, tables } of targets) {
    if (projection.orderFold !== undefined) {
      if (batch !== null && (batch.changes.size > 0 || batch.completions.length > 0)) projection.orderFold.write(db, batch, tables);
    } else if (events.length === 0) continue;
    else if (projection.applyBatch !== undefined) projection.applyBatch(db, events, tables);
    else for (const event of events) projection.apply(db, event, tables);
  }
}

/** Where a window stopped, and what it needs loaded before the next one. */
export interface WindowResult {
  /** The last event applied (the copies' new checkpoint); equal to the start when none was. */
  readonly position: bigint;
  readonly events: number;
  /** Order streams to read before going on (their first event here is not folded: its fold is not held). */
  readonly needs: ReadonlyMap<string, string>;
}

export interface WindowOptions {
  readonly db: Db;
  readonly targets: readonly CopyTarget[];
  readonly fold: RebuildFold;
  /** The copies' common checkpoint. */
  readonly after: bigint;
  readonly maxEvents: number;
  /** Rows read per chunk inside the window: bounds memory, whatever the window's size. */
  readonly chunk: number;
  /** The events of the window, read synchronously chunk by chunk. */
  readonly read: (after: bigint, max: number) => readonly RecordedEvent[];
}

/**
 * One window of the log folded and written, synchronously, inside the caller's transaction: chunks
 * of rows are read, folded and dropped; orders that end are written at once; at the end every
 * order still dirty is written, so the checkpoint (`position`) covers exactly what the rows show.
 * The window stops early, before the first event whose order's fold must first be read from its
 * stream (then `needs` names those orders).
 */
export function foldWindow(options: WindowOptions): WindowResult {
  const { db, targets, fold } = options;
  let position = options.after;
  let count = 0;
  const needs = new Map<string, string>();
  while (count < options.maxEvents && needs.size === 0) {
    const events = options.read(position, Math.min(options.chunk, options.maxEvents - count));
    if (events.length === 0) break;
    let applied = events.length;
    for (let i = 0; i < events.length; i++) {
      if (fold.fold(events[i] as RecordedEvent)) continue;
      applied = i;
      collectNeeds(fold, events, i, needs);
      break;
    }
    const done = applied === events.length ? events : events.slice(0, applied);
    writeCopies(db, targets, fold.takeEnded(), done);
    const last = done[done.length - 1];
    if (last !== undefined) position = last.position;
    count += done.length;
    if (applied < events.length) break;
  }
  writeCopies(db, targets, fold.takeDirty(), []);
  return { position, events: count, needs };
}

/** The orders among the rest of the chunk whose fold is not held and whose first event here is not their first. */
function collectNeeds(fold: RebuildFold, events: readonly RecordedEvent[], from: number, needs: Map<string, string>): void {
  const seen = new Set<string>();
  for (let i = from; i < events.length; i++) {
    const event = events[i] as RecordedEvent;
    if (!isOrderEvent(event)) continue;
    const orderId = orderIdFromStream(event.stream);
    if (seen.has(orderId)) continue;
    seen.add(orderId);
    if (event.version !== 1n && !fold.holds(orderId)) needs.set(orderId, event.stream);
  }
}

/** Reads the streams a window stopped for and holds each order's fold before its next event. */
export async function loadNeeds(store: EventStore, fold: RebuildFold, needs: ReadonlyMap<string, string>, after: bigint): Promise<void> {
  for (const [orderId, stream] of needs) {
    const events = await store.readStream(stream);
    const next = events.find((event) => event.position > after);
    fold.hold(orderId, foldStreamBefore(events, next?.version ?? BigInt(events.length + 1)));
  }
}

/** A synchronous chunk reader for the window: raw rows made lazy, when the store offers them. */
export function syncReader(store: EventStore): ((after: bigint, max: number) => readonly RecordedEvent[]) | null {
  const raw = rawReaderOf(store);
  if (raw === null) return null;
  return (after, max) => raw.readAllRawSync(after, max).map((row) => new LazyEvent(row));
}

import { storageFaultOf } from '../eventstore/storageFault.js';
import type { Database as Db } from 'better-sqlite3';
import { isTerminal } from '../aggregates/order/state.js';
import { orderIdFromStream } from '../aggregates/order/index.js';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import { foldBatch, foldStreamBefore, isOrderEvent, type FoldedBatch, type StateLoader, type StoredState } from './orderFold.js';
import type { Projection, TableNames } from './types.js';

/** One copy of a projection to feed: its tables and the checkpoint it has applied up to. */
export interface CopyTarget {
  readonly projection: Projection;
  readonly tables: TableNames;
  readonly position: bigint;
}

export interface CopyOutcome {
  readonly target: CopyTarget;
  /** The checkpoint after this batch; equal to target.position when nothing was fresh or it failed. */
  readonly position: bigint;
  readonly error: unknown;
}

export interface ApplyOptions {
  /** A savepoint per copy, so one copy's failure never blocks the others (the runner). */
  readonly isolate: boolean;
  /** Stores a copy's new checkpoint; runs inside that copy's savepoint, with its rows. */
  readonly checkpoint: (target: CopyTarget, position: bigint) => void;
  readonly cache: FoldCache;
  /** Streams of the orders the cache could not fold (preloadStreams). */
  readonly streams: PreloadedStreams;
}

/**
 * Folded order states kept across batches, so an order that moves in every batch is folded from
 * memory. An entry is the fold of its stream up to its version, a pure function of events that
 * never change, so it is valid for any copy at any checkpoint: it answers for the event right after
 * its version and for nothing else. It is advanced only after the batch's transaction commits.
 */
export class FoldCache {
  private readonly entries = new Map<string, StoredState>();
  constructor(private readonly capacity = 20_000) {}

  /** A loader that answers from memory when it holds the state right before `version`, else asks `load`. */
  loader(load: StateLoader): StateLoader {
    return (orderId, version) => {
      if (version === 1n) return null;
      const entry = this.entries.get(orderId);
      return entry !== undefined && entry.version === version - 1n ? entry : load(orderId, version);
    };
  }

  /** True when the state right before `version` is held (the event store need not be asked). */
  holdsBefore(orderId: string, version: bigint): boolean {
    return version === 1n || this.entries.get(orderId)?.version === version - 1n;
  }

  /** The batch's end states, oldest entries evicted past the capacity. */
  private advance(batch: FoldedBatch): void {
    for (const [orderId, fold] of batch.changes) {
      // Delete first so a refreshed entry moves to the young end of the Map's insertion order.
      this.entries.delete(orderId);
      // Ended orders fold nothing more: a miss loads them from their stream with the same result.
      if (!isTerminal(fold.state.status)) this.entries.set(orderId, { state: fold.state, version: fold.version, problem: fold.problem });
    }
    for (const orderId of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(orderId);
    }
  }

  /** After the batch's transaction (null: it failed): learn from it if every copy committed, else start over. */
  settle(outcome: BatchOutcome | null): void {
    if (outcome === null || outcome.copies.some((c) => c.error !== null)) this.clear();
    else for (const batch of outcome.folded) this.advance(batch);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The fold of an order was needed but neither the cache nor the preloaded streams held it. */
export class StateNotLoaded extends Error {
  constructor(readonly orderId: string, readonly version: bigint) {
    super(`the fold of order ${orderId} before version ${version} was not loaded`);
    this.name = 'StateNotLoaded';
  }
}

/** Order streams read from the event store before a batch's transaction, by order id. */
export type PreloadedStreams = ReadonlyMap<string, readonly RecordedEvent[]>;

/** Folds from preloaded streams; an order not preloaded fails the batch, which is tried again. */
export function streamLoader(streams: PreloadedStreams): StateLoader {
  return (orderId, version) => {
    if (version === 1n) return null;
    const stream = streams.get(orderId);
    if (stream === undefined) throw new StateNotLoaded(orderId, version);
    return foldStreamBefore(stream, version);
  };
}

/**
 * Reads, before the batch's transaction (reads may be async), the streams of the orders whose fold
 * the cache cannot give: their first event in the batch is not their first event and the cache does
 * not hold the state right before it. With `everyOrder` (copies at different checkpoints start the
 * batch at different events) every order whose first event here is not its stream's first is read.
 */
export async function preloadStreams(store: EventStore, events: readonly RecordedEvent[], cache: FoldCache, everyOrder: boolean): Promise<PreloadedStreams> {
  const first = new Map<string, RecordedEvent>();
  for (const event of events) {
    if (!isOrderEvent(event)) continue;
    const orderId = orderIdFromStream(event.stream);
    if (!first.has(orderId)) first.set(orderId, event);
  }
  const streams = new Map<string, readonly RecordedEvent[]>();
  for (const [orderId, event] of first) {
    if (event.version === 1n || (!everyOrder && cache.holdsBefore(orderId, event.version))) continue;
    streams.set(orderId, await store.readStream(event.stream));
  }
  return streams;
}

/** The outcome of one batch: per copy, and what the cache may learn once it has committed. */
export interface BatchOutcome {
  readonly copies: readonly CopyOutcome[];
  /** The folds of the batch's groups that folded orders (the cache learns their end states). */
  readonly folded: readonly FoldedBatch[];
}

/**
 * Applies one batch of the log to several copies inside the caller's transaction. Copies at the
 * same checkpoint form a group; within a group every order is loaded, folded and encoded once and
 * the result is handed to each order read model, instead of each of them doing it all again.
 * After the commit the caller passes the outcome to `FoldCache.settle`.
 */
export function applyToCopies(db: Db, targets: readonly CopyTarget[], events: readonly RecordedEvent[], options: ApplyOptions): BatchOutcome {
  const copies: CopyOutcome[] = [];
  const folded: FoldedBatch[] = [];
  const load = options.cache.loader(streamLoader(options.streams));
  for (const group of groupByPosition(targets)) {
    const fresh = eventsAfter(events, group.position);
    const last = fresh[fresh.length - 1];
    if (last === undefined) {
      for (const target of group.targets) copies.push({ target, position: target.position, error: null });
      continue;
    }
    const fold = foldForGroup(group, fresh, load);
    // Every group's fold ends at the batch's last event of each order, so all agree on end states.
    if (fold.ok && fold.batch !== null) folded.push(fold.batch);
    for (const target of group.targets) copies.push(applyOne(db, target, fresh, fold, last.position, options));
  }
  return { copies, folded };
}

/** Distinct checkpoints among the targets: more than one means a batch starts at different events. */
export function checkpointsDiffer(targets: readonly CopyTarget[]): boolean {
  return new Set(targets.map((t) => t.position)).size > 1;
}

interface Group {
  readonly position: bigint;
  readonly targets: CopyTarget[];
}

function groupByPosition(targets: readonly CopyTarget[]): Group[] {
  const groups = new Map<bigint, Group>();
  for (const target of targets) {
    const group = groups.get(target.position) ?? { position: target.position, targets: [] };
    group.targets.push(target);
    groups.set(target.position, group);
  }
  return [...groups.values()].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

/** The events past a checkpoint; batches are in log order, so this is a suffix. */
function eventsAfter(events: readonly RecordedEvent[], position: bigint): readonly RecordedEvent[] {
  const first = events[0];
  if (first === undefined || first.position > position) return events;
  return events.filter((event) => event.position > position);
}

type GroupFold = { readonly ok: true; readonly batch: FoldedBatch | null } | { readonly ok: false; readonly error: unknown };

/**
 * One fold for every order read model of the group. A fold that throws would throw for each of them
 * alike, so it fails them all.
 */
function foldForGroup(group: Group, fresh: readonly RecordedEvent[], load: StateLoader): GroupFold {
  if (!group.targets.some((t) => t.projection.orderFold !== undefined)) return { ok: true, batch: null };
  try {
    return { ok: true, batch: foldBatch(fresh, load) };
  } catch (error) {
    return { ok: false, error };
  }
}

function applyOne(db: Db, target: CopyTarget, fresh: readonly RecordedEvent[], fold: GroupFold, end: bigint, options: ApplyOptions): CopyOutcome {
  const { projection, tables } = target;
  const write = (): void => {
    if (projection.orderFold !== undefined) {
      if (!fold.ok) throw fold.error;
      if (fold.batch !== null) projection.orderFold.write(db, fold.batch, tables);
    } else if (projection.applyBatch !== undefined) projection.applyBatch(db, fresh, tables);
    else for (const event of fresh) projection.apply(db, event, tables);
    options.checkpoint(target, end);
  };
  if (!options.isolate) {
    write();
    return { target, position: end, error: null };
  }
  try {
    db.transaction(write)();
    return { target, position: end, error: null };
  } catch (error) {
    // A full or failing disk is no bug of this projection (and SQLite may have rolled the whole
    // transaction back): the batch fails as one, and the runner tries it again later.
    // A fold the preload missed (copies switched meanwhile) is no bug either: the batch is tried again.
    if (storageFaultOf(error) !== null || error instanceof StateNotLoaded) throw error;
    return { target, position: target.position, error };
  }
}

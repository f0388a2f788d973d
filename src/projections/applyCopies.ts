import { storageFaultOf } from '../eventstore/storageFault.js';
import type { Database as Db } from 'better-sqlite3';
import { isTerminal } from '../aggregates/order/state.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { foldBatch, loadStateFrom, type FoldedBatch, type StateLoader, type StoredState } from './orderFold.js';
import { tableName, type Projection, type TableNames } from './types.js';

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
  readonly cache?: FoldCache;
}

/**
 * Folded order states kept across batches, so an order that moves in every batch is not read and
 * decoded from SQLite each time. Valid only at the one position it was left at: a batch applied
 * anywhere else (another process advanced the tables, a copy was switched) empties it first. It
 * is advanced only after the batch's transaction commits, and emptied when one fails.
 */
export class FoldCache {
  private readonly entries = new Map<string, StoredState>();
  private position: bigint | null = null;
  constructor(private readonly capacity = 20_000) {}

  /** A loader for a batch applied after `position`, falling back to `load` on a miss. */
  loaderAt(position: bigint, load: StateLoader): StateLoader {
    if (this.position !== position) this.clear();
    return (orderId) => this.entries.get(orderId) ?? load(orderId);
  }

  isAt(position: bigint): boolean {
    return this.position === position;
  }

  /** The batch's end states, oldest entries evicted past the capacity. */
  private advance(position: bigint, batch: FoldedBatch): void {
    for (const [orderId, fold] of batch.changes) {
      // Delete first so a refreshed entry moves to the young end of the Map's insertion order.
      this.entries.delete(orderId);
      // Ended orders fold nothing more: a miss loads them (or nothing) with the same result.
      if (!isTerminal(fold.state.status)) this.entries.set(orderId, { state: fold.state, version: fold.version, problem: fold.problem });
    }
    for (const orderId of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(orderId);
    }
    this.position = position;
  }

  /**
   * After the batch's transaction (null: it failed): learn from it if every copy committed, else
   * start over. A batch that folded nothing for the cache's copies leaves it where it was.
   */
  settle(outcome: BatchOutcome | null): void {
    if (outcome === null || outcome.copies.some((c) => c.error !== null)) this.clear();
    else if (outcome.cacheable !== null) this.advance(outcome.cacheable.position, outcome.cacheable.batch);
  }

  clear(): void {
    this.entries.clear();
    this.position = null;
  }
}

/** The outcome of one batch: per copy, and what the cache may learn once it has committed. */
export interface BatchOutcome {
  readonly copies: readonly CopyOutcome[];
  readonly cacheable: { readonly batch: FoldedBatch; readonly position: bigint } | null;
}

/**
 * Applies one batch of the log to several copies inside the caller's transaction. Copies at the
 * same checkpoint form a group; within a group every order is loaded, folded and encoded once and
 * the result is handed to each order read model, instead of each of them doing it all again.
 * After the commit the caller passes the outcome to `FoldCache.settle`.
 */
export function applyToCopies(db: Db, targets: readonly CopyTarget[], events: readonly RecordedEvent[], options: ApplyOptions): BatchOutcome {
  const copies: CopyOutcome[] = [];
  const groups = groupByPosition(targets);
  const cacheGroup = pickCacheGroup(groups, options.cache);
  let cacheable: BatchOutcome['cacheable'] = null;
  for (const group of groups) {
    const fresh = eventsAfter(events, group.position);
    const last = fresh[fresh.length - 1];
    if (last === undefined) {
      for (const target of group.targets) copies.push({ target, position: target.position, error: null });
      continue;
    }
    const cache = group === cacheGroup ? options.cache : undefined;
    const fold = foldForGroup(db, group, fresh, cache);
    if (cache !== undefined && fold.ok && fold.batch !== null) cacheable = { batch: fold.batch, position: last.position };
    for (const target of group.targets) copies.push(applyOne(db, target, fresh, fold, last.position, options));
  }
  return { copies, cacheable };
}

interface Group {
  readonly position: bigint;
  readonly targets: CopyTarget[];
}

const foldsOrders = (group: Group): boolean => group.targets.some((t) => t.projection.orderFold !== undefined);

/** The cache follows one group: the one at the cache's position, else the first (which empties it). */
function pickCacheGroup(groups: readonly Group[], cache: FoldCache | undefined): Group | undefined {
  if (cache === undefined) return undefined;
  return groups.find((g) => foldsOrders(g) && cache.isAt(g.position)) ?? groups.find(foldsOrders);
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
 * One fold for every order read model of the group, loading prior states from the cache or from
 * the first such copy's state table (all copies at one checkpoint hold the same states). A fold
 * that throws would throw for each of them alike, so it fails them all.
 */
function foldForGroup(db: Db, group: Group, fresh: readonly RecordedEvent[], cache: FoldCache | undefined): GroupFold {
  const first = group.targets.find((t) => t.projection.orderFold !== undefined);
  if (first?.projection.orderFold === undefined) return { ok: true, batch: null };
  try {
    const fromTable = loadStateFrom(db, tableName(first.tables, first.projection.orderFold.stateTable));
    const load = cache === undefined ? fromTable : cache.loaderAt(group.position, fromTable);
    return { ok: true, batch: foldBatch(fresh, load, { fresh: true }) };
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
    if (storageFaultOf(error) !== null) throw error;
    return { target, position: target.position, error };
  }
}

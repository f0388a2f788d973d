import { randomUUID } from 'node:crypto';
import type { Database as Db } from 'better-sqlite3';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import { applyToCopies, checkpointsDiffer, FoldCache, preloadStreams, type BatchOutcome, type CopyTarget, type PreloadedStreams } from './applyCopies.js';
import { foldWindow, loadNeeds, RebuildFold, syncReader, type WindowResult } from './rebuildPass.js';
import { readEvents } from './eventSource.js';
import { activeCopy, cachedStatement, createTables, dropTables } from './registry.js';
import { acquireRebuild, assertLease, releaseLease, renewLease, type RebuildRow } from './rebuildLease.js';
import { tableNamesFor, type Projection } from './types.js';

export type RebuildProgress = (position: bigint, head: bigint) => void;

export interface RebuildOptions {
  readonly store: EventStore;
  readonly db: Db;
  readonly projection: Projection;
  /** Who holds the lease: a process id, host, or CLI run id. */
  readonly owner?: string;
  readonly leaseMs?: number;
  readonly batchSize?: number;
  readonly onProgress?: RebuildProgress;
  /** Abort between batches; the copy and its checkpoint stay for a later resume. */
  readonly signal?: AbortSignal;
  readonly clock?: () => number;
  /** Called after each committed batch; tests use it to interrupt a rebuild at a known point. */
  readonly afterBatch?: (position: bigint) => void | Promise<void>;
  /** Live orders whose fold is kept in memory between windows (RebuildFold); more are folded again from their streams. */
  readonly heldOrders?: number;
}

/** Several read models rebuilt in one pass over the log: each with its own lease, copy and switch. */
export interface RebuildManyOptions extends Omit<RebuildOptions, 'projection'> {
  readonly projections: readonly Projection[];
}

export interface RebuildResult {
  readonly name: string;
  /** The suffix of the new copy, which is also the rebuild's id. */
  readonly rebuildId: string;
  readonly position: bigint;
  readonly switched: boolean;
}

/**
 * Blue/green rebuild: builds a new copy of the projection's tables from position 0 while the
 * serving copy keeps answering reads and following the log; catches up to the head; then, in one
 * transaction, points the registry at the new copy and drops the old one. A rebuild that dies
 * resumes from its own checkpoint (the copy's rows and checkpoint commit together, as in the runner).
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const [result] = await rebuildProjections({ ...options, projections: [options.projection] });
  if (result === undefined) throw new Error('rebuild of one projection returned no result');
  return result;
}

/**
 * The same blue/green rebuild for several read models in one pass: each batch of the log is read
 * once and applied to every new copy in one transaction, order states folded once for all the order
 * read models (applyToCopies), each copy's checkpoint renewed with its rows. Each keeps its own
 * lease and switches on its own as soon as it has caught up. Reading and folding were most of a
 * single rebuild's cost, so six in one pass cost far less than six passes. If any lease is busy,
 * none is kept and RebuildBusy is thrown.
 */
export async function rebuildProjections(options: RebuildManyOptions): Promise<RebuildResult[]> {
  const clock = options.clock ?? Date.now;
  const owner = options.owner ?? `pid-${process.pid}-${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const held: Held[] = [];
  try {
    for (const projection of options.projections) {
      held.push({ projection, lease: acquireRebuild(options.db, projection, { owner, leaseMs, nowMs: clock() }) });
    }
    return await runRebuild(options, held, owner, leaseMs, clock);
  } catch (error) {
    for (const { projection } of held) releaseLease(options.db, projection.name, owner);
    throw error;
  }
}

interface Held {
  readonly projection: Projection;
  readonly lease: RebuildRow;
}

async function runRebuild(options: RebuildManyOptions, held: readonly Held[], owner: string, leaseMs: number, clock: () => number): Promise<RebuildResult[]> {
  const { db, store } = options;
  // Large windows: a live order's rows are written once per window (and once when it ends), so
  // the fewer windows the fewer writes; each window is one transaction of the copies' rows and
  // checkpoints. Its rows are read in chunks, so memory does not grow with it.
  const reader = syncReader(store);
  // Without synchronous reads (EventStoreDB) a batch is read whole before its transaction: smaller.
  const batchSize = options.batchSize ?? (reader === null ? DEFAULT_BATCH_EVENTS : DEFAULT_WINDOW_EVENTS);
  const cache = new FoldCache();
  const fold = new RebuildFold(options.heldOrders);
  const results = new Map<string, RebuildResult>();
  const pending = (): Held[] => held.filter((h) => !results.has(h.projection.name));
  const targetsNow = () => pending().map(({ projection, lease }) => ({
    projection,
    tables: tableNamesFor(projection, lease.suffix),
    position: assertLease(db, projection.name, owner, lease.suffix).position,
  }));
  const checkpoint = (targets: readonly CopyTarget[], position: bigint): void => {
    for (const target of targets) renewLease(db, target.projection.name, position, clock() + leaseMs);
  };
  const applyBatch = db.transaction((events: readonly RecordedEvent[], streams: PreloadedStreams): BatchOutcome => {
    return applyToCopies(db, targetsNow(), events, {
      isolate: false,
      cache,
      streams,
      checkpoint: (target, position) => checkpoint([target], position),
    });
  });
  const applyWindow = db.transaction((after: bigint, read: (after: bigint, max: number) => readonly RecordedEvent[]): WindowResult => {
    const targets = targetsNow();
    const window = foldWindow({ db, targets, fold, after, maxEvents: batchSize, chunk: Math.min(batchSize, CHUNK_EVENTS), read });
    if (window.events > 0) checkpoint(targets, window.position);
    return window;
  });
  const trySwitch = db.transaction((h: Held): boolean => switchCopy(db, h.projection, owner, h.lease.suffix, positionOf(db, h, owner)));
  const indexCopy = db.transaction((h: Held): void => {
    assertLease(db, h.projection.name, owner, h.lease.suffix);
    createTables(db, h.projection, h.lease.suffix);
  });
  const switchCaughtUp = async (left: readonly Held[], position: bigint): Promise<void> => {
    for (const h of left) {
      // The copy's secondary indexes, each built in one sort now that its rows are in (a no-op once built).
      indexCopy.immediate(h);
      if (trySwitch.immediate(h)) results.set(h.projection.name, { name: h.projection.name, rebuildId: h.lease.suffix, position, switched: true });
    }
    // A serving copy is ahead (the log grew meanwhile): read on, then try again.
    if (pending().length > 0) await new Promise((resolve) => setImmediate(resolve));
  };
  let position = minPosition(held.map((h) => h.lease.position));
  for (;;) {
    const left = pending();
    if (left.length === 0) return held.map((h) => results.get(h.projection.name) as RebuildResult);
    if (options.signal?.aborted === true) {
      for (const h of left) {
        releaseLease(db, h.projection.name, owner);
        results.set(h.projection.name, { name: h.projection.name, rebuildId: h.lease.suffix, position: positionOf(db, h, owner), switched: false });
      }
      continue;
    }
    const targets = targetsNow();
    if (reader !== null && !checkpointsDiffer(targets)) {
      // Every copy at one checkpoint (a fresh rebuild): the whole-log fold (rebuildPass.ts).
      const at = targets[0]?.position ?? position;
      const window = applyWindow.immediate(at, reader);
      fold.trim();
      await loadNeeds(store, fold, window.needs, window.position);
      if (window.events === 0 && window.needs.size === 0) {
        await switchCaughtUp(left, at);
        continue;
      }
      if (window.events === 0) continue;
      position = window.position;
    } else {
      // Copies at different checkpoints (one resumes further on): batch by batch until they meet.
      position = minPosition(targets.map((t) => t.position));
      const events = await readEvents(store, position, batchSize);
      if (events.length === 0) {
        await switchCaughtUp(left, position);
        continue;
      }
      const streams = await preloadStreams(store, events, cache, checkpointsDiffer(targets));
      position = applyRebuildBatch(applyBatch, cache, events, streams, position);
    }
    // Only a watcher needs the head; on EventStoreDB asking for it is a read of its own.
    if (options.onProgress) options.onProgress(position, await store.headPosition());
    await options.afterBatch?.(position);
  }
}

/** Events per window (one transaction): a few hundred ms of work, well inside a runner's busy timeout. */
const DEFAULT_WINDOW_EVENTS = 50_000;
/** Events per batch read whole before its transaction (stores without synchronous reads). */
const DEFAULT_BATCH_EVENTS = 20_000;
/** Rows read at a time inside a window. */
const CHUNK_EVENTS = 5_000;

const positionOf = (db: Db, h: Held, owner: string): bigint => assertLease(db, h.projection.name, owner, h.lease.suffix).position;

const minPosition = (positions: readonly bigint[]): bigint => positions.reduce((a, b) => (b < a ? b : a), positions[0] ?? 0n);

/** One committed batch; the cache learns from it only once it has committed. */
function applyRebuildBatch(
  applyBatch: { immediate(events: readonly RecordedEvent[], streams: PreloadedStreams): BatchOutcome },
  cache: FoldCache,
  events: readonly RecordedEvent[],
  streams: PreloadedStreams,
  position: bigint,
): bigint {
  let outcome: BatchOutcome | null = null;
  try {
    outcome = applyBatch.immediate(events, streams);
  } finally {
    cache.settle(outcome);
  }
  // The least advanced copy: where the next batch starts (a copy resuming further on skips what it has).
  const least = minPosition(outcome.copies.map((c) => c.position));
  return least > position ? least : position;
}

/**
 * The switch: only when the new copy has applied at least as much as the serving one, so a runner
 * following the registry never has to go back. Registry update, lease removal and the drop of the
 * old tables commit together.
 */
function switchCopy(db: Db, projection: Projection, owner: string, suffix: string, position: bigint): boolean {
  assertLease(db, projection.name, owner, suffix);
  const current = activeCopy(db, projection.name);
  if (current !== null && current.position > position) return false;
  cachedStatement(
    db,
    'INSERT OR REPLACE INTO projection_registry (name, suffix, position, version) VALUES (?, ?, ?, ?)',
  ).run(projection.name, suffix, position, projection.version);
  cachedStatement(db, 'DELETE FROM projection_rebuilds WHERE name = ?').run(projection.name);
  if (current !== null && current.suffix !== suffix) dropTables(db, projection, current.suffix);
  return true;
}

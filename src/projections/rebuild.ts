import { randomUUID } from 'node:crypto';
import type { Database as Db } from 'better-sqlite3';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import { applyToCopies, checkpointsDiffer, FoldCache, preloadStreams, type BatchOutcome, type CopyTarget, type PreloadedStreams } from './applyCopies.js';
import { foldWindow, loadNeeds, RebuildFold, syncReader, type WindowResult } from './rebuildPass.js';
import { readEvents } from './eventSource.js';
import { runFoldPipeline, type FoldedWindow, type FoldThreadOptions } from './rebuildPipeline.js';
import { replayStatements, StatementTable } from './statementLog.js';
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
  /**
   * Fold on a second thread while this one writes (rebuildPipeline.ts): for a SQLite store given by
   * its file. Without it, or for copies at different checkpoints, the rebuild runs on this thread.
   */
  readonly foldThread?: FoldThreadOptions;
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
  const run = new RebuildRun(options, held, owner, leaseMs, clock);
  for (;;) {
    const left = run.pending();
    if (left.length === 0) return run.results();
    if (options.signal?.aborted === true) {
      run.park(left);
      continue;
    }
    const position = await run.step(left);
    if (position !== null) await run.progress(position);
  }
}

/** One rebuild under way: its copies, their transactions, and the fold it carries from window to window. */
class RebuildRun {
  private readonly db: Db;
  private readonly store: EventStore;
  private readonly reader: ((after: bigint, max: number) => readonly RecordedEvent[]) | null;
  private readonly batchSize: number;
  private readonly cache = new FoldCache();
  private readonly fold: RebuildFold;
  private readonly done = new Map<string, RebuildResult>();
  private position: bigint;
  private readonly applyBatch;
  private readonly applyWindow;
  private readonly trySwitch;
  private readonly indexCopy;
  private readonly writeWindow;
  private readonly foldThread: FoldThreadOptions | undefined;
  /** The fold thread has run (once per rebuild: what the log grew by meanwhile is read here). */
  private piped = false;

  constructor(private readonly options: RebuildManyOptions, private readonly held: readonly Held[], private readonly owner: string, private readonly leaseMs: number, private readonly clock: () => number) {
    this.db = options.db;
    this.store = options.store;
    this.reader = syncReader(options.store);
    // Large windows: a live order's rows are written once per window (and once when it ends), so
    // the fewer windows the fewer writes; each window is one transaction of the copies' rows and
    // checkpoints, its rows read in chunks, so memory does not grow with it. Without synchronous
    // reads (EventStoreDB) a batch is read whole before its transaction: smaller.
    this.batchSize = options.batchSize ?? (this.reader === null ? DEFAULT_BATCH_EVENTS : DEFAULT_WINDOW_EVENTS);
    this.fold = new RebuildFold(options.heldOrders);
    this.position = minPosition(held.map((h) => h.lease.position));
    const db = this.db;
    this.applyBatch = db.transaction((events: readonly RecordedEvent[], streams: PreloadedStreams): BatchOutcome =>
      applyToCopies(db, this.targets(), events, { isolate: false, cache: this.cache, streams, checkpoint: (target, position) => this.checkpoint([target], position) }));
    this.applyWindow = db.transaction((after: bigint, read: (after: bigint, max: number) => readonly RecordedEvent[]): WindowResult => {
      const targets = this.targets();
      const window = foldWindow({ db, targets, fold: this.fold, after, maxEvents: this.batchSize, chunk: Math.min(this.batchSize, CHUNK_EVENTS), read });
      if (window.events > 0) this.checkpoint(targets, window.position);
      return window;
    });
    // A window folded on the fold thread: its recorded rows and the copies' checkpoint, together.
    this.writeWindow = db.transaction((window: FoldedWindow, statements: StatementTable): void => {
      const targets = this.targets();
      replayStatements(statements, window.statements);
      if (window.events > 0) this.checkpoint(targets, window.position);
    });
    this.foldThread = options.foldThread;
    this.trySwitch = db.transaction((h: Held): boolean => switchCopy(db, h.projection, owner, h.lease.suffix, positionOf(db, h, owner)));
    // The copy's secondary indexes, each built in one sort now that its rows are in (a no-op once built).
    this.indexCopy = db.transaction((h: Held): void => {
      assertLease(db, h.projection.name, owner, h.lease.suffix);
      createTables(db, h.projection, h.lease.suffix);
    });
  }

  pending(): Held[] {
    return this.held.filter((h) => !this.done.has(h.projection.name));
  }

  results(): RebuildResult[] {
    return this.held.map((h) => this.done.get(h.projection.name) as RebuildResult);
  }

  /** Aborted: the leases go back, the copies and their checkpoints stay for a later resume. */
  park(left: readonly Held[]): void {
    for (const h of left) {
      releaseLease(this.db, h.projection.name, this.owner);
      this.done.set(h.projection.name, { name: h.projection.name, rebuildId: h.lease.suffix, position: positionOf(this.db, h, this.owner), switched: false });
    }
  }

  /** After each committed window or batch: the watcher's progress, then the caller's hook. */
  async progress(position: bigint): Promise<void> {
    // Only a watcher needs the head; on EventStoreDB asking for it is a read of its own.
    if (this.options.onProgress) this.options.onProgress(position, await this.store.headPosition());
    await this.options.afterBatch?.(position);
  }

  /** One window or batch applied (its last position), or null when it applied nothing (it loaded folds, or switched copies). */
  async step(left: readonly Held[]): Promise<bigint | null> {
    const targets = this.targets();
    if (this.reader !== null && !checkpointsDiffer(targets)) {
      // Every copy at one checkpoint (a fresh rebuild): the whole-log fold (rebuildPass.ts).
      const at = targets[0]?.position ?? this.position;
      if (this.foldThread !== undefined && !this.piped) {
        this.piped = true;
        this.position = await this.pipe(this.foldThread, targets, at);
        return null;
      }
      const window = this.applyWindow.immediate(at, this.reader);
      this.fold.trim();
      await loadNeeds(this.store, this.fold, window.needs, window.position);
      if (window.events === 0 && window.needs.size === 0) await this.switchCaughtUp(left, at);
      if (window.events === 0) return null;
      this.position = window.position;
      return this.position;
    }
    // Copies at different checkpoints (one resumes further on): batch by batch until they meet.
    this.position = minPosition(targets.map((t) => t.position));
    const events = await readEvents(this.store, this.position, this.batchSize);
    if (events.length === 0) {
      await this.switchCaughtUp(left, this.position);
      return null;
    }
    const streams = await preloadStreams(this.store, events, this.cache, checkpointsDiffer(targets));
    this.position = applyRebuildBatch(this.applyBatch, this.cache, events, streams, this.position);
    return this.position;
  }

  /**
   * The bulk of the log folded on the fold thread and written here, window by window; progress and
   * afterBatch are called per window, as the single-thread path calls them per step.
   */
  private async pipe(foldThread: FoldThreadOptions, targets: readonly CopyTarget[], at: bigint): Promise<bigint> {
    const end = await runFoldPipeline({
      options: foldThread,
      targets,
      after: at,
      ...(this.options.batchSize === undefined ? {} : { windowEvents: this.options.batchSize }),
      ...(this.options.heldOrders === undefined ? {} : { heldOrders: this.options.heldOrders }),
      statements: new StatementTable((sql) => cachedStatement(this.db, sql)),
      write: (window, statements) => this.writeWindow.immediate(window, statements),
      afterWindow: async (position) => {
        await this.progress(position);
        return this.options.signal?.aborted !== true;
      },
    });
    return end.position;
  }

  private targets(): CopyTarget[] {
    return this.pending().map(({ projection, lease }) => ({
      projection,
      tables: tableNamesFor(projection, lease.suffix),
      position: assertLease(this.db, projection.name, this.owner, lease.suffix).position,
    }));
  }

  private checkpoint(targets: readonly CopyTarget[], position: bigint): void {
    for (const target of targets) renewLease(this.db, target.projection.name, position, this.clock() + this.leaseMs);
  }

  private async switchCaughtUp(left: readonly Held[], position: bigint): Promise<void> {
    for (const h of left) {
      this.indexCopy.immediate(h);
      if (this.trySwitch.immediate(h)) this.done.set(h.projection.name, { name: h.projection.name, rebuildId: h.lease.suffix, position, switched: true });
    }
    // A serving copy is ahead (the log grew meanwhile): read on, then try again.
    if (this.pending().length > 0) await new Promise((resolve) => setImmediate(resolve));
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

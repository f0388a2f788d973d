import type { Database as Db } from 'better-sqlite3';
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/types.js';
import { ALL_PROJECTIONS } from './all.js';
import { applyToCopies, checkpointsDiffer, FoldCache, preloadStreams, type BatchOutcome, type CopyTarget, type PreloadedStreams } from './applyCopies.js';
import { readEvents } from './eventSource.js';
import { activeCopy, ensureProjection, openReadDb, setActivePosition } from './registry.js';
import { readRebuild } from './rebuildLease.js';
import { ReadDbFile, type ReadDbDamage } from './readDbFile.js';
import { isCorruption } from '../eventstore/storageFault.js';
import { PositionWaiters } from './positionWaiters.js';
import { tableNamesFor, type Projection, type ProjectionState, type ProjectionStatus } from './types.js';

export interface RunnerOptions {
  readonly store: EventStore;
  /** An open read DB, or a path (file or ':memory:') the runner opens and closes itself. */
  readonly db: Db | string;
  readonly projections?: readonly Projection[];
  /** Events read per catch-up step when the runner fills a gap itself. */
  readonly batchSize?: number;
  readonly onError?: (error: unknown, projection: string | null) => void;
  /**
   * Called after each committed batch with the last position in it (progress, tests) and the
   * checkpoint each projection the batch advanced now has in the file (failed ones are absent).
   */
  readonly afterBatch?: (position: bigint, checkpoints: ReadonlyMap<string, bigint>) => void | Promise<void>;
  /** How long the runner waits before following the log again after it failed (a full disk). */
  readonly retryDelayMs?: number;
  /** At most this many reads wait for a position at once; more are answered "not reached" at once. */
  readonly maxWaiters?: number;
  /** Told when a read was answered at once because maxWaiters were already waiting. */
  readonly onWaitersFull?: (waiting: number) => void;
  /** Told each time the runner stops, starts catching up or has caught up (the worker thread reports it). */
  readonly onPhase?: (phase: RunnerPhase) => void;
}

export type RunnerPhase = 'stopped' | 'catching_up' | 'running';

/**
 * What the server, the read side and the settlement loops use of a read-model writer: the
 * in-process ProjectionRunner, or the main thread's handle on one running in a worker thread
 * (workerRunner.ts). `db` is always a connection of the calling thread, for reads.
 */
export interface ReadModelRunner {
  readonly db: Db;
  health(): ReadDbDamage | null;
  noteFault(error: unknown): void;
  restore(nowMs?: number): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  close(): Promise<void>;
  retry(name: string): void;
  positionOf(name: string): bigint;
  status(): Promise<ProjectionStatus[]>;
  waitFor(position: bigint, timeoutMs: number, names?: readonly string[]): Promise<boolean>;
  waitForCaughtUp(timeoutMs: number): Promise<boolean>;
}

/** Each waiting read holds a timer and a poll; a flood of min_position reads must not pile them up. */
export const DEFAULT_MAX_WAITERS = 1000;

export const DEFAULT_RETRY_DELAY_MS = 1000;

/**
 * Feeds every projection from the global log. Each batch is applied to every projection and their
 * checkpoints in ONE SQLite transaction, so a crash at any instant leaves rows and checkpoints in
 * agreement: on restart nothing is applied twice and nothing is skipped. Checkpoints are read from
 * the registry inside that transaction, never cached, because a rebuild in another process may
 * switch a projection to a new copy at any time.
 */
export class ProjectionRunner implements ReadModelRunner {
  private current: Db;
  private readonly ownsDb: boolean;
  /** The read DB's file, watched by name (null for ':memory:' or a DB opened by the caller). */
  private file: ReadDbFile | null;
  private restoring: Promise<void> | null = null;
  private readonly store: EventStore;
  private readonly projections: readonly Projection[];
  private readonly batchSize: number;
  private readonly onError: RunnerOptions['onError'];
  private readonly afterBatch: RunnerOptions['afterBatch'];
  private readonly failed = new Map<string, string>();
  private subscription: Subscription | null = null;
  private readonly retryDelayMs: number;
  private readonly onPhase: RunnerOptions['onPhase'];
  private retryTimer: NodeJS.Timeout | null = null;
  private stopRequested = false;
  private phase: RunnerPhase = 'stopped';
  /** The last position the subscription delivered and this runner applied up to. */
  private delivered = 0n;
  private readonly waiters: PositionWaiters;
  private applyTx: ReturnType<ProjectionRunner['compileApply']>;
  /** Folded order states carried from batch to batch (each valid for the event right after it). */
  private readonly cache = new FoldCache();

  constructor(options: RunnerOptions) {
    this.store = options.store;
    this.ownsDb = typeof options.db === 'string';
    this.current = typeof options.db === 'string' ? openReadDb(options.db) : options.db;
    this.file = typeof options.db === 'string' && options.db !== ':memory:' ? new ReadDbFile(options.db) : null;
    this.projections = options.projections ?? ALL_PROJECTIONS;
    this.batchSize = options.batchSize ?? 1000;
    this.onError = options.onError;
    this.afterBatch = options.afterBatch;
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.waiters = new PositionWaiters(options.maxWaiters ?? DEFAULT_MAX_WAITERS, options.onWaitersFull);
    this.onPhase = options.onPhase;
    this.applyTx = this.compileApply();
    for (const projection of this.projections) ensureProjection(this.db, projection);
  }

  /** The read DB in use; another object after restore(), so callers read it each time. */
  get db(): Db {
    return this.current;
  }

  private compileApply() {
    return this.current.transaction((events: readonly RecordedEvent[], streams: PreloadedStreams) => this.applyInTransaction(events, streams));
  }

  /** What is wrong with the read DB's file, or null (always null for a DB the runner does not own). */
  health(): ReadDbDamage | null {
    return this.file?.check() ?? null;
  }

  /** Reads and batches report what they met here: corruption makes the file damaged until restored. */
  noteFault(error: unknown): void {
    if (isCorruption(error)) this.file?.markCorrupt();
  }

  /**
   * Gives the service its read models back after the file was deleted, replaced or damaged: the
   * damaged file goes aside (kept), a fresh one is created, and every projection is rebuilt from
   * the event store, which this never touches. Reads answer 503 until it has caught up.
   */
  restore(nowMs = Date.now()): Promise<void> {
    // Two admins asking at once get the same restore.
    this.restoring ??= this.reopen(nowMs).finally(() => {
      this.restoring = null;
    });
    return this.restoring;
  }

  private async reopen(nowMs: number): Promise<void> {
    const file = this.file;
    if (file === null) throw new Error('only a read DB the runner opened from a path can be restored');
    await this.stop();
    const damage = file.check();
    try {
      this.current.close();
    } catch {
      // A damaged file may fail to close cleanly; it is moved aside below either way.
    }
    if (damage === 'corrupt' || damage === 'missing') file.moveAside(nowMs);
    this.current = openReadDb(file.path);
    this.file = new ReadDbFile(file.path);
    this.applyTx = this.compileApply();
    for (const projection of this.projections) ensureProjection(this.db, projection);
    this.failed.clear();
    this.cache.clear();
    this.delivered = 0n;
    this.start();
  }

  /** Starts following the log from the lowest checkpoint; resolves once subscribed. */
  start(): void {
    if (this.subscription !== null) return;
    this.stopRequested = false;
    this.delivered = this.lowestCheckpoint();
    this.setPhase('catching_up');
    this.subscription = this.store.subscribeAll(this.delivered, {
      onEvents: (events) => this.handleBatch(events),
      onCaughtUp: () => {
        this.setPhase('running');
        this.notify();
      },
      onError: (error) => {
        this.setPhase('stopped');
        this.subscription = null;
        this.noteFault(error);
        this.onError?.(error, null);
        // A damaged file fails every batch the same way: wait for restore() instead.
        if (this.health() === null) this.followAgainLater();
      },
    });
  }

  /**
   * A failed batch (a full disk, a locked or damaged file) stops the subscription; nothing of it
   * committed. The runner follows the log again from its checkpoints after a pause, so it goes on
   * by itself once the fault is gone, and /ready reports it stopped meanwhile.
   */
  private followAgainLater(): void {
    if (this.stopRequested || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopRequested) return;
      try {
        this.start();
      } catch (error) {
        // The read DB itself still fails (reading the checkpoints): report, and try again later
        // unless the file is damaged, which only restore() mends.
        this.noteFault(error);
        this.onError?.(error, null);
        if (this.health() === null) this.followAgainLater();
      }
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription !== null) await subscription.stop();
    this.setPhase('stopped');
    this.notify();
  }

  private setPhase(phase: RunnerPhase): void {
    if (phase === this.phase) return;
    this.phase = phase;
    this.onPhase?.(phase);
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.ownsDb) this.db.close();
  }

  /** One pass to the head without a subscription (CLI, tests); returns the lowest checkpoint. */
  async catchUp(): Promise<bigint> {
    for (;;) {
      const after = this.lowestCheckpoint();
      const events = await readEvents(this.store, after, this.batchSize);
      if (events.length === 0) return after;
      await this.applyBatch(events);
    }
  }

  private async handleBatch(events: readonly RecordedEvent[]): Promise<void> {
    // A projection may sit behind what the subscription already delivered (switched in by a
    // rebuild at a lower checkpoint, or failed and retried): fill that gap from the store first.
    let behind = this.lowestCheckpoint();
    while (behind < this.delivered) {
      const gap = (await readEvents(this.store, behind, this.batchSize)).filter((e) => e.position <= this.delivered);
      if (gap.length === 0) break;
      await this.applyBatch(gap);
      behind = this.lowestCheckpoint();
    }
    await this.applyBatch(events);
    const last = events[events.length - 1];
    if (last !== undefined && last.position > this.delivered) this.delivered = last.position;
  }

  private async applyBatch(events: readonly RecordedEvent[]): Promise<void> {
    const last = events[events.length - 1];
    if (last === undefined) return;
    // Streams of orders the cache cannot fold are read first: the transaction itself reads nothing async.
    const streams = await preloadStreams(this.store, events, this.cache, checkpointsDiffer(this.liveCopies()));
    let outcome: BatchOutcome | null = null;
    try {
      outcome = this.applyTx.immediate(events, streams);
    } finally {
      // Only what committed may be remembered; a failed commit empties the cache.
      this.cache.settle(outcome);
    }
    this.notify();
    await this.afterBatch?.(last.position, committedCheckpoints(outcome));
  }

  private applyInTransaction(events: readonly RecordedEvent[], streams: PreloadedStreams): BatchOutcome {
    const outcome = applyToCopies(this.db, this.liveCopies(), events, {
      // A savepoint per projection: a bug in one read model never blocks the others.
      isolate: true,
      cache: this.cache,
      streams,
      checkpoint: (target, position) => setActivePosition(this.db, target.projection.name, position),
    });
    for (const { target, error } of outcome.copies) {
      if (error === null) continue;
      this.failed.set(target.projection.name, error instanceof Error ? error.message : String(error));
      this.onError?.(error, target.projection.name);
    }
    return outcome;
  }

  /** The serving copy of every projection that is neither failed nor waiting for its rebuild. */
  private liveCopies(): CopyTarget[] {
    const targets: CopyTarget[] = [];
    for (const projection of this.projections) {
      if (this.failed.has(projection.name)) continue;
      const copy = activeCopy(this.db, projection.name);
      // A copy built by another version of this code waits for its rebuild; it keeps serving.
      if (copy === null || copy.version !== projection.version) continue;
      targets.push({ projection, tables: tableNamesFor(projection, copy.suffix), position: copy.position });
    }
    return targets;
  }

  /** Where the runner must read from so that every live projection gets every event. */
  private lowestCheckpoint(): bigint {
    const positions = this.liveCopies().map((copy) => copy.position);
    return positions.length === 0 ? this.delivered : positions.reduce((low, p) => (p < low ? p : low));
  }

  /** Forget a failure so the projection is tried again (after a fix or a rebuild). */
  retry(name: string): void {
    this.failed.delete(name);
  }

  positionOf(name: string): bigint {
    return activeCopy(this.db, name)?.position ?? 0n;
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    return this.projections.map((projection) => this.statusOf(projection, head));
  }

  private statusOf(projection: Projection, head: bigint): ProjectionStatus {
    return projectionStatus(this.db, projection, head, { failure: this.failed.get(projection.name) ?? null, phase: this.phase });
  }

  /**
   * Resolves true once the named projections (default: all) have applied `position`, false after
   * `timeoutMs`. Backs `min_position` reads. Polls too, since another process may advance them.
   */
  waitFor(position: bigint, timeoutMs: number, names?: readonly string[]): Promise<boolean> {
    return this.waiters.waitFor(reachedCheck(this, position, names ?? this.projections.map((p) => p.name)), timeoutMs);
  }

  /**
   * Resolves true once the subscription has delivered, and this runner applied, everything the log
   * held when it subscribed; false after `timeoutMs`. Start-up waits for this, not for a head
   * position: on a shared EventStoreDB the raw head is usually not a ledger event at all.
   */
  waitForCaughtUp(timeoutMs: number): Promise<boolean> {
    return this.waiters.waitUntil(() => this.phase === 'running', timeoutMs);
  }

  private notify(): void {
    this.waiters.notify();
  }
}

/** What a committed batch left each projection's checkpoint at (the ones it failed keep theirs, unnamed). */
function committedCheckpoints(outcome: BatchOutcome): ReadonlyMap<string, bigint> {
  const checkpoints = new Map<string, bigint>();
  for (const copy of outcome.copies) if (copy.error === null) checkpoints.set(copy.target.projection.name, copy.position);
  return checkpoints;
}

/**
 * Whether the named projections have applied `position`, as the runner's read DB shows it. A
 * damaged read DB counts as not reached (the check runs on a timer, where a throw would end the
 * process); the fault is noted.
 */
export function reachedCheck(runner: Pick<ReadModelRunner, 'positionOf' | 'noteFault'>, position: bigint, names: readonly string[]): () => boolean {
  return () => {
    try {
      return names.every((name) => runner.positionOf(name) >= position);
    } catch (error) {
      runner.noteFault(error);
      return false;
    }
  };
}

/**
 * One projection's checkpoint, lag and state as its read DB shows it: what the runner reports, and
 * what `projections status` reads from a read-only connection without a runner.
 */
export function projectionStatus(
  db: Db,
  projection: Projection,
  head: bigint,
  runner: { readonly failure: string | null; readonly phase: RunnerPhase },
): ProjectionStatus {
  const copy = activeCopy(db, projection.name);
  const position = copy?.position ?? 0n;
  const rebuild = readRebuild(db, projection.name);
  const lastError = runner.failure ?? (copy !== null && copy.version !== projection.version
    ? `copy is version ${copy.version}, code is version ${projection.version}: rebuild needed`
    : null);
  const state: ProjectionState = runner.failure !== null ? 'failed'
    : rebuild !== null ? 'rebuilding'
    : lastError !== null ? 'stopped'
    : runner.phase;
  return {
    name: projection.name,
    position,
    lag: head > position ? head - position : 0n,
    state,
    rebuild: rebuild === null ? null : { position: rebuild.position, owner: rebuild.owner },
    lastError,
  };
}

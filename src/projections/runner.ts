import type { Database as Db } from 'better-sqlite3';
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/types.js';
import { ALL_PROJECTIONS } from './all.js';
import { applyToCopies, FoldCache, type BatchOutcome, type CopyTarget } from './applyCopies.js';
import { readEvents } from './eventSource.js';
import { activeCopy, ensureProjection, openReadDb, setActivePosition } from './registry.js';
import { readRebuild } from './rebuildLease.js';
import { tableNamesFor, type Projection, type ProjectionState, type ProjectionStatus } from './types.js';

export interface RunnerOptions {
  readonly store: EventStore;
  /** An open read DB, or a path (file or ':memory:') the runner opens and closes itself. */
  readonly db: Db | string;
  readonly projections?: readonly Projection[];
  /** Events read per catch-up step when the runner fills a gap itself. */
  readonly batchSize?: number;
  readonly onError?: (error: unknown, projection: string | null) => void;
  /** Called after each committed batch with the last position in it (progress, tests). */
  readonly afterBatch?: (position: bigint) => void | Promise<void>;
}

/**
 * Feeds every projection from the global log. Each batch is applied to every projection and their
 * checkpoints in ONE SQLite transaction, so a crash at any instant leaves rows and checkpoints in
 * agreement: on restart nothing is applied twice and nothing is skipped. Checkpoints are read from
 * the registry inside that transaction, never cached, because a rebuild in another process may
 * switch a projection to a new copy at any time.
 */
export class ProjectionRunner {
  readonly db: Db;
  private readonly ownsDb: boolean;
  private readonly store: EventStore;
  private readonly projections: readonly Projection[];
  private readonly batchSize: number;
  private readonly onError: RunnerOptions['onError'];
  private readonly afterBatch: RunnerOptions['afterBatch'];
  private readonly failed = new Map<string, string>();
  private subscription: Subscription | null = null;
  private phase: 'stopped' | 'catching_up' | 'running' = 'stopped';
  /** The last position the subscription delivered and this runner applied up to. */
  private delivered = 0n;
  private readonly waiters = new Set<() => void>();
  private readonly applyTx;
  /** Folded order states carried from batch to batch (checked against the checkpoints each time). */
  private readonly cache = new FoldCache();

  constructor(options: RunnerOptions) {
    this.store = options.store;
    this.ownsDb = typeof options.db === 'string';
    this.db = typeof options.db === 'string' ? openReadDb(options.db) : options.db;
    this.projections = options.projections ?? ALL_PROJECTIONS;
    this.batchSize = options.batchSize ?? 1000;
    this.onError = options.onError;
    this.afterBatch = options.afterBatch;
    this.applyTx = this.db.transaction((events: readonly RecordedEvent[]) => this.applyInTransaction(events));
    for (const projection of this.projections) ensureProjection(this.db, projection);
  }

  /** Starts following the log from the lowest checkpoint; resolves once subscribed. */
  start(): void {
    if (this.subscription !== null) return;
    this.delivered = this.lowestCheckpoint();
    this.phase = 'catching_up';
    this.subscription = this.store.subscribeAll(this.delivered, {
      onEvents: (events) => this.handleBatch(events),
      onCaughtUp: () => {
        this.phase = 'running';
        this.notify();
      },
      onError: (error) => {
        this.phase = 'stopped';
        this.onError?.(error, null);
      },
    });
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription !== null) await subscription.stop();
    this.phase = 'stopped';
    this.notify();
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
    let outcome: BatchOutcome | null = null;
    try {
      outcome = this.applyTx.immediate(events);
    } finally {
      // Only what committed may be remembered; a failed commit empties the cache.
      this.cache.settle(outcome);
    }
    this.notify();
    await this.afterBatch?.(last.position);
  }

  private applyInTransaction(events: readonly RecordedEvent[]): BatchOutcome {
    const outcome = applyToCopies(this.db, this.liveCopies(), events, {
      // A savepoint per projection: a bug in one read model never blocks the others.
      isolate: true,
      cache: this.cache,
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
    const targets = names ?? this.projections.map((p) => p.name);
    const reached = () => targets.every((name) => this.positionOf(name) >= position);
    if (reached()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!reached()) return;
        finish(true);
      };
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(reached()), timeoutMs);
      const poll = setInterval(check, 50);
      this.waiters.add(check);
    });
  }

  /**
   * Resolves true once the subscription has delivered, and this runner applied, everything the log
   * held when it subscribed; false after `timeoutMs`. Start-up waits for this, not for a head
   * position: on a shared EventStoreDB the raw head is usually not a ledger event at all.
   */
  waitForCaughtUp(timeoutMs: number): Promise<boolean> {
    if (this.phase === 'running') return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.phase === 'running') finish(true);
      };
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(this.phase === 'running'), timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * One projection's checkpoint, lag and state as its read DB shows it: what the runner reports, and
 * what `projections status` reads from a read-only connection without a runner.
 */
export function projectionStatus(
  db: Db,
  projection: Projection,
  head: bigint,
  runner: { readonly failure: string | null; readonly phase: 'stopped' | 'catching_up' | 'running' },
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

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Database as Db } from 'better-sqlite3';
import type { EventStore } from '../eventstore/types.js';
import { isCorruption } from '../eventstore/storageFault.js';
import { ALL_PROJECTIONS } from './all.js';
import { PositionWaiters } from './positionWaiters.js';
import { ReadDbFile, type ReadDbDamage } from './readDbFile.js';
import { activeCopy, ensureProjection, openReadDb } from './registry.js';
import { DEFAULT_MAX_WAITERS, DEFAULT_RETRY_DELAY_MS, projectionStatus, type ReadModelRunner, type RunnerPhase } from './runner.js';
import type { ProjectionStatus } from './types.js';
import type { FromWorker, ToWorker, WorkerSettings } from './workerProtocol.js';

export interface WorkerRunnerOptions {
  /** The SQLite events file the writer thread reads (never ':memory:': another thread cannot see it). */
  readonly eventsPath: string;
  /** The read DB file; this thread reads it through a connection of its own. */
  readonly readDbPath: string;
  /** This thread's store: the head position for status and lag. */
  readonly store: EventStore;
  readonly onError?: (error: unknown, projection: string | null) => void;
  /** Called after each batch the writer committed, with its last position. */
  readonly afterBatch?: (position: bigint) => void;
  /** The writer's pause before following the log again after a failed batch; also before restarting a dead thread. */
  readonly retryDelayMs?: number;
  readonly maxWaiters?: number;
  readonly onWaitersFull?: (waiting: number) => void;
  /** How often a caught-up writer looks for appends when no read is waiting (default 10 ms). */
  readonly followPollMs?: number;
}

const DEFAULT_FOLLOW_POLL_MS = 10;
/** A writer that does not close within this after being asked is terminated (its open transaction rolls back). */
const STOP_GRACE_MS = 5_000;

/**
 * The main thread's handle on the read-model writer running in a worker thread (issue 14 lever 1):
 * the projections' batches, their fold and their commits leave the request thread. Reads, min_position
 * waits, /ready, status and the HTTP rebuild use this thread's own connection to the read DB (WAL: a
 * batch is visible here once the writer committed it). The writer reports each committed batch, so a
 * read waiting for a position is answered right after the batch that reached it, as in-process.
 * A writer thread that dies is reported (phase stopped, so /ready is 503; onError) and started again.
 */
export class WorkerProjectionRunner implements ReadModelRunner {
  private current: Db;
  private file: ReadDbFile;
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private phase: RunnerPhase = 'stopped';
  private readonly failed = new Map<string, string>();
  private readonly waiters: PositionWaiters;
  private restoring: Promise<void> | null = null;
  /** The damage a restore is mending: still reported until the new writer has caught up. */
  private mending: ReadDbDamage | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopRequested = false;
  private readonly retryDelayMs: number;
  /**
   * Each projection's checkpoint as this thread last learnt it: from the writer's batch messages,
   * and from the read DB on the waiters' shared poll (a rebuild or another process may move it).
   * Checkpoints only grow in a file (a rebuild switches only to a copy at least as far on), so this
   * is a lower bound of the file's: a wait answered from it has been reached. Emptied on restore.
   */
  private readonly known = new Map<string, bigint>();
  /**
   * A `wake` is on its way to the writer and no batch has answered it yet. Waits that arrive
   * meanwhile post none of their own: the writer reads the log again after every batch, and a batch
   * that leaves waits unreached posts the next wake (onBatch). One wake per batch instead of one per
   * wait: each is a postMessage here and a wake-up of the writer's thread (PERFORMANCE.md, session 7).
   */
  private wakePending = false;
  private wakes = 0;

  constructor(private readonly options: WorkerRunnerOptions) {
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.waiters = new PositionWaiters(options.maxWaiters ?? DEFAULT_MAX_WAITERS, options.onWaitersFull, () => this.onPoll());
    this.current = this.openDb();
    this.learnFromFile();
    this.file = new ReadDbFile(options.readDbPath);
  }

  get db(): Db {
    return this.current;
  }

  private openDb(): Db {
    const db = openReadDb(this.options.readDbPath);
    // Created here first, so the writer's own ensureProjection finds them and reads work before its first batch.
    for (const projection of ALL_PROJECTIONS) ensureProjection(db, projection);
    return db;
  }

  /**
   * The file's damage, or during a restore the damage it mends until the fresh read models have
   * caught up: reads answer 503 until then rather than a partly filled copy (the writer thread
   * takes a moment to start, an in-process runner catches a small log up before the next request).
   */
  health(): ReadDbDamage | null {
    return this.file.check() ?? this.mending;
  }

  noteFault(error: unknown): void {
    if (isCorruption(error)) this.file.markCorrupt();
  }

  start(): void {
    if (this.worker !== null) return;
    this.stopRequested = false;
    const settings: WorkerSettings = {
      eventsPath: this.options.eventsPath,
      readDbPath: this.options.readDbPath,
      retryDelayMs: this.retryDelayMs,
      followPollMs: this.options.followPollMs ?? DEFAULT_FOLLOW_POLL_MS,
    };
    const worker = spawnWriter(settings);
    this.worker = worker;
    this.wakePending = false;
    this.setPhase('catching_up');
    worker.on('message', (message: FromWorker) => this.onMessage(worker, message));
    worker.on('error', (error) => this.options.onError?.(error, null));
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.onExit(worker, code);
        resolve();
      });
    });
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    switch (message.kind) {
      case 'phase':
        this.setPhase(message.phase);
        return;
      case 'batch':
        // A writer replaced by a restore wrote to the file moved aside: its checkpoints are not this file's.
        if (worker === this.worker) this.learnFromBatch(message.checkpoints);
        this.wakePending = false;
        this.waiters.notify();
        // Waits this batch did not reach were for appends after its read: have the writer look again now.
        if (this.waiters.polledCount() > 0) this.wakeWriter();
        this.options.afterBatch?.(BigInt(message.position));
        return;
      case 'error': {
        const error = Object.assign(new Error(message.message), message.code === null ? {} : { code: message.code });
        this.noteFault(error);
        if (message.projection !== null) this.failed.set(message.projection, message.message);
        this.options.onError?.(error, message.projection);
        return;
      }
      case 'closed':
        return;
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.wakePending = false;
    this.setPhase('stopped');
    if (this.stopRequested) return;
    this.options.onError?.(new Error(`the read-model writer thread exited (code ${code}); starting it again`), null);
    // A damaged file fails every start the same way: restore() starts the writer then.
    if (this.health() !== null) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopRequested && this.worker === null && this.restoring === null) this.start();
    }, this.retryDelayMs);
    this.restartTimer.unref();
  }

  private setPhase(phase: RunnerPhase): void {
    this.phase = phase;
    if (phase === 'running') this.mending = null;
    this.waiters.notify();
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /** At most one unanswered wake (see wakePending). */
  private wakeWriter(): void {
    if (this.wakePending || this.worker === null) return;
    this.wakePending = true;
    this.wakes += 1;
    this.post({ kind: 'wake' });
  }

  /** How many wakes this handle posted to its writers (the tests count them). */
  get wakesPosted(): number {
    return this.wakes;
  }

  /**
   * The waiters' shared poll (every 50 ms while a read waits). A wake the writer found nothing for
   * (a position not yet committed, or one no batch will reach) gets no batch in answer; forgetting
   * it here, and waking the writer again for the reads still waiting, bounds the time waits go
   * without a wake to a poll tick (the writer's own follow poll, 10 ms, reads the log meanwhile too).
   */
  private onPoll(): void {
    this.wakePending = false;
    this.learnFromFile();
    if (this.waiters.polledCount() > 0) this.wakeWriter();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    if (worker !== null) {
      worker.postMessage({ kind: 'stop' } satisfies ToWorker);
      const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(grace);
    }
    this.setPhase('stopped');
  }

  async close(): Promise<void> {
    await this.stop();
    this.current.close();
  }

  /** For drills and tests: the writer thread dies as on a crash (nothing of an open batch commits). */
  async killWriter(): Promise<void> {
    await this.worker?.terminate();
    await this.exited;
  }

  /** As ProjectionRunner.restore: the damaged file goes aside, a fresh one is filled from the event store. */
  restore(nowMs = Date.now()): Promise<void> {
    this.restoring ??= this.reopen(nowMs).finally(() => {
      this.restoring = null;
    });
    return this.restoring;
  }

  private async reopen(nowMs: number): Promise<void> {
    await this.stop();
    const damage = this.file.check();
    try {
      this.current.close();
    } catch {
      // A damaged file may fail to close cleanly; it is moved aside below either way.
    }
    if (damage === 'corrupt' || damage === 'missing') this.file.moveAside(nowMs);
    this.mending = damage;
    this.current = this.openDb();
    this.known.clear();
    this.learnFromFile();
    this.file = new ReadDbFile(this.options.readDbPath);
    this.failed.clear();
    this.start();
  }

  retry(name: string): void {
    this.failed.delete(name);
    this.post({ kind: 'retry', name });
  }

  /** The checkpoint in the file (a read of the DB; the waits use what the writer reported instead). */
  positionOf(name: string): bigint {
    const position = activeCopy(this.db, name)?.position ?? 0n;
    this.known.set(name, position);
    return position;
  }

  private learnFromBatch(checkpoints: readonly (readonly [string, string])[]): void {
    for (const [name, at] of checkpoints) {
      const position = BigInt(at);
      if (position > (this.known.get(name) ?? 0n)) this.known.set(name, position);
    }
  }

  /** The poll's one look at the file for every waiting read; a damaged file keeps what was known. */
  private learnFromFile(): void {
    try {
      for (const projection of ALL_PROJECTIONS) this.positionOf(projection.name);
    } catch (error) {
      this.noteFault(error);
    }
  }

  private reachedKnown(position: bigint, names: readonly string[]): () => boolean {
    return () => names.every((name) => (this.known.get(name) ?? 0n) >= position);
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.options.store.headPosition();
    return ALL_PROJECTIONS.map((projection) =>
      projectionStatus(this.db, projection, head, { failure: this.failed.get(projection.name) ?? null, phase: this.phase }));
  }

  waitFor(position: bigint, timeoutMs: number, names?: readonly string[]): Promise<boolean> {
    // Answered from what the writer reported, not two queries per projection per check: the
    // waiters' poll reads the file for changes nobody announced (a CLI rebuild, another process).
    const reached = this.reachedKnown(position, names ?? ALL_PROJECTIONS.map((p) => p.name));
    if (reached()) return Promise.resolve(true);
    // The writer may be between polls: have it look now, so the wait is as short as in-process.
    this.wakeWriter();
    return this.waiters.waitFor(reached, timeoutMs);
  }

  waitForCaughtUp(timeoutMs: number): Promise<boolean> {
    return this.waiters.waitUntil(() => this.phase === 'running', timeoutMs);
  }
}

/**
 * The writer thread from the built file (dist/…/runnerWorker.js). Run from TypeScript sources (tests
 * under vitest, `tsx`), the thread registers tsx's loader first, then loads runnerWorker.ts.
 */
function spawnWriter(settings: WorkerSettings): Worker {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new Worker(new URL('./runnerWorker.js', here), { workerData: settings });
  // tsx's ESM API (its .mjs build: require.resolve names the CommonJS one).
  const tsxApi = pathToFileURL(createRequire(here).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = new URL('./runnerWorker.ts', here).href;
  const boot = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: settings });
}

import { Worker } from 'node:worker_threads';
import type { CopyTarget } from './applyCopies.js';
import { errorOf, type ThreadError } from './rebuildInWorker.js';
import type { RecordedStatements, StatementTable } from './statementLog.js';
import type { TableNames } from './types.js';

/**
 * The rebuild on two threads (issue 14 lever 6): a fold thread (foldThread.ts) reads the log and
 * folds it window by window, recording the copies' rows; this thread, which holds the read DB
 * connection, the leases and the switch, writes each window's rows and the copies' checkpoint in
 * one transaction, as the single-thread rebuild does. Reading, JSON and the fold were half of a
 * rebuild's CPU and SQLite's writes the other half, on one core while the other sat idle.
 *
 * What stays as it was: a window's rows and its checkpoint commit together (a crash leaves every
 * copy at a checkpoint its rows cover, and the serving copies untouched); the switch happens after
 * the fold thread has reached the head, on this thread, by the single-thread code. A failure on
 * either side ends both: the window under way is rolled back, the fold thread terminated.
 */

export interface FoldThreadOptions {
  /** The event store's file: the fold thread opens its own connection to it. */
  readonly storePath: string;
  /** Windows folded and posted but not yet written, at most: the bound on memory between the threads. */
  readonly windowsInFlight?: number;
  /** Old-generation cap of the fold thread's heap, MB (default FOLD_HEAP_MB). */
  readonly heapMb?: number;
  /** Young-generation size of the fold thread's heap, MB (default FOLD_YOUNG_MB). */
  readonly youngMb?: number;
  /** Called as each window is taken to be written, with how many were waiting then (it included); tests check the bound. */
  readonly onQueueDepth?: (windows: number) => void;
}

/** What the fold thread needs: where to read, what to fold for, from where. */
export interface FoldThreadRequest {
  readonly storePath: string;
  readonly targets: readonly { readonly name: string; readonly tables: TableNames }[];
  /** The copies' common checkpoint. */
  readonly after: bigint;
  readonly windowEvents: number;
  readonly chunkEvents: number;
  readonly heldOrders?: number;
  readonly windowsInFlight: number;
}

/** One window folded: its rows, recorded, and the checkpoint they cover. */
export interface FoldedWindow {
  readonly type: 'window';
  /** 1, 2, ...: the order windows were posted in. */
  readonly seq: number;
  readonly position: bigint;
  readonly events: number;
  readonly statements: RecordedStatements;
}

export type FoldThreadReply = FoldedWindow | { readonly type: 'end'; readonly position: bigint } | { readonly type: 'error'; readonly error: ThreadError };

/** The writer's word to the fold thread: a window is committed, its memory free. */
export type ParentMessage = { readonly type: 'ack' };

export { threadErrorOf } from './rebuildInWorker.js';

/**
 * One window posted and not yet written, at most, besides the one being folded (which waits, once
 * folded, for that one to be written): the writer always has the next window ready when it is done.
 */
export const WINDOWS_IN_FLIGHT = 1;

/** The fold thread's old generation: the held folds, a chunk's events and a window's recorded rows, with room. */
export const FOLD_HEAP_MB = 96;

/**
 * The fold thread's young generation. A worker's default follows its old-generation cap and is a
 * few MB, so a chunk's rows and JSON outlive scavenges and are copied; a larger one is faster but
 * is RSS (1M events, rebuild-thread: 16 MB 238 MB RSS, 32 MB 256 MB, 64 MB 317 MB).
 */
export const FOLD_YOUNG_MB = 24;

/** Rows read at a time on the fold thread: small enough that a chunk's rows, events and JSON die young. */
export const FOLD_CHUNK_EVENTS = 2000;

/**
 * Events per window (one transaction on the writing side) when the caller sets none: a window's
 * recorded rows are ~7 MB of text per 50,000 events, held on both sides; half of the single-thread
 * window keeps a whole process within 256 MB (1M events: 262 → 238 MB RSS) for more dirty-order writes.
 */
export const PIPELINE_WINDOW_EVENTS = 25_000;

/**
 * Live orders whose fold the fold thread holds (RebuildFold) when the caller sets none: fewer than
 * the single-thread path's 20,000, as its heap is RSS of its own; the orders folded again from
 * their streams are few (a few thousand live at a time in the bench's ledger).
 */
export const FOLD_HELD_ORDERS = 5000;

export interface PipelineRun {
  readonly options: FoldThreadOptions;
  readonly targets: readonly CopyTarget[];
  readonly after: bigint;
  /** Events per window (default PIPELINE_WINDOW_EVENTS). */
  readonly windowEvents?: number;
  /** Default FOLD_HELD_ORDERS. */
  readonly heldOrders?: number;
  /** Writes a window's rows and the copies' checkpoint, in one transaction; throws to fail the rebuild. */
  readonly write: (window: FoldedWindow, statements: StatementTable) => void;
  /** After each committed window (progress, test hooks); false stops the run (aborted). */
  readonly afterWindow: (position: bigint) => Promise<boolean>;
  readonly statements: StatementTable;
}

export interface PipelineEnd {
  /** The last checkpoint committed. */
  readonly position: bigint;
  /** True when the fold thread reached the head (nothing left to read); false when stopped. */
  readonly caughtUp: boolean;
}

/** Sources run as TypeScript (vitest, tsx) start the thread through tsx; the build runs the compiled file next to this one. */
function foldScript(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './foldThread.source.mjs' : './foldThread.js', here);
}

/** The fold thread's messages, taken one at a time; its death before the end is an error message too. */
class Inbox {
  private readonly queue: FoldThreadReply[] = [];
  private waiting: ((reply: FoldThreadReply) => void) | null = null;
  private over = false;

  constructor(worker: Worker) {
    worker.on('message', (reply: FoldThreadReply) => this.push(reply));
    worker.on('error', (error) => this.push({ type: 'error', error: { name: error.name, message: `the fold thread failed: ${error.message}` } }));
    worker.on('exit', (exitCode) => this.push({ type: 'error', error: { name: 'Error', message: `the fold thread exited with code ${exitCode} before the end of the log` } }));
  }

  /** Windows received and not yet taken. */
  get windows(): number {
    return this.queue.filter((reply) => reply.type === 'window').length;
  }

  next(): Promise<FoldThreadReply> {
    const reply = this.queue.shift();
    if (reply !== undefined) return Promise.resolve(reply);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  private push(reply: FoldThreadReply): void {
    // After an end or an error nothing more counts (the exit that follows a terminate, say).
    if (this.over) return;
    if (reply.type !== 'window') this.over = true;
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting !== null) waiting(reply);
    else this.queue.push(reply);
  }
}

/** Folds on a worker thread and writes here, window after window, until the head or a stop. */
export async function runFoldPipeline(run: PipelineRun): Promise<PipelineEnd> {
  const windowsInFlight = run.options.windowsInFlight ?? WINDOWS_IN_FLIGHT;
  const request: FoldThreadRequest = {
    storePath: run.options.storePath,
    targets: run.targets.map((t) => ({ name: t.projection.name, tables: t.tables })),
    after: run.after,
    windowEvents: run.windowEvents ?? PIPELINE_WINDOW_EVENTS,
    chunkEvents: FOLD_CHUNK_EVENTS,
    heldOrders: run.heldOrders ?? FOLD_HELD_ORDERS,
    windowsInFlight,
  };
  const worker = new Worker(foldScript(), {
    workerData: request,
    resourceLimits: { maxOldGenerationSizeMb: run.options.heapMb ?? FOLD_HEAP_MB, maxYoungGenerationSizeMb: run.options.youngMb ?? FOLD_YOUNG_MB },
    stdout: false,
    stderr: false,
  });
  const inbox = new Inbox(worker);
  let position = run.after;
  try {
    for (;;) {
      const reply = await inbox.next();
      if (reply.type === 'error') throw errorOf(reply.error);
      if (reply.type === 'end') return { position, caughtUp: true };
      run.options.onQueueDepth?.(1 + inbox.windows);
      run.write(reply, run.statements);
      position = reply.position;
      worker.postMessage({ type: 'ack' } satisfies ParentMessage);
      if (!(await run.afterWindow(position))) return { position, caughtUp: false };
    }
  } finally {
    await worker.terminate();
  }
}

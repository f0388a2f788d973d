import { Worker } from 'node:worker_threads';
import type { Database as Db } from 'better-sqlite3';
import type { RebuildResult } from './rebuild.js';
import { RebuildBusy, RebuildLeaseLost, releaseLease } from './rebuildLease.js';

/**
 * A server's blue/green rebuild on a worker thread (issue 14 lever 6): the request thread only
 * starts it and hears how it ended, and the worker's heap is capped (worker_threads
 * `resourceLimits`), so a rebuild of a large log stays within a known budget. The worker opens its
 * own connections (SQLite WAL lets them share the files with the server's); leases, checkpoints
 * and the switch are those of rebuildProjections, so the runner sees the new copy as it would
 * after a CLI rebuild.
 */

/** The old generation's cap: what a one-pass rebuild of every read model needs at 1M events, with room. */
export const REBUILD_HEAP_MB = 96;

/**
 * The young generation of the worker when it only writes (the fold on a thread of its own): its
 * garbage is the values of one statement at a time, and a worker's young generation is RSS the
 * fold thread needs more (rebuildPipeline.ts FOLD_YOUNG_MB).
 */
export const WRITER_YOUNG_MB = 8;

export interface RebuildThreadRequest {
  readonly storePath: string;
  readonly readDbPath: string;
  readonly names: readonly string[];
  readonly owner: string;
  readonly leaseMs?: number;
  readonly batchSize?: number;
  /**
   * 1 (the default): read, fold and write on the worker alone; 2: fold on a second thread
   * (rebuildPipeline.ts). Opt-in: on the shared 2-core bench box it measured no faster at 1M events
   * and ~20 % more CPU (docs/PERFORMANCE.md, "Session 7, rebuild").
   */
  readonly threads?: 1 | 2;
}

export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly projectionName?: string;
  readonly owner?: string;
}

export type RebuildThreadReply = { readonly ok: true; readonly results: RebuildResult[] } | { readonly ok: false; readonly error: ThreadError };

export interface WorkerRebuildOptions extends RebuildThreadRequest {
  /** Old-generation cap of the worker's heap, MB (default REBUILD_HEAP_MB). */
  readonly heapMb?: number;
  /** The parent's read DB connection: leases are given back through it if the worker dies. */
  readonly db?: Db;
}

/** Sources run as TypeScript (vitest, tsx) start the worker through tsx; the build runs the compiled file next to this one. */
function workerScript(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './rebuildThread.source.mjs' : './rebuildThread.js', here);
}

/** Rebuilds the named read models in one pass on a worker thread; settles when it has switched them (or failed). */
export function rebuildInWorker(options: WorkerRebuildOptions): Promise<RebuildResult[]> {
  const { heapMb, db, ...request } = options;
  const script = workerScript();
  return new Promise((resolve, reject) => {
    let reply: RebuildThreadReply | null = null;
    const worker = new Worker(script, {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: heapMb ?? REBUILD_HEAP_MB, ...(request.threads === 2 ? { maxYoungGenerationSizeMb: WRITER_YOUNG_MB } : {}) },
      stdout: false,
      stderr: false,
    });
    worker.on('message', (message: RebuildThreadReply) => {
      reply = message;
    });
    worker.on('error', (error) => {
      reply ??= { ok: false, error: { name: error.name, message: error.message, ...(codeOf(error) === undefined ? {} : { code: codeOf(error) as string }) } };
    });
    worker.on('exit', (exitCode) => {
      const end = reply ?? { ok: false as const, error: { name: 'Error', message: `the rebuild worker exited with code ${exitCode} before it answered` } };
      if (end.ok) {
        resolve(end.results);
        return;
      }
      // A worker that died (out of heap, killed) holds its leases until they expire: give them back now,
      // unless the server has already closed its read DB (shutting down mid-rebuild: they expire as usual).
      if (db?.open === true) for (const name of request.names) releaseLease(db, name, request.owner);
      reject(errorOf(end.error));
    });
  });
}

function codeOf(error: Error): string | undefined {
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** An error thrown on a worker thread, as plain data a message can carry (name, message, and the lease errors' fields). */
export function threadErrorOf(error: unknown): ThreadError {
  const e = error instanceof Error ? error : new Error(String(error));
  const extra = e as Error & { code?: unknown; projectionName?: unknown; owner?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(typeof extra.code === 'string' ? { code: extra.code } : {}),
    ...(typeof extra.projectionName === 'string' ? { projectionName: extra.projectionName } : {}),
    ...(typeof extra.owner === 'string' ? { owner: extra.owner } : {}),
  };
}

/** The worker's error as the in-process rebuild would have thrown it. */
export function errorOf(e: ThreadError): Error {
  if (e.code === 'rebuild_in_progress') return new RebuildBusy(e.projectionName ?? '', e.owner ?? '');
  if (e.code === 'rebuild_lease_lost') return new RebuildLeaseLost(e.projectionName ?? '');
  const error = new Error(e.message);
  error.name = e.name;
  if (e.code !== undefined) Object.assign(error, { code: e.code });
  return error;
}

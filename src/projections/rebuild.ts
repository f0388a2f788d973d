import { randomUUID } from 'node:crypto';
import type { Database as Db } from 'better-sqlite3';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import { applyToCopies, FoldCache, type BatchOutcome } from './applyCopies.js';
import { readEvents } from './eventSource.js';
import { activeCopy, cachedStatement, dropTables } from './registry.js';
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
  const clock = options.clock ?? Date.now;
  const owner = options.owner ?? `pid-${process.pid}-${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const lease = acquireRebuild(options.db, options.projection, { owner, leaseMs, nowMs: clock() });
  try {
    return await runRebuild(options, lease, owner, leaseMs, clock);
  } catch (error) {
    releaseLease(options.db, options.projection.name, owner);
    throw error;
  }
}

async function runRebuild(options: RebuildOptions, lease: RebuildRow, owner: string, leaseMs: number, clock: () => number): Promise<RebuildResult> {
  const { db, projection, store } = options;
  const tables = tableNamesFor(projection, lease.suffix);
  // Large batches: an order's state is loaded and saved once per batch, not once per event. The
  // cache carries states across batches; the lease makes this rebuild its copy's only writer.
  const batchSize = options.batchSize ?? 20_000;
  const cache = new FoldCache();
  const applyBatch = db.transaction((events: readonly RecordedEvent[]): BatchOutcome => {
    const row = assertLease(db, projection.name, owner, lease.suffix);
    return applyToCopies(db, [{ projection, tables, position: row.position }], events, {
      isolate: false,
      cache,
      checkpoint: (_target, position) => renewLease(db, projection.name, position, clock() + leaseMs),
    });
  });
  const trySwitch = db.transaction((position: bigint): boolean => switchCopy(db, projection, owner, lease.suffix, position));
  let position = lease.position;
  for (;;) {
    if (options.signal?.aborted === true) {
      releaseLease(db, projection.name, owner);
      return { name: projection.name, rebuildId: lease.suffix, position, switched: false };
    }
    const events = await readEvents(store, position, batchSize);
    if (events.length === 0) {
      if (trySwitch.immediate(position)) return { name: projection.name, rebuildId: lease.suffix, position, switched: true };
      // The serving copy is ahead (the log grew meanwhile): read on, then try again.
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    position = applyRebuildBatch(applyBatch, cache, events, position);
    // Only a watcher needs the head; on EventStoreDB asking for it is a read of its own.
    if (options.onProgress) options.onProgress(position, await store.headPosition());
    await options.afterBatch?.(position);
  }
}

/** One committed batch; the cache learns from it only once it has committed. */
function applyRebuildBatch(
  applyBatch: { immediate(events: readonly RecordedEvent[]): BatchOutcome },
  cache: FoldCache,
  events: readonly RecordedEvent[],
  position: bigint,
): bigint {
  let outcome: BatchOutcome | null = null;
  try {
    outcome = applyBatch.immediate(events);
  } finally {
    cache.settle(outcome);
  }
  return outcome.copies[0]?.position ?? position;
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

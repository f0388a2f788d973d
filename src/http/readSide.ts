import { randomUUID } from 'node:crypto';
import type { Ledger } from '../app/ledger.js';
import type { EventStore } from '../eventstore/types.js';
import { projectionByName } from '../projections/all.js';
import { orderBook } from '../projections/orderBook.js';
import { countOpenOrdersOfMaker, countOrdersByStatus, listOrders } from '../projections/orders.js';
import { rebuildProjection } from '../projections/rebuild.js';
import { rebuildInWorker } from '../projections/rebuildInWorker.js';
import { RebuildBusy, readRebuild } from '../projections/rebuildLease.js';
import type { ReadModelRunner } from '../projections/runner.js';
import { pairStats } from '../projections/stats.js';
import { listTrades } from '../projections/trades.js';
import { recoveryList, workBacklog } from '../projections/workQueue.js';
import type { ProjectionsAdmin, ReadModels } from './deps.js';
import { ApiError } from './errorMap.js';
import { storageFaultOf } from '../eventstore/storageFault.js';
import { resourceOfStored } from '../views/orderResource.js';

export interface SqliteReadSideOptions {
  readonly runner: ReadModelRunner;
  readonly store: EventStore;
  readonly ledger: Ledger;
  /** LEDGER_SETTLEMENT_STUCK_MS: what counts as stuck on GET /admin/recovery. */
  readonly stuckMs: number;
  /** Where a background rebuild's failure is reported (the logger). */
  readonly onRebuildError?: (error: unknown, name: string) => void;
  /**
   * The files of a SQLite store and read DB: rebuilds then run on a heap-limited worker thread
   * (rebuildInWorker), off the request thread. Without it (EventStoreDB, in-memory read DB) they
   * run in this thread.
   */
  readonly rebuildThread?: { readonly storePath: string; readonly readDbPath: string; readonly heapMb?: number };
}

/**
 * The SQLite read models and projection admin as AppDeps wants them: the query functions of
 * src/projections/ bound to the runner's read DB. The composition root can use this as it is.
 */
export function createSqliteReadSide(options: SqliteReadSideOptions): { readModels: ReadModels; projections: ProjectionsAdmin } {
  const { runner, store, ledger } = options;
  // Each answer is read in one transaction: a snapshot of the read DB, tables included, so a
  // rebuild in another process that switches copies and drops the old tables meanwhile can never
  // make a read fail or mix two copies (the count and the page of a list agree too). A read DB
  // that is missing or damaged answers 503 read_model_unavailable, never stale rows or a 500.
  const snapshot = <T>(read: () => T): T => readSnapshot(runner, read);
  const readModels: ReadModels = {
    waitFor: (position, timeoutMs) => runner.waitFor(position, timeoutMs),
    listOrders: (query, now) => snapshot(() => {
      const page = listOrders(runner.db, query, { now });
      return { orders: page.orders.map((stored) => resourceOfStored(stored, ledger.revealStored, ledger.quoteLegOfStored)), total: page.total };
    }),
    orderBook: (pair, now) => snapshot(() => orderBook(runner.db, pair, now)),
    trades: (query) => snapshot(() => listTrades(runner.db, query)),
    stats: (pair, now) => snapshot(() => pairStats(runner.db, pair, now)),
    recoveryList: (now) => snapshot(() => recoveryList(runner.db, { now, stuckMs: options.stuckMs })),
    backlog: (now) => snapshot(() => workBacklog(runner.db, now)),
    ordersByStatus: () => snapshot(() => countOrdersByStatus(runner.db)),
  };
  const projections: ProjectionsAdmin = {
    status: () => runner.status(),
    readModelDamage: () => runner.health(),
    async startRebuild(name) {
      const projection = projectionByName(name);
      if (projection === null) return null;
      if (runner.health() !== null) {
        // The whole read DB is gone or damaged: rebuilding one copy inside it cannot help, so the
        // file is restored and every projection rebuilt from the event store.
        const rebuildId = `restore-${randomUUID()}`;
        runner.restore().catch((error: unknown) => options.onRebuildError?.(error, name));
        return { rebuildId };
      }
      const db = runner.db;
      const running = readRebuild(db, name);
      if (running !== null) throw new RebuildBusy(name, running.owner);
      // The owner doubles as the rebuild's id: the admin answers before the rebuild has a suffix.
      const owner = `api-${randomUUID()}`;
      const rebuilt = options.rebuildThread === undefined
        ? rebuildProjection({ store, db, projection, owner })
        : rebuildInWorker({ ...options.rebuildThread, names: [name], owner, db });
      rebuilt.then(
        () => runner.retry(name),
        (error: unknown) => options.onRebuildError?.(error, name),
      );
      return { rebuildId: owner };
    },
  };
  return { readModels, projections };
}

function readSnapshot<T>(runner: ReadModelRunner, read: () => T): T {
  if (runner.health() !== null) throw new ApiError('read_model_unavailable');
  try {
    return runner.db.transaction(read)();
  } catch (error) {
    if (storageFaultOf(error) === null) throw error;
    runner.noteFault(error);
    throw new ApiError('read_model_unavailable');
  }
}

/** How long a place waits for the orders read model to reach the head before answering 503. */
const OPEN_ORDER_CATCH_UP_MS = 2_000;

/**
 * The open-order cap's count (issue 10), from the orders read model. The read model is eventually
 * consistent, so it is first brought to the store's head as of this request: every order whose
 * answer the wallet already has is counted (sequential places stop exactly at the cap), and only
 * places in flight at the same moment, which all count before any of them is applied, can pass it
 * together. The per-address rate limit bounds such a burst. A read model that is running but cannot
 * catch up in time refuses the place (503 read_model_lagging): failing open would admit the flood
 * the cap is for. A read DB that is missing or damaged answers null (not counted): commands need
 * only the event store and go on while /ready reports the damage (issue 13), and the cap holds again
 * once it is restored.
 */
export function openOrderCounter(options: { readonly runner: ReadModelRunner; readonly store: EventStore; readonly catchUpMs?: number }): (makerWallet: string, now: Date) => Promise<number | null> {
  const { runner, store } = options;
  return async (makerWallet, now) => {
    if (runner.health() !== null) return null;
    const head = await store.headPosition();
    const caughtUp = await runner.waitFor(head, options.catchUpMs ?? OPEN_ORDER_CATCH_UP_MS, ['orders']);
    if (runner.health() !== null) return null;
    if (!caughtUp) throw new ApiError('read_model_lagging', 'the orders read model is behind, so open orders cannot be counted; retry shortly');
    try {
      return readSnapshot(runner, () => countOpenOrdersOfMaker(runner.db, makerWallet, now));
    } catch (error) {
      if (error instanceof ApiError && error.code === 'read_model_unavailable') return null;
      throw error;
    }
  };
}

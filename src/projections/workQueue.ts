import type { Database as Db } from 'better-sqlite3';
import { orderFacts } from '../aggregates/order/facts.js';
import { IN_FLIGHT_STATUSES, isTerminal, type OrderStatus } from '../aggregates/order/state.js';
import { recordedAtOf } from './eventSource.js';
import { toMs, type FoldedBatch } from './orderFold.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection, type TableNames } from './types.js';

const IN_FLIGHT_SQL = IN_FLIGHT_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * What the reconciler reads: one row per non-terminal order with the times it must act at.
 * "Stuck" is measured from the order's last event, so a settlement that is moving is never
 * mistaken for a stuck one.
 */
export const workQueueProjection: Projection = orderProjection({
  name: 'work_queue',
  // 4: the fold is no longer stored beside the rows (work_queue_state went).
  version: 4,
  tables: [
    {
      base: 'work_queue',
      key: ['order_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL,
          last_event_at TEXT NOT NULL, last_event_at_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT,
          expires_at TEXT, expires_at_ms INTEGER, settle_by TEXT, settle_by_ms INTEGER, recovery_reason TEXT);
        CREATE INDEX IF NOT EXISTS ${t}_status ON ${t} (status, last_event_at_ms);`,
    },
  ],
  write: writeWork,
});

function writeWork(db: Db, batch: FoldedBatch, tables: TableNames): void {
  const table = tableName(tables, 'work_queue');
  const remove = cachedStatement(db, `DELETE FROM ${table} WHERE order_id = ?`);
  const upsert = cachedStatement(
    db,
    // An upsert, not INSERT OR REPLACE: an existing row is updated in place, without a delete and
    // re-insert that rewrites the primary-key index.
    `INSERT INTO ${table} (order_id, version, status, last_event_at, last_event_at_ms, attempts, last_error,
       expires_at, expires_at_ms, settle_by, settle_by_ms, recovery_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (order_id) DO UPDATE SET version = excluded.version, status = excluded.status,
       last_event_at = excluded.last_event_at, last_event_at_ms = excluded.last_event_at_ms, attempts = excluded.attempts,
       last_error = excluded.last_error, expires_at = excluded.expires_at, expires_at_ms = excluded.expires_at_ms,
       settle_by = excluded.settle_by, settle_by_ms = excluded.settle_by_ms, recovery_reason = excluded.recovery_reason`,
  );
  for (const f of batch.changes.values()) {
    // Terminal orders need no more work and receive no more events: they leave the queue (an
    // order that began and ended within the batch never entered it). A stream that broke on its
    // first event never had an order to work on.
    if (f.state.status === 'none' || isTerminal(f.state.status)) {
      if (f.before !== null) remove.run(f.orderId);
      continue;
    }
    const s = orderFacts(f.state);
    const at = recordedAtOf(f.lastEvent);
    upsert.run(f.orderId, f.version, s.status, at, toMs(at) ?? 0, s.attempts, s.lastError, s.expiresAt, toMs(s.expiresAt), s.settleBy, toMs(s.settleBy), s.recoveryReason);
  }
}

export interface DueWorkQuery {
  readonly now: Date;
  /** LEDGER_SETTLEMENT_STUCK_MS: how long a step may sit in flight since its last event. */
  readonly stuckMs: number;
  readonly limit: number;
}

/**
 * Orders the reconciler should look at, oldest first: in-flight past the stuck threshold, open
 * past expires_at, matched past settle_by, and every queued payout (a look-up changes nothing at
 * the node, so it is safe on every pass). Bounded by `limit` so a pass never scans without end.
 */
export function dueWork(db: Db, query: DueWorkQuery): string[] {
  const tables = activeTables(db, workQueueProjection);
  if (tables === null) return [];
  const nowMs = query.now.getTime();
  const rows = cachedStatement(
    db,
    `SELECT order_id FROM ${tableName(tables, 'work_queue')}
     WHERE (status IN (${IN_FLIGHT_SQL}) AND last_event_at_ms <= ?)
        OR status = 'payout_pending'
        OR (status = 'open' AND expires_at_ms <= ?)
        OR (status = 'matched' AND settle_by_ms <= ?)
     ORDER BY last_event_at_ms, order_id LIMIT ?`,
  ).all(nowMs - query.stuckMs, nowMs, nowMs, query.limit) as { order_id: string }[];
  return rows.map((r) => r.order_id);
}

export interface RecoveryEntry {
  order_id: string;
  status: OrderStatus;
  version: number;
  last_event_at: string;
  /** How long since the order's last event, at the `now` of the query. */
  idle_ms: number;
  attempts: number;
  last_error: string | null;
  recovery_reason: string | null;
}

/** GET /admin/recovery: orders in settlement_recovery, or in flight and idle past stuckMs. */
export function recoveryList(db: Db, query: { now: Date; stuckMs: number; limit?: number }): RecoveryEntry[] {
  const tables = activeTables(db, workQueueProjection);
  if (tables === null) return [];
  const nowMs = query.now.getTime();
  const rows = cachedStatement(
    db,
    `SELECT order_id, status, version, last_event_at, last_event_at_ms, attempts, last_error, recovery_reason
     FROM ${tableName(tables, 'work_queue')}
     WHERE status = 'settlement_recovery' OR (status IN (${IN_FLIGHT_SQL}) AND last_event_at_ms <= ?)
     ORDER BY last_event_at_ms, order_id LIMIT ?`,
  ).all(nowMs - query.stuckMs, query.limit ?? 500) as (Omit<RecoveryEntry, 'idle_ms'> & { last_event_at_ms: number })[];
  return rows.map(({ last_event_at_ms, ...rest }) => ({ ...rest, idle_ms: nowMs - last_event_at_ms }));
}

/** For metrics: how many orders are in flight and how long the oldest has been idle. */
export function workBacklog(db: Db, now: Date): { inFlight: number; oldestIdleMs: number | null } {
  const tables = activeTables(db, workQueueProjection);
  if (tables === null) return { inFlight: 0, oldestIdleMs: null };
  const row = cachedStatement(
    db,
    `SELECT count(*) AS n, min(last_event_at_ms) AS oldest FROM ${tableName(tables, 'work_queue')} WHERE status IN (${IN_FLIGHT_SQL})`,
  ).get() as { n: number; oldest: number | null };
  return { inFlight: row.n, oldestIdleMs: row.oldest === null ? null : now.getTime() - row.oldest };
}

/** Orders of the work queue in one of `statuses`, in order_id order after `afterOrderId`, at most `limit`. */
function ordersInStatus(db: Db, statuses: readonly OrderStatus[], afterOrderId: string, limit: number): string[] {
  const tables = activeTables(db, workQueueProjection);
  if (tables === null) return [];
  const rows = cachedStatement(
    db,
    `SELECT order_id FROM ${tableName(tables, 'work_queue')} WHERE status IN (${statuses.map(() => '?').join(', ')}) AND order_id > ? ORDER BY order_id LIMIT ?`,
  ).all(...statuses, afterOrderId, limit) as { order_id: string }[];
  return rows.map((r) => r.order_id);
}

/**
 * A list of the work queue's orders in `statuses` that a pass walks `perPass` at a time, going on
 * where the last pass stopped and starting again once it reaches the end, so none is left out
 * however many there are.
 */
export function statusWatchList(db: () => Db | null, statuses: readonly OrderStatus[], perPass: number): () => Promise<string[]> {
  let after = '';
  return async () => {
    const current = db();
    if (current === null) return [];
    let ids = ordersInStatus(current, statuses, after, perPass);
    // The last pass ended exactly at the end: this one starts again rather than looking at nothing.
    if (ids.length === 0 && after !== '') ids = ordersInStatus(current, statuses, '', perPass);
    const last = ids.at(-1);
    after = ids.length < perPass || last === undefined ? '' : last;
    return ids;
  };
}

/**
 * Open, matched and lapsed orders (whose escrow, if any, is held at the node; a lapsed sell order
 * keeps its maker's escrow, held by the ledger's worker, until it is re-armed or cancelled), for the
 * reconciler to look their escrow job up: a job cancelled, expired or claimed by another worker
 * behind the ledger's back is found before anyone takes the order or confirms.
 */
export const escrowWatchList = (db: () => Db | null, perPass: number): (() => Promise<string[]>) =>
  statusWatchList(db, ['open', 'matched', 'lapsed'], perPass);

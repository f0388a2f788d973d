import type { Database as Db } from 'better-sqlite3';
import { activeTables, cachedStatement } from './registry.js';
import { tableName } from './types.js';
import { workQueueProjection } from './workQueue.js';

/**
 * Matched and lapsed orders for the reconciler's chain-time step (src/settlement/chainTime.ts), read
 * from the work queue in order_id order after `afterOrderId`, at most `limit`. Which of them are
 * chain-verified and due is the decider's question (chainLookupDue), asked on each order's stream.
 */
export function matchedOrLapsedOrders(db: Db, afterOrderId: string, limit: number): string[] {
  const tables = activeTables(db, workQueueProjection);
  if (tables === null) return [];
  const rows = cachedStatement(
    db,
    `SELECT order_id FROM ${tableName(tables, 'work_queue')} WHERE status IN ('matched', 'lapsed') AND order_id > ? ORDER BY order_id LIMIT ?`,
  ).all(afterOrderId, limit) as { order_id: string }[];
  return rows.map((r) => r.order_id);
}

/** A list that walks matchedOrLapsedOrders pass by pass, starting again once it reaches the end, so none is left out. */
export function chainTimeWatchList(db: () => Db | null, perPass: number): () => Promise<string[]> {
  let after = '';
  return async () => {
    const current = db();
    if (current === null) return [];
    let ids = matchedOrLapsedOrders(current, after, perPass);
    if (ids.length === 0 && after !== '') ids = matchedOrLapsedOrders(current, '', perPass);
    const last = ids.at(-1);
    after = ids.length < perPass || last === undefined ? '' : last;
    return ids;
  };
}

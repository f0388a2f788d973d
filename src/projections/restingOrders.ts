import type { Database as Db } from 'better-sqlite3';
import type { OpenOrder, OrderState } from '../aggregates/order/state.js';
import type { Completion, FoldedBatch } from './orderFold.js';
import { toMs } from './orderFold.js';
import { cachedStatement } from './registry.js';

/**
 * Open orders resting on the book, one row each, shared by the order book and the stats read
 * models. Expiry is not projected (no event marks it until the reconciler sweeps): queries exclude
 * rows whose expires_at_ms has passed at the `now` they are given.
 */
export function restingDdl(table: string): string {
  return `
    CREATE TABLE IF NOT EXISTS ${table} (
      order_id TEXT PRIMARY KEY, pair TEXT NOT NULL, side TEXT NOT NULL, price_nano INTEGER NOT NULL,
      amount_micro INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS ${table}_level ON ${table} (pair, side, price_nano);`;
}

const openOf = (state: OrderState | undefined): OpenOrder | null => (state?.status === 'open' ? state : null);

/**
 * A row exists exactly while the stored state is open, so an order that was not open before the
 * batch has no row to delete, and one that stayed open kept the same row (amount, price, pair and
 * expiry never change while an order rests).
 */
export function applyResting(db: Db, table: string, batch: FoldedBatch): void {
  const remove = cachedStatement(db, `DELETE FROM ${table} WHERE order_id = ?`);
  const upsert = cachedStatement(
    db,
    `INSERT OR REPLACE INTO ${table} (order_id, pair, side, price_nano, amount_micro, expires_at_ms, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const fold of batch.changes.values()) {
    const s = openOf(fold.state);
    const was = openOf(fold.before?.state);
    if (s === null) {
      if (was !== null) remove.run(fold.orderId);
    } else if (was === null || !sameRestingRow(was, s)) {
      upsert.run(fold.orderId, s.pair, s.side, s.pricePerRtcNanoQuote, s.amountMicroRtc, toMs(s.expiresAt) ?? 0, s.createdAt);
    }
  }
}

function sameRestingRow(a: OpenOrder, b: OpenOrder): boolean {
  return a.pair === b.pair && a.side === b.side && a.pricePerRtcNanoQuote === b.pricePerRtcNanoQuote
    && a.amountMicroRtc === b.amountMicroRtc && a.expiresAt === b.expiresAt && a.createdAt === b.createdAt;
}

/**
 * Completed trades, one row per order: the completing event's position is the rowid, so rows
 * append in log order and a batch applied again changes nothing (an ended order completes once).
 * No index on order_id: nothing looks a row up by it, and each such index is a page written at a
 * random place per trade.
 */
export function tradeRowDdl(table: string): string {
  return `
    CREATE TABLE IF NOT EXISTS ${table} (
      position INTEGER PRIMARY KEY, order_id TEXT NOT NULL, pair TEXT NOT NULL, amount_micro INTEGER NOT NULL, price_nano INTEGER NOT NULL,
      completed_at_ms INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ${table}_time ON ${table} (pair, completed_at_ms);
    CREATE INDEX IF NOT EXISTS ${table}_pos ON ${table} (pair, position);`;
}

export function insertTradeRows(db: Db, table: string, completions: readonly Completion[]): void {
  if (completions.length === 0) return;
  const insert = cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${table} (order_id, pair, amount_micro, price_nano, completed_at_ms, position) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  for (const { trade, position } of completions) {
    insert.run(trade.orderId, trade.pair, trade.amountMicroRtc, trade.pricePerRtcNanoQuote, toMs(trade.completedAt) ?? 0, position);
  }
}

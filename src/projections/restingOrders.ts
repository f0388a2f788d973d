import type { Database as Db } from 'better-sqlite3';
import type { BatchFold, FoldedStep } from './orderFold.js';
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

export function applyResting(db: Db, table: string, fold: BatchFold): void {
  const s = fold.state;
  if (s.status !== 'open') {
    cachedStatement(db, `DELETE FROM ${table} WHERE order_id = ?`).run(fold.orderId);
    return;
  }
  cachedStatement(
    db,
    `INSERT OR REPLACE INTO ${table} (order_id, pair, side, price_nano, amount_micro, expires_at_ms, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(fold.orderId, s.pair, s.side, s.pricePerRtcNanoQuote, s.amountMicroRtc, toMs(s.expiresAt) ?? 0, s.createdAt ?? '');
}

/** Completed trades, one row per order (the primary key makes a second record impossible). */
export function tradeRowDdl(table: string): string {
  return `
    CREATE TABLE IF NOT EXISTS ${table} (
      order_id TEXT PRIMARY KEY, pair TEXT NOT NULL, amount_micro INTEGER NOT NULL, price_nano INTEGER NOT NULL,
      completed_at_ms INTEGER NOT NULL, position INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ${table}_time ON ${table} (pair, completed_at_ms);
    CREATE INDEX IF NOT EXISTS ${table}_pos ON ${table} (pair, position);`;
}

/** The step that completes an order records its trade; any other step leaves trades alone. */
export function completesTrade(step: FoldedStep): boolean {
  return step.after.status === 'completed' && step.before.status !== 'completed';
}

export function insertTradeRow(db: Db, table: string, step: FoldedStep, position: bigint): void {
  const s = step.after;
  cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${table} (order_id, pair, amount_micro, price_nano, completed_at_ms, position) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(step.orderId, s.pair, s.amountMicroRtc, s.pricePerRtcNanoQuote, toMs(s.completedAt) ?? 0, position);
}

import type { Database as Db } from 'better-sqlite3';
import { canonicalWallet } from '../aggregates/order/wallet.js';
import { orderFacts } from '../aggregates/order/facts.js';
import { assert, type OrderStatus, type PlacedOrder } from '../aggregates/order/state.js';
import { recordedAtOf } from './eventSource.js';
import type { Pair, Side } from '../aggregates/order/events.js';
import { toOrderResource, type OrderResource } from '../views/orderResource.js';
import { decodeState, loadStateFrom, type FoldedBatch, type StoredState } from './orderFold.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection, type TableNames } from './types.js';

/**
 * Every order as the API shows it. The row keeps the whole folded state (so the next event folds
 * onto it) plus the columns the listing filters and sorts on; price_nano is an integer column
 * because prices (at most 1000 quote = 10^12 nano) fit in int64 and must sort numerically.
 */
export const ordersProjection: Projection = orderProjection({
  name: 'orders',
  version: 2,
  tables: [
    {
      base: 'orders',
      key: ['order_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL, side TEXT, pair TEXT,
          maker_wallet TEXT, taker_wallet TEXT, price_nano INTEGER NOT NULL, created_at TEXT, expires_at TEXT NOT NULL,
          updated_at TEXT NOT NULL, state TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS ${t}_listing ON ${t} (status, pair, side, price_nano, created_at);
        CREATE INDEX IF NOT EXISTS ${t}_maker ON ${t} (maker_wallet);
        CREATE INDEX IF NOT EXISTS ${t}_taker ON ${t} (taker_wallet);`,
    },
    {
      // Streams the one fold could not read to the end: recorded, never a reason to stop projecting.
      base: 'order_stream_problems',
      key: ['order_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, reason TEXT NOT NULL);`,
    },
  ],
  // Terminal orders keep their row (the API lists them), so this table also remembers that they ended.
  stateTable: 'orders',
  write: writeOrders,
});

function writeOrders(db: Db, batch: FoldedBatch, tables: TableNames): void {
  const table = tableName(tables, 'orders');
  const upsert = cachedStatement(
    db,
    `INSERT OR REPLACE INTO ${table} (order_id, version, status, side, pair, maker_wallet, taker_wallet, price_nano, created_at, expires_at, updated_at, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const problem = cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${tableName(tables, 'order_stream_problems')} (order_id, version, kind, type, reason) VALUES (?, ?, ?, ?, ?)`,
  );
  for (const f of batch.changes.values()) {
    if (f.problem !== null) problem.run(f.orderId, f.problem.version, f.problem.kind, f.problem.type, f.problem.reason);
    // A stream that broke on its first event never had an order to list.
    if (f.state.status === 'none') continue;
    const s = orderFacts(f.state);
    const at = recordedAtOf(f.lastEvent);
    upsert.run(f.orderId, f.version, s.status, s.side, s.pair, s.makerWallet, s.takerWallet, s.pricePerRtcNanoQuote, s.createdAt, s.expiresAt, at, f.stateJson);
  }
}

/** One order as the orders read model holds it; null when it has none. */
export function getOrder(db: Db, orderId: string): StoredState | null {
  const tables = activeTables(db, ordersProjection);
  return tables === null ? null : loadStateFrom(db, tableName(tables, 'orders'))(orderId);
}

export interface OrdersQuery {
  readonly pair?: Pair;
  readonly side?: Side;
  /** Default 'open'; 'all' for every status. */
  readonly status?: OrderStatus | 'all';
  /** Orders where this wallet is maker or taker (any hex case). */
  readonly wallet?: string;
  readonly limit: number;
  readonly offset: number;
}

export interface OrdersPage {
  readonly orders: OrderResource[];
  readonly total: number;
}

export interface ListOptions {
  /** Decrypts the preimage of a completed order; omitted → htlc_secret stays null. */
  readonly revealSecret?: (state: PlacedOrder) => string | null;
  /**
   * The time "open" is judged at: an open order past expires_at that the reconciler has not swept
   * yet is not listed as open (taking it would be refused with 410), like the order book.
   */
  readonly now?: Date;
}

/**
 * Open orders: asks by price ascending, then bids by price descending, oldest first within a price.
 * Any other status: newest first, which is what someone browsing history expects.
 */
export function listOrders(db: Db, query: OrdersQuery, options: ListOptions = {}): OrdersPage {
  const tables = activeTables(db, ordersProjection);
  if (tables === null) return { orders: [], total: 0 };
  const { where, params } = ordersWhere(query, options.now ?? null);
  const table = tableName(tables, 'orders');
  const status = query.status ?? 'open';
  const order =
    status === 'open'
      ? "CASE side WHEN 'sell' THEN 0 ELSE 1 END, CASE side WHEN 'sell' THEN price_nano ELSE -price_nano END, created_at, order_id"
      : 'created_at DESC, order_id DESC';
  const total = (cachedStatement(db, `SELECT count(*) AS n FROM ${table} ${where}`).get(...params) as { n: number }).n;
  const rows = cachedStatement(db, `SELECT version, updated_at, state FROM ${table} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
    ...params,
    query.limit,
    query.offset,
  ) as { version: number; updated_at: string; state: string }[];
  const orders = rows.map((row) => {
    const { state } = decodeState(row.state, BigInt(row.version));
    assert(state.status !== 'none', 'the orders table lists only orders that exist');
    return toOrderResource(state, BigInt(row.version), { revealSecret: options.revealSecret?.(state) ?? null, updatedAt: row.updated_at });
  });
  return { orders, total };
}

function ordersWhere(query: OrdersQuery, now: Date | null): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const status = query.status ?? 'open';
  if (status !== 'all') {
    clauses.push('status = ?');
    params.push(status);
  }
  if (status === 'open' && now !== null) {
    // ISO-8601 UTC strings of one format order like the instants they name.
    clauses.push('expires_at > ?');
    params.push(now.toISOString());
  }
  if (query.pair !== undefined) {
    clauses.push('pair = ?');
    params.push(query.pair);
  }
  if (query.side !== undefined) {
    clauses.push('side = ?');
    params.push(query.side);
  }
  if (query.wallet !== undefined) {
    const wallet = canonicalWallet(query.wallet);
    clauses.push('(maker_wallet = ? OR taker_wallet = ?)');
    params.push(wallet, wallet);
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

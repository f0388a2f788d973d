import type { Database as Db } from 'better-sqlite3';
import { tradeIdFor, type Pair } from '../aggregates/order/events.js';
import { formatQuote, formatRtc } from '../aggregates/order/money.js';
import { buyerWallet, sellerWallet } from '../aggregates/order/state.js';
import type { Completion } from './orderFold.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection } from './types.js';

/**
 * Completed trades, newest first. A trade exists only once its payout is confirmed, and its id is
 * derived from the order id (unique), so an order can never be recorded as two trades; a batch
 * applied again hits the same position and trade id and changes nothing.
 */
export const tradesProjection: Projection = orderProjection({
  name: 'trades',
  // 3: the fold is no longer stored beside the rows (trades_state went).
  // 4: the completing event's position is the rowid (rows append in log order, and it is the
  // listing's order), trade_id a unique index; order_id's own unique index and the position index
  // went (issue 14: two B-trees fewer per trade, one of them at a random key).
  version: 4,
  tables: [
    {
      base: 'trades',
      key: ['trade_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          position INTEGER PRIMARY KEY, trade_id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL, pair TEXT NOT NULL, side TEXT NOT NULL,
          amount_micro TEXT NOT NULL, price_nano TEXT NOT NULL, total_quote_nano TEXT NOT NULL,
          seller_wallet TEXT, buyer_wallet TEXT, quote_tx TEXT, payout_tx_hash TEXT, completed_at TEXT);
        CREATE INDEX IF NOT EXISTS ${t}_pair_pos ON ${t} (pair, position);`,
    },
  ],
  write(db, batch, tables) {
    insertTrades(db, tableName(tables, 'trades'), batch.completions);
  },
});

function insertTrades(db: Db, table: string, completions: readonly Completion[]): void {
  if (completions.length === 0) return;
  const insert = cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${table} (trade_id, order_id, pair, side, amount_micro, price_nano, total_quote_nano,
       seller_wallet, buyer_wallet, quote_tx, payout_tx_hash, completed_at, position)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const { trade: s, position } of completions) {
    insert.run(
      tradeIdFor(s.orderId),
      s.orderId,
      s.pair,
      s.side,
      s.amountMicroRtc.toString(),
      s.pricePerRtcNanoQuote.toString(),
      s.totalQuoteNano.toString(),
      sellerWallet(s),
      buyerWallet(s),
      s.claim.quoteTx,
      s.payout.txHash,
      s.completedAt,
      position,
    );
  }
}

export interface TradeView {
  trade_id: string;
  order_id: string;
  pair: string;
  side: string;
  amount_rtc: string;
  price_per_rtc: string;
  total_quote: string;
  seller_wallet: string | null;
  buyer_wallet: string | null;
  quote_tx: string | null;
  payout_tx_hash: string | null;
  completed_at: string | null;
}

interface TradeRow {
  trade_id: string;
  order_id: string;
  pair: string;
  side: string;
  amount_micro: string;
  price_nano: string;
  total_quote_nano: string;
  seller_wallet: string | null;
  buyer_wallet: string | null;
  quote_tx: string | null;
  payout_tx_hash: string | null;
  completed_at: string | null;
}

const toView = (r: TradeRow): TradeView => ({
  trade_id: r.trade_id,
  order_id: r.order_id,
  pair: r.pair,
  side: r.side,
  amount_rtc: formatRtc(BigInt(r.amount_micro)),
  price_per_rtc: formatQuote(BigInt(r.price_nano)),
  total_quote: formatQuote(BigInt(r.total_quote_nano)),
  seller_wallet: r.seller_wallet,
  buyer_wallet: r.buyer_wallet,
  quote_tx: r.quote_tx,
  payout_tx_hash: r.payout_tx_hash,
  completed_at: r.completed_at,
});

export interface TradesQuery {
  readonly pair?: Pair;
  readonly limit: number;
  /** A trade_id: only trades completed before it. */
  readonly before?: string;
}

/** Newest first. Null when `before` names no recorded trade, so the caller can answer 400. */
export function listTrades(db: Db, query: TradesQuery): TradeView[] | null {
  const tables = activeTables(db, tradesProjection);
  if (tables === null) return query.before === undefined ? [] : null;
  const table = tableName(tables, 'trades');
  let beforePosition = Number.MAX_SAFE_INTEGER;
  if (query.before !== undefined) {
    const cursor = cachedStatement(db, `SELECT position FROM ${table} WHERE trade_id = ?`).get(query.before) as { position: number } | undefined;
    if (cursor === undefined) return null;
    beforePosition = cursor.position;
  }
  const pairClause = query.pair === undefined ? '' : 'AND pair = ?';
  const params: unknown[] = query.pair === undefined ? [beforePosition] : [beforePosition, query.pair];
  const rows = cachedStatement(db, `SELECT * FROM ${table} WHERE position < ? ${pairClause} ORDER BY position DESC LIMIT ?`).all(
    ...params,
    query.limit,
  ) as TradeRow[];
  return rows.map(toView);
}

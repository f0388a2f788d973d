import type { Database as Db } from 'better-sqlite3';
import type { Pair } from '../aggregates/order/events.js';
import { formatQuote, formatRtc } from '../aggregates/order/money.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { applyResting, restingDdl } from './restingOrders.js';
import { DAY_MS, lastPriceNano, tradeWindow } from './stats.js';
import { tableName, type Projection } from './types.js';

/** Levels shown per side, as the bridge did. */
export const BOOK_DEPTH = 50;

/** The order book: resting open orders per pair, grouped into price levels at query time. */
export const orderBookProjection: Projection = orderProjection({
  name: 'orderbook',
  // 3: the fold is no longer stored beside the rows (book_state went).
  version: 3,
  tables: [{ base: 'book_orders', key: ['order_id'], ddl: restingDdl }],
  write(db, batch, tables) {
    applyResting(db, tableName(tables, 'book_orders'), batch);
  },
});

export interface BookLevel {
  price: string;
  total_rtc: string;
  order_count: number;
}

export interface OrderBook {
  pair: Pair;
  asks: BookLevel[];
  bids: BookLevel[];
  best_ask: string | null;
  best_bid: string | null;
  spread: string | null;
  last_price: string | null;
  volume_24h_rtc: string;
  trades_24h: number;
}

interface LevelRow {
  price_nano: bigint;
  total: bigint;
  n: bigint;
}

function levels(db: Db, table: string, pair: Pair, side: 'buy' | 'sell', nowMs: number): LevelRow[] {
  const direction = side === 'sell' ? 'ASC' : 'DESC';
  return cachedStatement(
    db,
    `SELECT price_nano, sum(amount_micro) AS total, count(*) AS n FROM ${table}
     WHERE pair = ? AND side = ? AND expires_at_ms > ? GROUP BY price_nano ORDER BY price_nano ${direction} LIMIT ${BOOK_DEPTH}`,
  )
    .safeIntegers(true)
    .all(pair, side, nowMs) as LevelRow[];
}

const toLevel = (row: LevelRow): BookLevel => ({
  price: formatQuote(row.price_nano),
  total_rtc: formatRtc(row.total),
  order_count: Number(row.n),
});

/** Open orders not yet past expires_at at `now`, so an unswept expired order never shows. */
export function orderBook(db: Db, pair: Pair, now: Date): OrderBook {
  const nowMs = now.getTime();
  const tables = activeTables(db, orderBookProjection);
  const table = tables === null ? null : tableName(tables, 'book_orders');
  const askRows = table === null ? [] : levels(db, table, pair, 'sell', nowMs);
  const bidRows = table === null ? [] : levels(db, table, pair, 'buy', nowMs);
  const bestAsk = askRows[0]?.price_nano ?? null;
  const bestBid = bidRows[0]?.price_nano ?? null;
  const day = tradeWindow(db, pair, nowMs - DAY_MS);
  const last = lastPriceNano(db, pair);
  return {
    pair,
    asks: askRows.map(toLevel),
    bids: bidRows.map(toLevel),
    best_ask: bestAsk === null ? null : formatQuote(bestAsk),
    best_bid: bestBid === null ? null : formatQuote(bestBid),
    spread: bestAsk === null || bestBid === null ? null : formatQuote(bestAsk - bestBid),
    last_price: last === null ? null : formatQuote(last),
    volume_24h_rtc: formatRtc(day.volume ?? 0n),
    trades_24h: Number(day.n),
  };
}

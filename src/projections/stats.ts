import type { Database as Db } from 'better-sqlite3';
import type { Pair } from '../aggregates/order/events.js';
import { formatQuote, formatRtc } from '../aggregates/order/money.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { applyResting, insertTradeRows, restingDdl, tradeRowDdl } from './restingOrders.js';
import { tableName, type Projection } from './types.js';

export const DAY_MS = 86_400_000;

/**
 * Per-pair market statistics. Only facts are projected (completed trades, resting orders); every
 * time window is computed at query time from `now`, so the numbers never go stale between events.
 */
export const statsProjection: Projection = orderProjection({
  name: 'stats',
  // 3: the fold is no longer stored beside the rows (stats_state went).
  // 4: stats_trades is keyed by the completing event's position, without an order_id index.
  version: 4,
  tables: [
    { base: 'stats_open', key: ['order_id'], ddl: restingDdl },
    { base: 'stats_trades', key: ['order_id'], ddl: tradeRowDdl },
  ],
  write(db, batch, tables) {
    insertTradeRows(db, tableName(tables, 'stats_trades'), batch.completions);
    applyResting(db, tableName(tables, 'stats_open'), batch);
  },
});

export interface PairStats {
  pair: Pair;
  total_trades: number;
  total_volume_rtc: string;
  volume_24h_rtc: string;
  volume_7d_rtc: string;
  last_price: string | null;
  high_24h: string | null;
  low_24h: string | null;
  open_sells: { count: number; total_rtc: string };
  open_buys: { count: number; total_rtc: string };
}

interface WindowRow {
  n: bigint;
  volume: bigint | null;
  high: bigint | null;
  low: bigint | null;
}

/** Trade count, volume and price range of one pair since `sinceMs` (inclusive). */
export function tradeWindow(db: Db, pair: Pair, sinceMs: number): WindowRow {
  const tables = activeTables(db, statsProjection);
  if (tables === null) return { n: 0n, volume: null, high: null, low: null };
  const table = tableName(tables, 'stats_trades');
  return cachedStatement(
    db,
    `SELECT count(*) AS n, sum(amount_micro) AS volume, max(price_nano) AS high, min(price_nano) AS low
     FROM ${table} WHERE pair = ? AND completed_at_ms >= ?`,
  )
    .safeIntegers(true)
    .get(pair, sinceMs) as WindowRow;
}

/** The price of the pair's most recently completed trade. */
export function lastPriceNano(db: Db, pair: Pair): bigint | null {
  const tables = activeTables(db, statsProjection);
  if (tables === null) return null;
  const row = cachedStatement(db, `SELECT price_nano FROM ${tableName(tables, 'stats_trades')} WHERE pair = ? ORDER BY position DESC LIMIT 1`)
    .safeIntegers(true)
    .get(pair) as { price_nano: bigint } | undefined;
  return row?.price_nano ?? null;
}

function openSide(db: Db, table: string, pair: Pair, side: 'buy' | 'sell', nowMs: number) {
  const row = cachedStatement(db, `SELECT count(*) AS n, sum(amount_micro) AS total FROM ${table} WHERE pair = ? AND side = ? AND expires_at_ms > ?`)
    .safeIntegers(true)
    .get(pair, side, nowMs) as { n: bigint; total: bigint | null };
  return { count: Number(row.n), total_rtc: formatRtc(row.total ?? 0n) };
}

const priceOrNull = (nano: bigint | null): string | null => (nano === null ? null : formatQuote(nano));

export function pairStats(db: Db, pair: Pair, now: Date): PairStats {
  const nowMs = now.getTime();
  const all = tradeWindow(db, pair, Number.MIN_SAFE_INTEGER);
  const day = tradeWindow(db, pair, nowMs - DAY_MS);
  const week = tradeWindow(db, pair, nowMs - 7 * DAY_MS);
  const tables = activeTables(db, statsProjection);
  const open = tables === null ? null : tableName(tables, 'stats_open');
  const empty = { count: 0, total_rtc: formatRtc(0n) };
  return {
    pair,
    total_trades: Number(all.n),
    total_volume_rtc: formatRtc(all.volume ?? 0n),
    volume_24h_rtc: formatRtc(day.volume ?? 0n),
    volume_7d_rtc: formatRtc(week.volume ?? 0n),
    last_price: priceOrNull(lastPriceNano(db, pair)),
    high_24h: priceOrNull(day.high),
    low_24h: priceOrNull(day.low),
    open_sells: open === null ? empty : openSide(db, open, pair, 'sell', nowMs),
    open_buys: open === null ? empty : openSide(db, open, pair, 'buy', nowMs),
  };
}

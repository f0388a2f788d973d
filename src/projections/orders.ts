import type { Database as Db } from 'better-sqlite3';
import { canonicalWallet } from '../aggregates/order/wallet.js';
import { orderFacts, type EscrowStatus, type OrderFacts, type OrderSummary, type PayoutStatus } from '../aggregates/order/facts.js';
import { assert, ORDER_STATUSES, takerOf, type OrderState, type OrderStatus } from '../aggregates/order/state.js';
import { recordedAtOf } from './eventSource.js';
import { PAIRS, type Pair, type Side } from '../aggregates/order/events.js';
import type { BatchFold, FoldedBatch } from './orderFold.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection, type TableNames } from './types.js';
import { quoteLegFactsOf, rejectedLocksFromText, rejectedLocksToText, type QuoteLegFacts } from '../views/quoteLegFacts.js';

/**
 * The orders table's columns, in one place: name, SQL type, the value from an order's facts, and
 * whether it can change after the order is placed. The DDL, the upsert and the row type follow
 * from this list, so a new column is one line here (and a version bump). Columns derive from the
 * order's facts, so a renamed field of the aggregate's state cannot change what a stored row means.
 * price_nano is an integer column because prices (at most 1000 quote = 10^12 nano) fit in int64 and
 * must sort numerically; other amounts are decimal strings.
 */
const ORDER_COLUMNS = [
  { name: 'order_id', sql: 'TEXT PRIMARY KEY', fixed: true, of: (f: OrderFacts) => f.orderId },
  { name: 'version', sql: 'INTEGER NOT NULL', fixed: false, of: (_f: OrderFacts, version: bigint) => version },
  { name: 'status', sql: 'TEXT NOT NULL', fixed: false, of: (f: OrderFacts) => f.status },
  { name: 'side', sql: 'TEXT NOT NULL', fixed: true, of: (f: OrderFacts) => f.side },
  { name: 'pair', sql: 'TEXT NOT NULL', fixed: true, of: (f: OrderFacts) => f.pair },
  { name: 'maker_wallet', sql: 'TEXT NOT NULL', fixed: true, of: (f: OrderFacts) => f.makerWallet },
  { name: 'taker_wallet', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.takerWallet },
  { name: 'seller_wallet', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.sellerWallet },
  { name: 'buyer_wallet', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.buyerWallet },
  { name: 'maker_eth_address', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.makerEthAddress },
  { name: 'taker_eth_address', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.takerEthAddress },
  { name: 'amount_micro', sql: 'TEXT NOT NULL', fixed: true, of: (f: OrderFacts) => f.amountMicroRtc.toString() },
  { name: 'price_nano', sql: 'INTEGER NOT NULL', fixed: true, of: (f: OrderFacts) => f.pricePerRtcNanoQuote },
  { name: 'total_quote_nano', sql: 'TEXT NOT NULL', fixed: true, of: (f: OrderFacts) => f.totalQuoteNano.toString() },
  { name: 'htlc_hash', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.htlcHash },
  { name: 'escrow_job_id', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.escrow.jobId },
  { name: 'escrow_status', sql: 'TEXT NOT NULL', fixed: false, of: (f: OrderFacts) => f.escrow.status },
  { name: 'payout_key', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.payout.key },
  { name: 'payout_status', sql: 'TEXT NOT NULL', fixed: false, of: (f: OrderFacts) => f.payout.status },
  { name: 'payout_tx_hash', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.payout.txHash },
  { name: 'quote_tx', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.quoteTx },
  { name: 'secret_ciphertext', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.secretCiphertext },
  { name: 'created_at', sql: 'TEXT NOT NULL', fixed: true, of: (f: OrderFacts) => f.createdAt },
  { name: 'expires_at', sql: 'TEXT NOT NULL', fixed: false, of: (f: OrderFacts) => f.expiresAt },
  { name: 'matched_at', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.matchedAt },
  { name: 'settle_by', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.settleBy },
  { name: 'completed_at', sql: 'TEXT', fixed: false, of: (f: OrderFacts) => f.completedAt },
  { name: 'updated_at', sql: 'TEXT NOT NULL', fixed: false, of: (_f: OrderFacts, _v: bigint, updatedAt: string) => updatedAt },
  // The quote leg's narrow facts: listings make the same quote_leg as the resource from them (quoteLegFacts.ts).
  { name: 'quote_lock_by', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => leg?.lockBy ?? null },
  { name: 'quote_swap_id', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => leg?.swapId ?? null },
  { name: 'quote_lock_tx', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => leg?.lockTx ?? null },
  { name: 'quote_claim_tx', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => leg?.claimTx ?? null },
  { name: 'quote_refund_tx', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => leg?.refundTx ?? null },
  { name: 'quote_custody_pending', sql: 'INTEGER', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => (leg === null ? null : leg.custodyPending ? 1 : 0) },
  { name: 'quote_escrow_expires_at', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => leg?.escrowExpiresAt ?? null },
  { name: 'quote_rejected_locks', sql: 'TEXT', fixed: false, of: (_f: OrderFacts, _v: bigint, _u: string, leg: QuoteLegFacts | null) => (leg === null ? null : rejectedLocksToText(leg)) },
] as const satisfies readonly OrderColumn[];

interface OrderColumn {
  readonly name: string;
  readonly sql: string;
  /** Never changes once placed: left out of the upsert's SET, so its indexes are not rewritten. */
  readonly fixed: boolean;
  readonly of: (f: OrderFacts, version: bigint, updatedAt: string, leg: QuoteLegFacts | null) => string | number | bigint | null;
}

/**
 * One narrow row per order; indexes for the listing (status, pair, side, price, age), for an
 * order's wallets, and nothing else. No copy of the fold is stored: the runner keeps it in memory
 * and folds a missed order from its stream.
 */
export const ordersProjection: Projection = orderProjection({
  name: 'orders',
  // 4: orders_state went, rows are upserted in place, and the quote leg's narrow facts (quote_*) are
  // stored so listings show the resource's quote_leg.
  // 5: the taker index holds taken orders only (issue 14): an untaken order's NULL entry, added at
  // place and moved at match, was ~3 index pages written per trade; `taker_wallet = ?` implies NOT NULL.
  // Also (same version, same session): a partial maker index over live orders for the open-order cap,
  // whose count walked every order the maker ever had and so slowed every place as a maker traded on.
  version: 5,
  tables: [
    {
      base: 'orders',
      key: ['order_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (${ORDER_COLUMNS.map((c) => `${c.name} ${c.sql}`).join(', ')});
        CREATE INDEX IF NOT EXISTS ${t}_listing ON ${t} (status, pair, side, price_nano, created_at);
        CREATE INDEX IF NOT EXISTS ${t}_maker ON ${t} (maker_wallet);
        CREATE INDEX IF NOT EXISTS ${t}_taker ON ${t} (taker_wallet) WHERE taker_wallet IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ${t}_maker_live ON ${t} (maker_wallet) WHERE status IN ${CAPPED_STATUSES_SQL};`,
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
  write: writeOrders,
});

type OrderRow = { readonly [C in (typeof ORDER_COLUMNS)[number]['name']]: C extends 'version' | 'price_nano' | 'quote_custody_pending' ? number | bigint : string | null };

/**
 * An upsert, not INSERT OR REPLACE: an existing row is updated in place, and only the indexes of
 * columns in the SET list are touched (REPLACE deletes and re-inserts, rewriting every index).
 */
function upsertSql(table: string, skip: ReadonlySet<string>): string {
  const names = ORDER_COLUMNS.map((c) => c.name);
  const set = ORDER_COLUMNS.filter((c) => !c.fixed && !skip.has(c.name)).map((c) => `${c.name} = excluded.${c.name}`);
  return `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})
    ON CONFLICT (order_id) DO UPDATE SET ${set.join(', ')}`;
}

/**
 * The changing columns that an index covers, with their value in a stored state. SQLite rewrites
 * an index entry for every column in an UPDATE's SET list even when its value is the same, so the
 * upsert leaves these out when the order's state before the batch (what its row shows) had the
 * same value: the taker index was otherwise rewritten on every event of a taken order.
 */
const INDEXED_CHANGING = [
  { name: 'status', of: (s: OrderState): string => s.status },
  { name: 'taker_wallet', of: (s: OrderState): string | null => takerOf(s)?.wallet ?? null },
] as const;

/** The upsert for a row whose indexed columns in `unchanged` keep their value (by bit, INDEXED_CHANGING's order). */
function upsertFor(db: Db, table: string, unchanged: number): ReturnType<typeof cachedStatement> {
  const key = `${table}:${unchanged}`;
  let sql = upsertSqls.get(key);
  if (sql === undefined) {
    const skip = new Set(INDEXED_CHANGING.filter((_c, i) => (unchanged & (1 << i)) !== 0).map((c) => c.name));
    sql = upsertSql(table, skip);
    upsertSqls.set(key, sql);
  }
  return cachedStatement(db, sql);
}

/** The upserts' SQL by table and unchanged bits, built once (a row is written per order per batch). */
const upsertSqls = new Map<string, string>();

/** Which of INDEXED_CHANGING keep their value from the state the row shows (0 when there is no row yet). */
function unchangedIndexed(f: BatchFold): number {
  const before = f.before?.state;
  if (before === undefined || before.status === 'none') return 0;
  let bits = 0;
  INDEXED_CHANGING.forEach((c, i) => {
    if (c.of(before) === c.of(f.state)) bits |= 1 << i;
  });
  return bits;
}

function writeOrders(db: Db, batch: FoldedBatch, tables: TableNames): void {
  const table = tableName(tables, 'orders');
  const problem = cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${tableName(tables, 'order_stream_problems')} (order_id, version, kind, type, reason) VALUES (?, ?, ?, ?, ?)`,
  );
  for (const f of batch.changes.values()) {
    if (f.problem !== null) problem.run(f.orderId, f.problem.version, f.problem.kind, f.problem.type, f.problem.reason);
    // A stream that broke on its first event never had an order to list.
    if (f.state.status === 'none') continue;
    const facts = orderFacts(f.state);
    const updatedAt = recordedAtOf(f.lastEvent);
    const leg = quoteLegFactsOf(f.state);
    upsertFor(db, table, unchangedIndexed(f)).run(...ORDER_COLUMNS.map((c) => c.of(facts, f.version, updatedAt, leg)));
  }
}

/** How many orders are in each status (for /metrics); statuses with none are absent. */
export function countOrdersByStatus(db: Db): Record<string, number> {
  const tables = activeTables(db, ordersProjection);
  if (tables === null) return {};
  const rows = cachedStatement(db, `SELECT status, count(*) AS n FROM ${tableName(tables, 'orders')} GROUP BY status`).all() as { status: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** An order as the orders read model holds it. */
export interface StoredOrder {
  readonly summary: OrderSummary;
  readonly version: bigint;
  readonly updatedAt: string;
  /** The preimage, encrypted at rest; the caller decides whether it may be revealed. */
  readonly secretCiphertext: string | null;
  /** The quote leg's narrow facts; null while the order has none on a chain. */
  readonly quoteLeg: QuoteLegFacts | null;
}

const text = (value: string | null): string => {
  assert(value !== null, 'a NOT NULL column holds a value');
  return value;
};

function storedOrderOf(r: OrderRow): StoredOrder {
  const summary: OrderSummary = {
    orderId: text(r.order_id), status: parseStatus(text(r.status)), side: text(r.side) === 'buy' ? 'buy' : 'sell', pair: parsePair(text(r.pair)),
    makerWallet: text(r.maker_wallet), takerWallet: r.taker_wallet, sellerWallet: r.seller_wallet, buyerWallet: r.buyer_wallet,
    makerEthAddress: r.maker_eth_address, takerEthAddress: r.taker_eth_address,
    amountMicroRtc: BigInt(text(r.amount_micro)), pricePerRtcNanoQuote: BigInt(r.price_nano), totalQuoteNano: BigInt(text(r.total_quote_nano)),
    htlcHash: r.htlc_hash, escrow: { jobId: r.escrow_job_id, status: parseEscrowStatus(text(r.escrow_status)) },
    payout: { key: r.payout_key, status: parsePayoutStatus(text(r.payout_status)), txHash: r.payout_tx_hash },
    quoteTx: r.quote_tx, createdAt: text(r.created_at), expiresAt: text(r.expires_at), matchedAt: r.matched_at,
    settleBy: r.settle_by, completedAt: r.completed_at,
  };
  const quoteLeg: QuoteLegFacts | null = r.quote_lock_by === null ? null : {
    lockBy: r.quote_lock_by, swapId: r.quote_swap_id, lockTx: r.quote_lock_tx, claimTx: r.quote_claim_tx, refundTx: r.quote_refund_tx,
    rejected: rejectedLocksFromText(r.quote_rejected_locks ?? '[]'),
    custodyPending: Number(r.quote_custody_pending ?? 0) === 1, escrowExpiresAt: r.quote_escrow_expires_at,
  };
  return { summary, version: BigInt(r.version), updatedAt: text(r.updated_at), secretCiphertext: r.secret_ciphertext, quoteLeg };
}

function oneOf<T extends string>(values: readonly T[], what: string): (value: string) => T {
  return (value) => {
    const found = values.find((v) => v === value);
    assert(found !== undefined, `the orders table holds a ${what} this build does not know: ${value}`);
    return found;
  };
}
const parseStatus = oneOf<OrderStatus>(ORDER_STATUSES, 'status');
const parsePair = oneOf<Pair>(PAIRS, 'pair');
const parseEscrowStatus = oneOf<EscrowStatus>(['none', 'locking', 'locked', 'released', 'refunded'], 'escrow status');
const parsePayoutStatus = oneOf<PayoutStatus>(['none', 'queued', 'confirmed', 'voided'], 'payout status');

/** One order as the orders read model holds it; null when it has none. */
export function getOrder(db: Db, orderId: string): StoredOrder | null {
  const tables = activeTables(db, ordersProjection);
  if (tables === null) return null;
  const row = cachedStatement(db, `SELECT * FROM ${tableName(tables, 'orders')} WHERE order_id = ?`).get(orderId) as OrderRow | undefined;
  return row === undefined ? null : storedOrderOf(row);
}

/** The order carrying this htlc_hash (hashlocks are used by one order only); null when none. */
export function orderIdByHtlcHash(db: Db, htlcHash: string): string | null {
  const tables = activeTables(db, ordersProjection);
  if (tables === null) return null;
  const row = cachedStatement(db, `SELECT order_id FROM ${tableName(tables, 'orders')} WHERE htlc_hash = ? LIMIT 1`).get(htlcHash.toLowerCase()) as { order_id: string } | undefined;
  return row?.order_id ?? null;
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
  readonly orders: StoredOrder[];
  readonly total: number;
}

export interface ListOptions {
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
  const rows = cachedStatement(db, `SELECT * FROM ${table} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
    ...params,
    query.limit,
    query.offset,
  ) as OrderRow[];
  return { orders: rows.map(storedOrderOf), total };
}

/** The statuses the open-order cap counts (an `open` one only until it expires), as SQL. */
const CAPPED_STATUSES_SQL = "('open', 'escrow_pending', 'matching', 'matched')";

/**
 * The open-order cap's count (src/app/openOrderCap.ts): the maker's orders on the book or on the
 * way to it (escrow_pending; open and not past expires_at, which the reconciler has yet to sweep),
 * and those taken but not yet claimed (matching, matched), which still hold the maker's escrow or
 * wait on its counterparty. Orders being settled, refunded or parked for an operator do not count:
 * the maker has done its part, and the ledger's own backlog must not lock a maker out.
 */
export function countOpenOrdersOfMaker(db: Db, makerWallet: string, now: Date): number {
  const tables = activeTables(db, ordersProjection);
  if (tables === null) return 0;
  // The status list is the partial index's own WHERE, word for word: SQLite uses a partial index only
  // for a query whose WHERE contains that term, so this count visits the maker's live orders alone.
  const sql = openOrdersOfMakerSql(tableName(tables, 'orders'));
  return (cachedStatement(db, sql).get(canonicalWallet(makerWallet), now.toISOString()) as { n: number }).n;
}

/** The open-order cap's count over one copy of the orders table (exported for the test of its plan). */
export function openOrdersOfMakerSql(table: string): string {
  return `SELECT count(*) AS n FROM ${table} WHERE maker_wallet = ?
    AND status IN ${CAPPED_STATUSES_SQL} AND (status <> 'open' OR expires_at > ?)`;
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

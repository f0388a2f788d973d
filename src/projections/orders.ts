import type { Database as Db } from 'better-sqlite3';
import { canonicalWallet } from '../aggregates/order/wallet.js';
import { orderFacts, type EscrowStatus, type OrderFacts, type OrderSummary, type PayoutStatus } from '../aggregates/order/facts.js';
import { assert, ORDER_STATUSES, type OrderStatus } from '../aggregates/order/state.js';
import { recordedAtOf } from './eventSource.js';
import { PAIRS, type Pair, type Side } from '../aggregates/order/events.js';
import { saveStates, stateTableDdl, type FoldedBatch } from './orderFold.js';
import { orderProjection } from './orderProjection.js';
import { activeTables, cachedStatement } from './registry.js';
import { tableName, type Projection, type TableNames } from './types.js';
import { quoteLegFactsOf, rejectedLocksFromText, rejectedLocksToText, type QuoteLegFacts } from '../views/quoteLegFacts.js';

/**
 * Every order as the API shows it, in columns of its own derived from the order's facts: a renamed
 * field of the aggregate's state cannot change what a stored row means. The fold it continues from
 * is kept apart, in orders_state (like every order read model's). price_nano is an integer column
 * because prices (at most 1000 quote = 10^12 nano) fit in int64 and must sort numerically; other
 * amounts are decimal strings.
 */
export const ordersProjection: Projection = orderProjection({
  name: 'orders',
  // 4: the quote leg's narrow facts (quote_*), so listings show the resource's quote_leg.
  version: 4,
  tables: [
    { base: 'orders_state', key: ['order_id'], ddl: stateTableDdl },
    {
      base: 'orders',
      key: ['order_id'],
      ddl: (t) => `
        CREATE TABLE IF NOT EXISTS ${t} (
          order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL, side TEXT NOT NULL, pair TEXT NOT NULL,
          maker_wallet TEXT NOT NULL, taker_wallet TEXT, seller_wallet TEXT, buyer_wallet TEXT,
          maker_eth_address TEXT, taker_eth_address TEXT, amount_micro TEXT NOT NULL, price_nano INTEGER NOT NULL,
          total_quote_nano TEXT NOT NULL, htlc_hash TEXT, escrow_job_id TEXT, escrow_status TEXT NOT NULL,
          payout_key TEXT, payout_status TEXT NOT NULL, payout_tx_hash TEXT, quote_tx TEXT, secret_ciphertext TEXT,
          created_at TEXT NOT NULL, expires_at TEXT NOT NULL, matched_at TEXT, settle_by TEXT, completed_at TEXT,
          updated_at TEXT NOT NULL, quote_lock_by TEXT, quote_swap_id TEXT, quote_lock_tx TEXT, quote_claim_tx TEXT,
          quote_refund_tx TEXT, quote_rejected_locks TEXT);
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
  stateTable: 'orders_state',
  write: writeOrders,
});

const COLUMNS = [
  'order_id', 'version', 'status', 'side', 'pair', 'maker_wallet', 'taker_wallet', 'seller_wallet', 'buyer_wallet',
  'maker_eth_address', 'taker_eth_address', 'amount_micro', 'price_nano', 'total_quote_nano', 'htlc_hash', 'escrow_job_id',
  'escrow_status', 'payout_key', 'payout_status', 'payout_tx_hash', 'quote_tx', 'secret_ciphertext', 'created_at',
  'expires_at', 'matched_at', 'settle_by', 'completed_at', 'updated_at',
  'quote_lock_by', 'quote_swap_id', 'quote_lock_tx', 'quote_claim_tx', 'quote_refund_tx', 'quote_rejected_locks',
] as const;

type OrderRow = { readonly [C in (typeof COLUMNS)[number]]: C extends 'version' | 'price_nano' ? number | bigint : string | null };

function rowOf(f: OrderFacts, leg: QuoteLegFacts | null, version: bigint, updatedAt: string): unknown[] {
  return [
    f.orderId, version, f.status, f.side, f.pair, f.makerWallet, f.takerWallet, f.sellerWallet, f.buyerWallet,
    f.makerEthAddress, f.takerEthAddress, f.amountMicroRtc.toString(), f.pricePerRtcNanoQuote, f.totalQuoteNano.toString(),
    f.htlcHash, f.escrow.jobId, f.escrow.status, f.payout.key, f.payout.status, f.payout.txHash, f.quoteTx, f.secretCiphertext,
    f.createdAt, f.expiresAt, f.matchedAt, f.settleBy, f.completedAt, updatedAt,
    leg?.lockBy ?? null, leg?.swapId ?? null, leg?.lockTx ?? null, leg?.claimTx ?? null, leg?.refundTx ?? null, leg === null ? null : rejectedLocksToText(leg),
  ];
}

function writeOrders(db: Db, batch: FoldedBatch, tables: TableNames): void {
  saveStates(db, tableName(tables, 'orders_state'), batch);
  const upsert = cachedStatement(
    db,
    `INSERT OR REPLACE INTO ${tableName(tables, 'orders')} (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
  );
  const problem = cachedStatement(
    db,
    `INSERT OR IGNORE INTO ${tableName(tables, 'order_stream_problems')} (order_id, version, kind, type, reason) VALUES (?, ?, ?, ?, ?)`,
  );
  for (const f of batch.changes.values()) {
    if (f.problem !== null) problem.run(f.orderId, f.problem.version, f.problem.kind, f.problem.type, f.problem.reason);
    // A stream that broke on its first event never had an order to list.
    if (f.state.status === 'none') continue;
    upsert.run(...rowOf(orderFacts(f.state), quoteLegFactsOf(f.state), f.version, recordedAtOf(f.lastEvent)));
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
  const sql = `SELECT count(*) AS n FROM ${tableName(tables, 'orders')} WHERE maker_wallet = ?
    AND (status IN ('escrow_pending', 'matching', 'matched') OR (status = 'open' AND expires_at > ?))`;
  return (cachedStatement(db, sql).get(canonicalWallet(makerWallet), now.toISOString()) as { n: number }).n;
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

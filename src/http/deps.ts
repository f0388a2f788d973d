import type { DestinationStream } from 'pino';
import type { Pair, Side } from '../aggregates/order/events.js';
import type { OrderStatus } from '../aggregates/order/state.js';
import type { Ledger } from '../app/ledger.js';
import type { Config } from '../config.js';
import type { EventStore } from '../eventstore/types.js';
import type { ReconcileSummary } from '../settlement/reconciler.js';
import type { OrderResource } from '../views/orderResource.js';
import type { IdempotencyStore } from './idempotency.js';
import type { LedgerMetrics } from './metrics.js';
import type { OrdersQuery } from '../projections/orders.js';

/** Sync or async: the SQLite read models answer synchronously, other adapters may not. */
type MaybePromise<T> = T | Promise<T>;

/** The list endpoint's filters are exactly the orders read model's query. */
export type OrdersListQuery = OrdersQuery;

export interface BookLevelView {
  readonly price: string;
  readonly total_rtc: string;
  readonly order_count: number;
}

export interface OrderBookView {
  readonly pair: Pair;
  readonly asks: BookLevelView[];
  readonly bids: BookLevelView[];
  readonly best_ask: string | null;
  readonly best_bid: string | null;
  readonly spread: string | null;
  readonly last_price: string | null;
  readonly volume_24h_rtc: string;
  readonly trades_24h: number;
}

export interface TradeView {
  readonly trade_id: string;
  readonly order_id: string;
  readonly pair: string;
  readonly side: string;
  readonly amount_rtc: string;
  readonly price_per_rtc: string;
  readonly total_quote: string;
  readonly seller_wallet: string | null;
  readonly buyer_wallet: string | null;
  readonly quote_tx: string | null;
  readonly payout_tx_hash: string | null;
  readonly completed_at: string | null;
}

export interface PairStatsView {
  readonly pair: Pair;
  readonly total_trades: number;
  readonly total_volume_rtc: string;
  readonly volume_24h_rtc: string;
  readonly volume_7d_rtc: string;
  readonly last_price: string | null;
  readonly high_24h: string | null;
  readonly low_24h: string | null;
  readonly open_sells: { readonly count: number; readonly total_rtc: string };
  readonly open_buys: { readonly count: number; readonly total_rtc: string };
}

export interface RecoveryEntryView {
  readonly order_id: string;
  readonly status: string;
  readonly version: number;
  readonly last_event_at: string;
  readonly idle_ms: number;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly recovery_reason: string | null;
}

/**
 * The read side as the HTTP layer needs it. The composition root fills it from the projection
 * runner and the query functions in src/projections/ (each takes the read DB; bind it here).
 */
export interface ReadModels {
  /** True once every read model has applied `position`; false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean>;
  /** Orders with htlc_secret filled for completed ones (the ledger's revealSecret). */
  /** `now` judges which open orders have expired without being swept yet. */
  listOrders(query: OrdersListQuery, now: Date): MaybePromise<{ orders: readonly OrderResource[]; total: number }>;
  orderBook(pair: Pair, now: Date): MaybePromise<OrderBookView>;
  /** Null when `before` names no recorded trade (400 before_invalid). */
  trades(query: { pair?: Pair; limit: number; before?: string }): MaybePromise<readonly TradeView[] | null>;
  stats(pair: Pair, now: Date): MaybePromise<PairStatsView>;
  recoveryList(now: Date): MaybePromise<readonly RecoveryEntryView[]>;
  /** For /metrics: in-flight orders and how long the oldest has been idle. */
  backlog(now: Date): MaybePromise<{ inFlight: number; oldestIdleMs: number | null }>;
  /** For /metrics: orders per status, from the orders read model (statuses with none may be absent). */
  ordersByStatus(): MaybePromise<Readonly<Record<string, number>>>;
}

export interface ProjectionStatusView {
  readonly name: string;
  readonly position: bigint;
  readonly lag: bigint;
  readonly state: string;
  /** A rebuild under way: its owner (the rebuild id) and the position its new copy has reached. */
  readonly rebuild?: { readonly position: bigint; readonly owner: string } | null;
}

export interface ProjectionsAdmin {
  status(): Promise<readonly ProjectionStatusView[]>;
  /** What is wrong with the read DB's file ('missing', 'replaced', 'corrupt'), or null; absent: never checked. */
  readModelDamage?(): string | null;
  /** Starts a rebuild in the background; null when no projection has that name. */
  startRebuild(name: string): Promise<{ rebuildId: string } | null>;
}

/** `verify` as the operator page reads it: what it checked and every finding (src/audit). */
export interface VerifyView {
  readonly streams: number;
  readonly events: number;
  readonly read_models: boolean;
  readonly findings: ReadonlyArray<{ readonly kind: string; readonly stream?: string; readonly version?: number; readonly message: string }>;
}

export interface ChainBlockView {
  readonly number: string;
  readonly hash: string;
  readonly timestamp: string;
}

/** The quote chain and its follower, for the operator page. */
export interface ChainStatusView {
  readonly mode: 'sandbox' | 'evm';
  readonly chain_id: number;
  readonly contract: string;
  readonly head: ChainBlockView | null;
  readonly finalized: ChainBlockView | null;
  readonly checkpoint: { readonly number: string; readonly hash: string } | null;
  /** Blocks between the finalized block and the follower's checkpoint; null when either is unknown. */
  readonly lag_blocks: number | null;
  /** The last reorganisation the follower detected: where, when, and the two hashes that disagreed (chain_hash null when the block was gone). */
  readonly last_reorg: { readonly block_number: string; readonly detected_at: string; readonly checkpoint_hash: string; readonly chain_hash: string | null } | null;
  readonly problem: string | null;
}

export interface LoggerSettings {
  readonly level: string;
  /** Where the JSON lines go (stdout when absent); tests pass a capturing stream. */
  readonly stream?: DestinationStream;
}

/** Everything buildApp needs; src/main.ts builds each piece and passes it in. */
export interface AppDeps {
  readonly config: Config;
  readonly ledger: Ledger;
  readonly readModels: ReadModels;
  /** One full reconciler pass (POST /admin/reconcile). */
  reconcile(): Promise<ReconcileSummary>;
  readonly projections: ProjectionsAdmin;
  /** For /ready (reachability) and the history endpoint (the order's own stream). */
  readonly store: EventStore;
  readonly logger: LoggerSettings | false;
  /** Created before the ledger, so its onStep can be passed to createLedger. */
  readonly metrics: LedgerMetrics;
  readonly idempotency: IdempotencyStore;
  readonly now?: () => Date;
  /** How long a read with min_position waits; api.md says 5 s (the default). Tests shorten it. */
  readonly minPositionWaitMs?: number;
  /** A dependency known to be unusable (e.g. a node the gateway refuses to call): /ready is 503 while set. */
  readonly dependencyProblem?: () => string | null;
  /** GET /admin/verify: the audit's checks, read-only (main.ts adds the read DB). Absent: the event log alone is checked. */
  readonly verify?: () => Promise<VerifyView>;
  /** GET /admin/chain: null in manual mode (no chain is followed). */
  readonly chainStatus?: () => Promise<ChainStatusView | null>;
  /** /ready fails when any projection lags the log by more than this many events. */
  readonly maxReadyLag?: bigint;
}


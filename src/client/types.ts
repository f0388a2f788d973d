/**
 * The answers of every endpoint, typed from the zod schemas the server itself validates and
 * serializes with. Type-only imports: nothing of the server is bundled into a browser.
 */
import type { z } from 'zod';
import type { chainStatus, recoveryEntry, projection, summary, verifyReport } from '../http/routes/admin.js';
import type { orderBookAnswer, statsAnswer, trade } from '../http/routes/market.js';
import type { readyAnswer } from '../http/routes/service.js';
import type {
  cancelAnswer,
  commandAnswer,
  confirmAnswer,
  historyAnswer,
  orderAnswer,
  orderListAnswer,
  orderResource,
} from '../http/schemas/responses.js';
import type { listOrdersQuery } from '../http/schemas/orders.js';
import type { ErrorCode } from './errors.js';

export type Order = z.output<typeof orderResource>;
export type OrderStatus = 'escrow_pending' | 'open' | 'matching' | 'matched' | 'lapsed' | 'settling' | 'payout_pending'
  | 'settlement_recovery' | 'refund_pending' | 'completed' | 'cancelled' | 'expired' | 'rejected';
export type CommandAnswer = z.output<typeof commandAnswer>;
export type ConfirmAnswer = z.output<typeof confirmAnswer>;
export type CancelAnswer = z.output<typeof cancelAnswer>;
export type OrderAnswer = z.output<typeof orderAnswer>;
export type OrderList = z.output<typeof orderListAnswer>;
export type OrderListQuery = Partial<Pick<z.input<typeof listOrdersQuery>, 'pair' | 'side' | 'status' | 'wallet'>> & {
  readonly limit?: number;
  readonly offset?: number;
};

/**
 * The extra audit metadata of an event (ids, correlation, the hash chain link) is typed as
 * optional: it is shown when the server sends it.
 */
export interface AuditMetadata {
  readonly event_id?: string;
  readonly correlation_id?: string | null;
  readonly causation_id?: string | null;
  readonly prev_hash?: string;
  readonly hash?: string;
}
export type HistoryEvent = z.output<typeof historyAnswer>['events'][number] & AuditMetadata;
export type History = Omit<z.output<typeof historyAnswer>, 'events'> & { readonly events: HistoryEvent[] };

export type OrderBook = z.output<typeof orderBookAnswer>;
export type Trade = z.output<typeof trade>;
export type Stats = z.output<typeof statsAnswer>;
export type ReconcileSummary = z.output<typeof summary>;
export type Readiness = z.output<typeof readyAnswer>;
export type RecoveryEntry = z.output<typeof recoveryEntry>;
export type ProjectionStatus = z.output<typeof projection>;
export type VerifyReport = z.output<typeof verifyReport>;
export type ChainStatus = z.output<typeof chainStatus>;

/** A block as the sandbox chain's controls report it. */
export interface SandboxChainHead {
  readonly number: string;
  readonly timestamp: string;
  readonly timestamp_seconds: number;
}

/** GET /__sandbox/chain/info. */
export interface SandboxChainInfo {
  readonly rpc_url: string;
  readonly chain_id: number;
  readonly contract: string;
  readonly token: string;
  readonly head: SandboxChainHead;
  /** anvil's development accounts: the only quote addresses the controls act for. */
  readonly dev_addresses: readonly string[];
}

export interface SandboxLockAnswer {
  readonly swap_id: string;
  readonly tx_hash: string;
  readonly block_number: string;
  readonly timelock: string;
  readonly timelock_seconds: number;
}

/** `{ok: false, ...}` as the server sends it, with the HTTP status (0 when no answer came). */
export interface Failure {
  readonly ok: false;
  /** The HTTP status; 0 when no answer arrived. */
  readonly httpStatus: number;
  readonly error: ErrorCode;
  readonly message: string;
  /** The order, on refusals that carry it (422 escrow_lock_failed, 502 settlement answers). */
  readonly order?: Order;
  /** The order's status, on 409 order_not_matched. */
  readonly orderStatus?: string;
  readonly retryable?: boolean;
  readonly retryAfterSeconds?: number;
}

/** A success: the server's body plus the HTTP status and the headers a client acts on. */
export type Success<T> = T & { readonly ok: true; readonly httpStatus: number; readonly etag: string | null; readonly replayed: boolean };

/** Every call answers a value: a success or a typed failure, never an exception for a refusal. */
export type Result<T> = Success<T> | Failure;

export interface SandboxFundAnswer {
  readonly ok: true;
  readonly wallet: string;
  readonly amount_i64: number;
}

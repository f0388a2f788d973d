import { assert, type OrderState, type OrderStatus } from '../aggregates/order/state.js';
import type { Ledger, OrderResult } from '../app/ledger.js';
import { toOrderResource, type OrderResource } from '../views/orderResource.js';
import { messageOf, statusOfCode } from './errorMap.js';

/**
 * Turns a command's result into its HTTP answer. The outcome tables of api.md live here as data,
 * so the routes stay free of business conditions.
 */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The order's version as an entity tag: `"3"`. */
  readonly etag: string;
}

export type OrderView = (state: OrderState, version: bigint, updatedAt: string | null) => OrderResource;

/** The order resource, with the preimage only when the ledger says it may be read. */
export const orderViewOf = (ledger: Ledger): OrderView => (state, version, updatedAt) => {
  assert(state.status !== 'none', 'only an order that exists is shown');
  return toOrderResource(state, version, { revealSecret: ledger.revealSecret(state), updatedAt, quoteLeg: ledger.quoteLegOf(state) });
};

export const etagOf = (version: bigint): string => `"${version}"`;

interface Outcome {
  /** The status of a success; a refusal's status comes from its error code (errorMap.ts). */
  readonly status?: number;
  /** An error code for refusals that still carry the order (422, 502). */
  readonly error?: string;
  readonly retryable?: boolean;
  readonly settled?: boolean;
}

const PLACE: Partial<Record<OrderStatus, Outcome>> = {
  open: { status: 201 },
  escrow_pending: { status: 202 },
  rejected: { error: 'escrow_lock_failed' },
};

const MATCH: Partial<Record<OrderStatus, Outcome>> = {
  matched: { status: 200 },
  matching: { status: 202 },
  // Only a refused lock of the taker's escrow takes a just-matched order back to open.
  open: { error: 'escrow_lock_failed' },
};

const CONFIRM: Partial<Record<OrderStatus, Outcome>> = {
  completed: { status: 200, settled: true },
  payout_pending: { status: 202, settled: false },
  // Release or payout outcome still unknown: the reconciler finishes it, like a queued payout.
  settling: { status: 202, settled: false },
  matched: { error: 'escrow_release_failed', retryable: true },
  settlement_recovery: { error: 'settlement_recovery', retryable: false },
};

function answer(result: OrderResult, view: OrderView, outcome: Outcome, extra: Record<string, unknown>): Answer {
  const order = view(result.state, result.version, result.updatedAt);
  const position = (result.position ?? 0n).toString();
  const etag = etagOf(result.version);
  if (outcome.error !== undefined) {
    // Status and message of a refusal that still carries the order come from the one error map.
    const retryable = outcome.retryable === undefined ? {} : { retryable: outcome.retryable };
    const body = { ok: false, error: outcome.error, message: messageOf(outcome.error), ...retryable, order, position };
    return { status: statusOfCode(outcome.error), etag, body };
  }
  return { status: outcome.status ?? 200, etag, body: { ok: true, ...extra, order, position } };
}

const secretOf = (result: OrderResult): Record<string, unknown> => (result.htlcSecret === null ? {} : { htlc_secret: result.htlcSecret });

export const presentPlace = (result: OrderResult, view: OrderView): Answer =>
  answer(result, view, PLACE[result.state.status] ?? { status: 202 }, secretOf(result));

export const presentMatch = (result: OrderResult, view: OrderView): Answer =>
  answer(result, view, MATCH[result.state.status] ?? { status: 202 }, secretOf(result));

export function presentConfirm(result: OrderResult, view: OrderView): Answer {
  const outcome = CONFIRM[result.state.status] ?? { status: 202, settled: false };
  const trade = result.state.status === 'completed' ? { trade_id: result.state.tradeId } : {};
  return answer(result, view, outcome, { settled: outcome.settled ?? false, ...trade });
}

export const presentCancel = (result: OrderResult, view: OrderView): Answer =>
  answer(result, view, { status: 200 }, { escrow_refunded: result.state.status === 'cancelled' });

/** Re-armed: back on the book (a repeat already satisfied answers the same), with the generated preimage once. */
export const presentRearm = (result: OrderResult, view: OrderView): Answer => answer(result, view, { status: 200 }, secretOf(result));

export const presentRedrive = (result: OrderResult, view: OrderView): Answer => answer(result, view, { status: 200 }, {});

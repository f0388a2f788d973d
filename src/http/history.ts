import { loadOrderAt, orderHistory as auditHistory } from '../audit/replay.js';
import type { EventStore } from '../eventstore/types.js';
import { ApiError } from './errorMap.js';
import { OrderStreamCorrupt } from '../orderStream/fold.js';
import type { OrderView } from './present.js';

/**
 * GET /api/orders/:id/history: the same audit timeline as `otc-ledger replay` (src/audit/replay.ts),
 * so the API and the CLI never disagree on what an auditor sees or on what is redacted.
 */
export async function orderHistory(store: EventStore, orderId: string) {
  const history = await auditHistory(store, orderId);
  if (history === null) throw new ApiError('order_not_found', 'no such order');
  return { ok: true as const, order_id: orderId, chain_valid: history.chain_valid, events: history.events };
}

/** ?at_version=N: the order as it stood right after its event N. */
export async function orderAtVersion(store: EventStore, orderId: string, atVersion: bigint, view: OrderView) {
  const at = await loadOrderAt(store, orderId, atVersion);
  if (at === null) throw new ApiError('order_not_found', 'no such order');
  if (at.kind === 'beyond_stream') throw new ApiError('version_not_found', `the order has ${at.latestVersion} events`);
  if (at.kind === 'invalid_version') throw new ApiError('at_version_invalid', 'at_version must be a positive integer');
  if (at.kind === 'corrupt') throw new OrderStreamCorrupt(orderId, at.problem);
  return { ok: true as const, order: view(at.state, at.version, at.updatedAt) };
}

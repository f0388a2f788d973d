import { evolve, initialState, orderStream } from '../aggregates/order/index.js';
import { toOrderEvent } from '../commands/loadOrder.js';
import { verifyChain } from '../eventstore/hashChain.js';
import type { EventStore, JsonObject } from '../eventstore/types.js';
import { ApiError } from './errorMap.js';
import type { OrderView } from './present.js';

/** Fields an audit answer never shows: the preimage, in clear or encrypted. */
const HIDDEN_FIELDS = new Set(['secret', 'secret_ciphertext', 'htlc_secret', 'preimage']);

const publicData = (data: JsonObject): JsonObject =>
  Object.fromEntries(Object.entries(data).filter(([key]) => !HIDDEN_FIELDS.has(key)));

/** GET /api/orders/:id/history: the order's events, oldest first, each with the status it led to. */
export async function orderHistory(store: EventStore, orderId: string) {
  const events = await store.readStream(orderStream(orderId));
  if (events.length === 0) throw new ApiError('order_not_found', 'no such order');
  let state = initialState;
  const timeline = events.map((recorded) => {
    state = evolve(state, toOrderEvent(recorded), recorded.metadata.recorded_at);
    return {
      version: Number(recorded.version),
      type: recorded.type,
      recorded_at: recorded.metadata.recorded_at,
      actor: recorded.metadata.actor,
      data: publicData(recorded.data),
      status_after: state.status,
    };
  });
  return { ok: true as const, order_id: orderId, chain_valid: verifyChain(events).ok, events: timeline };
}

/** ?at_version=N: the order as it stood right after its event N. */
export async function orderAtVersion(store: EventStore, orderId: string, atVersion: bigint, view: OrderView) {
  const events = await store.readStream(orderStream(orderId));
  if (events.length === 0) throw new ApiError('order_not_found', 'no such order');
  if (atVersion > BigInt(events.length)) throw new ApiError('version_not_found', `the order has ${events.length} events`);
  let state = initialState;
  for (const recorded of events.slice(0, Number(atVersion))) state = evolve(state, toOrderEvent(recorded), recorded.metadata.recorded_at);
  return { ok: true as const, order: view(state, atVersion) };
}

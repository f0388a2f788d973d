import { orderStream } from '../aggregates/order/events.js';
import type { OrderState, OrderStatus } from '../aggregates/order/state.js';
import { verifyChain } from '../eventstore/hashChain.js';
import type { EventStore, JsonObject, JsonValue, RecordedEvent } from '../eventstore/types.js';
import { foldStep, type StoredState } from '../projections/orderFold.js';
import { initialState } from '../aggregates/order/state.js';

export interface HistoryEntry {
  version: number;
  type: string;
  recorded_at: string;
  actor: string;
  data: JsonObject;
  status_after: OrderStatus;
  /** The metadata an auditor follows: which request wrote it, what caused it, and its chain links. */
  event_id: string;
  correlation_id: string;
  causation_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface OrderHistory {
  order_id: string;
  chain_valid: boolean;
  /** The first event that breaks the hash chain, when it is broken: reported, never hidden. */
  chain_problem: { version: number; problem: string } | null;
  events: HistoryEntry[];
}

/** Any key naming a preimage or its ciphertext: audit output never carries them. */
const SECRET_KEY = /secret|preimage/i;

export function redactSecrets(data: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(data)) {
    if (SECRET_KEY.test(key)) continue;
    out[key] = redactValue(value);
  }
  return out;
}

function redactValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') return redactSecrets(value);
  return value;
}

/**
 * The state after each event, folded the way the read models fold it: an event after the order
 * ended, or one that cannot be read, leaves the state as it was. History and `at_version` both use
 * it, so they can never disagree, and a tampered stream is shown rather than failing.
 */
function statesAfter(events: readonly RecordedEvent[]): OrderState[] {
  let prior: StoredState | null = null;
  return events.map((event) => {
    const step = foldStep(event, prior);
    if (step !== null) prior = { state: step.after, version: event.version };
    return prior?.state ?? initialState;
  });
}

/** The timeline of one order's stream, oldest first, with the status after each event. */
export function historyOf(orderId: string, events: readonly RecordedEvent[]): OrderHistory {
  const chain = verifyChain(events);
  const states = statesAfter(events);
  const entries = events.map((event, i): HistoryEntry => {
    const state = states[i] ?? initialState;
    return {
      version: Number(event.version),
      type: event.type,
      recorded_at: event.metadata.recorded_at,
      actor: event.metadata.actor,
      data: redactSecrets(event.data),
      status_after: state.status,
      event_id: event.eventId,
      correlation_id: event.metadata.correlation_id,
      causation_id: event.metadata.causation_id,
      prev_hash: event.metadata.prev_hash,
      hash: event.metadata.hash,
    };
  });
  return {
    order_id: orderId,
    chain_valid: chain.ok,
    chain_problem: chain.ok ? null : { version: Number(chain.version), problem: chain.problem },
    events: entries,
  };
}

/** Null for an order with no stream (404 order_not_found). */
export async function orderHistory(store: EventStore, orderId: string): Promise<OrderHistory | null> {
  const events = await store.readStream(orderStream(orderId));
  return events.length === 0 ? null : historyOf(orderId, events);
}

export type OrderAt =
  | { readonly kind: 'found'; readonly state: OrderState; readonly version: bigint }
  | { readonly kind: 'beyond_stream'; readonly latestVersion: bigint }
  | { readonly kind: 'invalid_version' };

/** The order as it stood right after event `version` (1-based). */
export function orderAt(events: readonly RecordedEvent[], version: bigint): OrderAt {
  if (version < 1n) return { kind: 'invalid_version' };
  const latest = events[events.length - 1]?.version ?? 0n;
  if (version > latest) return { kind: 'beyond_stream', latestVersion: latest };
  const upTo = events.filter((e) => e.version <= version);
  return { kind: 'found', state: statesAfter(upTo).at(-1) ?? initialState, version };
}

/** orderAt for a stored order; null when the order does not exist at all. */
export async function loadOrderAt(store: EventStore, orderId: string, version: bigint): Promise<OrderAt | null> {
  const events = await store.readStream(orderStream(orderId));
  return events.length === 0 ? null : orderAt(events, version);
}

import { orderStream } from '../aggregates/order/events.js';
import { assert, type OrderStatus, type PlacedOrder } from '../aggregates/order/state.js';
import { verifyChain } from '../eventstore/hashChain.js';
import type { EventStore, JsonObject, JsonValue, RecordedEvent } from '../eventstore/types.js';
import { EMPTY_FOLD, foldOrderEvent, type OrderFold, type StreamProblem } from '../orderStream/fold.js';

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
  /** Set when this event cannot be read or cannot follow the order: the fold stops there. */
  problem: { kind: string; reason: string } | null;
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

/** The one fold after each event: history and `at_version` use it, so they never disagree with a read. */
function foldsAfter(events: readonly RecordedEvent[]): OrderFold[] {
  let fold = EMPTY_FOLD;
  return events.map((event) => (fold = foldOrderEvent(fold, event)));
}

const problemAt = (fold: OrderFold, version: bigint): StreamProblem | undefined => fold.problems.find((p) => p.version === version);

/** The timeline of one order's stream, oldest first, with the status after each event. */
export function historyOf(orderId: string, events: readonly RecordedEvent[]): OrderHistory {
  const chain = verifyChain(events);
  const folds = foldsAfter(events);
  const entries = events.map((event, i): HistoryEntry => {
    const fold = folds[i] ?? EMPTY_FOLD;
    const problem = problemAt(fold, event.version);
    return {
      version: Number(event.version),
      type: event.type,
      recorded_at: event.metadata.recorded_at,
      actor: event.metadata.actor,
      data: redactSecrets(event.data),
      status_after: fold.state.status,
      event_id: event.eventId,
      correlation_id: event.metadata.correlation_id,
      causation_id: event.metadata.causation_id,
      prev_hash: event.metadata.prev_hash,
      hash: event.metadata.hash,
      problem: problem === undefined ? null : { kind: problem.kind, reason: problem.reason },
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
  | { readonly kind: 'found'; readonly state: PlacedOrder; readonly version: bigint; readonly updatedAt: string | null }
  /** The stream cannot be read up to that version: the first problem on the way. */
  | { readonly kind: 'corrupt'; readonly problem: StreamProblem }
  | { readonly kind: 'beyond_stream'; readonly latestVersion: bigint }
  | { readonly kind: 'invalid_version' };

/** The order as it stood right after event `version` (1-based). */
export function orderAt(events: readonly RecordedEvent[], version: bigint): OrderAt {
  if (version < 1n) return { kind: 'invalid_version' };
  const latest = events[events.length - 1]?.version ?? 0n;
  if (version > latest) return { kind: 'beyond_stream', latestVersion: latest };
  const fold = foldsAfter(events.filter((e) => e.version <= version)).at(-1) ?? EMPTY_FOLD;
  const problem = fold.problems.find((p) => p.kind !== 'event_after_terminal');
  if (problem !== undefined) return { kind: 'corrupt', problem };
  // A readable first event that is not OrderPlaced does not apply, so a fold with no problem has an order.
  assert(fold.state.status !== 'none', 'a stream folded without a problem holds an order');
  return { kind: 'found', state: fold.state, version, updatedAt: fold.updatedAt };
}

/** orderAt for a stored order; null when the order does not exist at all. */
export async function loadOrderAt(store: EventStore, orderId: string, version: bigint): Promise<OrderAt | null> {
  const events = await store.readStream(orderStream(orderId));
  return events.length === 0 ? null : orderAt(events, version);
}

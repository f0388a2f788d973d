import { evolve, initialState, orderStream, type OrderEvent, type OrderState } from '../aggregates/order/index.js';
import { GENESIS_HASH } from '../eventstore/hashChain.js';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';

export interface LoadedOrder {
  readonly state: OrderState;
  /** The stream's version: its event count, 0n for no stream. */
  readonly version: bigint;
  /** The hash of the last event, where the next event's chain link starts. */
  readonly lastHash: string;
  readonly events: readonly RecordedEvent[];
}

export function toOrderEvent(recorded: RecordedEvent): OrderEvent {
  return { type: recorded.type, data: recorded.data } as unknown as OrderEvent;
}

/** Folds recorded events into the order's state, event by event. */
export function foldRecorded(events: readonly RecordedEvent[]): LoadedOrder {
  let state = initialState;
  let lastHash = GENESIS_HASH;
  let version = 0n;
  for (const recorded of events) {
    state = evolve(state, toOrderEvent(recorded), recorded.metadata.recorded_at);
    lastHash = recorded.metadata.hash;
    version = recorded.version;
  }
  return { state, version, lastHash, events };
}

export async function loadOrder(store: EventStore, orderId: string): Promise<LoadedOrder> {
  return foldRecorded(await store.readStream(orderStream(orderId)));
}

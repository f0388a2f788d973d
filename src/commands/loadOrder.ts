import { orderStream } from '../aggregates/order/index.js';
import type { EventStore } from '../eventstore/types.js';
import { foldOrderStream, type OrderFold } from '../orderStream/fold.js';

/** An order as read from its stream: the one fold every reader uses (see orderStream/fold.ts). */
export type LoadedOrder = OrderFold;

export async function loadOrder(store: EventStore, orderId: string): Promise<LoadedOrder> {
  return foldOrderStream(await store.readStream(orderStream(orderId)));
}

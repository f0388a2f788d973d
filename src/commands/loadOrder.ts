import { orderStream } from '../aggregates/order/index.js';
import type { EventStore } from '../eventstore/types.js';
import { foldOrderEvent, foldOrderStream, type OrderFold } from '../orderStream/fold.js';

/** An order as read from its stream: the one fold every reader uses (see orderStream/fold.ts). */
export type LoadedOrder = OrderFold;

/** Enough for every order in flight at 1,000 trades/s for a minute; each entry is one order's state. */
export const DEFAULT_ORDER_CACHE_ENTRIES = 10_000;

/**
 * Folded orders keyed by the stream version they were folded at (issue 14, lever 4). A cached fold
 * is never handed out as current on its own word: loadOrder reads the stream after the cached
 * version (an indexed read that finds nothing when no one wrote) and folds whatever another process
 * or request appended since. A command that loses an append race drops the entry and reads the
 * whole stream again. Bounded: the least recently used order is forgotten first.
 */
export class OrderCache {
  private readonly folds = new Map<string, OrderFold>();

  constructor(private readonly maxEntries = DEFAULT_ORDER_CACHE_ENTRIES) {}

  get size(): number {
    return this.folds.size;
  }

  get(orderId: string): OrderFold | undefined {
    const fold = this.folds.get(orderId);
    if (fold === undefined) return undefined;
    // Map order is insertion order: re-inserting makes this the most recently used entry.
    this.folds.delete(orderId);
    this.folds.set(orderId, fold);
    return fold;
  }

  /** Keeps the fold unless a newer one is already cached; an order that does not exist is never kept. */
  remember(orderId: string, fold: OrderFold): void {
    if (fold.version === 0n) return;
    const cached = this.folds.get(orderId);
    if (cached !== undefined && cached.version > fold.version) return;
    this.folds.delete(orderId);
    this.folds.set(orderId, fold);
    if (this.folds.size > this.maxEntries) {
      const oldest = this.folds.keys().next();
      if (oldest.done !== true) this.folds.delete(oldest.value);
    }
  }

  /**
   * The fold at exactly `version`, without reading the stream's tail: only for a caller whose
   * append expects that version (the store's expected-version check refuses it if the stream moved
   * on) and whose every other outcome on a stale fold is the same as on a conflict.
   */
  atVersion(orderId: string, version: bigint): OrderFold | undefined {
    const fold = this.get(orderId);
    return fold?.version === version ? fold : undefined;
  }

  forget(orderId: string): void {
    this.folds.delete(orderId);
  }
}

export async function loadOrder(store: EventStore, orderId: string, cache?: OrderCache): Promise<LoadedOrder> {
  const cached = cache?.get(orderId);
  if (cache === undefined || cached === undefined) {
    const fold = foldOrderStream(await store.readStream(orderStream(orderId)));
    cache?.remember(orderId, fold);
    return fold;
  }
  const newer = await store.readStream(orderStream(orderId), cached.version + 1n);
  if (newer.length === 0) return cached;
  // Only a contiguous continuation may be folded onto the cached state; anything else re-reads.
  if (newer[0]?.version !== cached.version + 1n) {
    cache.forget(orderId);
    return loadOrder(store, orderId, cache);
  }
  let fold = cached;
  for (const recorded of newer) fold = foldOrderEvent(fold, recorded);
  cache.remember(orderId, fold);
  return fold;
}

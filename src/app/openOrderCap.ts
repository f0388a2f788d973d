import type { LedgerDeps } from './deps.js';

/**
 * Issue 10, "Open-order limits": one wallet may hold at most `maxPerWallet` orders that are on the
 * book or still tie up its maker, so one unfunded wallet cannot own the book. The default, 20, is
 * the node's own cap of active escrow jobs per poster: a sell maker past it would be refused by the
 * node anyway (422 escrow_lock_failed), after the order was written.
 */
export interface OpenOrderCap {
  readonly maxPerWallet: number;
  /**
   * How many of the maker's orders count (escrow_pending, matching, matched, and open ones not past
   * expires_at). The composition root counts from the orders read model, first waiting for it to
   * reach the store's head: every order this wallet was already answered for is counted, and only
   * places running at the same moment can pass the cap together (docs/DECISIONS.md). Null when the
   * read model is out of service: the order is allowed, as every command goes on without it.
   */
  readonly countOpen: (makerWallet: string, now: Date) => Promise<number | null>;
}

/** 409 too_many_open_orders: cancel one, or wait for one to settle or expire. */
export class TooManyOpenOrders extends Error {
  readonly code = 'too_many_open_orders';
  constructor(readonly limit: number) {
    super(`this wallet already has ${limit} open orders, the most allowed; cancel one or wait for one to settle or expire`);
    this.name = 'TooManyOpenOrders';
  }
}

/** Refuses a new order from a maker at the cap; without a cap (a test's ledger) allows it. */
export async function checkOpenOrderCap(deps: Pick<LedgerDeps, 'openOrderCap' | 'now'>, makerWallet: string): Promise<void> {
  const cap = deps.openOrderCap;
  if (cap === undefined) return;
  const open = await cap.countOpen(makerWallet, deps.now());
  if (open !== null && open >= cap.maxPerWallet) throw new TooManyOpenOrders(cap.maxPerWallet);
}

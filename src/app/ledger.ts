import type { OrderState, PlacedOrder } from '../aggregates/order/index.js';
import type { OrderSummary } from '../aggregates/order/facts.js';
import type { QuoteLegFacts } from '../views/quoteLegFacts.js';
import { quoteLegResource, quoteLegResourceOf } from './quoteLeg.js';
import { cancelOrder, type CancelOrderRequest } from './cancelOrder.js';
import { confirmSettlement, type ConfirmSettlementRequest } from './confirmSettlement.js';
import type { LedgerDeps, RequestContext } from './deps.js';
import { matchOrder, type MatchOrderRequest } from './matchOrder.js';
import { placeOrder, type PlaceOrderRequest } from './placeOrder.js';
import { getOrder, revealSecret, revealStored } from './readOrder.js';
import { redrive, type RedriveRequest } from './redrive.js';
import { rearmOrder, type RearmOrderRequest } from './rearmOrder.js';

export type { LedgerDeps, OrderResult, RequestContext } from './deps.js';
export { newOrderId } from './deps.js';
export type { PlaceOrderRequest } from './placeOrder.js';
export type { MatchOrderRequest } from './matchOrder.js';
export type { CancelOrderRequest } from './cancelOrder.js';
export type { ConfirmSettlementRequest } from './confirmSettlement.js';
export type { RearmOrderRequest } from './rearmOrder.js';

/** The use cases bound to their dependencies, as the HTTP API and the CLI call them. */
export function createLedger(deps: LedgerDeps) {
  return {
    placeOrder: (input: PlaceOrderRequest, req: RequestContext) => placeOrder(deps, input, req),
    matchOrder: (orderId: string, input: MatchOrderRequest, req: RequestContext) => matchOrder(deps, orderId, input, req),
    cancelOrder: (orderId: string, input: CancelOrderRequest, req: RequestContext) => cancelOrder(deps, orderId, input, req),
    confirmSettlement: (orderId: string, input: ConfirmSettlementRequest, req: RequestContext) => confirmSettlement(deps, orderId, input, req),
    rearmOrder: (orderId: string, input: RearmOrderRequest, req: RequestContext) => rearmOrder(deps, orderId, input, req),
    redrive: (orderId: string, input: RedriveRequest, req: RequestContext) => redrive(deps, orderId, input, req),
    getOrder: (orderId: string) => getOrder(deps, orderId),
    revealSecret: (state: OrderState) => revealSecret(deps, state),
    revealStored: (orderId: string, ciphertext: string) => revealStored(deps, orderId, ciphertext),
    quoteLegOf: (state: PlacedOrder) => quoteLegResource(deps.quoteLeg, state),
    /** The same `quote_leg` for an order a read model listed, from its stored facts. */
    quoteLegOfStored: (summary: OrderSummary, leg: QuoteLegFacts | null) => quoteLegResourceOf(deps.quoteLeg, summary, leg),
  };
}

export type Ledger = ReturnType<typeof createLedger>;

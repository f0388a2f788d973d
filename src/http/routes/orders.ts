import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { awaitPosition, requestContext, send } from '../context.js';
import { orderAtVersion, orderHistory } from '../history.js';
import { etagOf, presentCancel, presentConfirm, presentMatch, presentPlace, presentRearm } from '../present.js';
import { minPositionQuery, orderIdParam } from '../schemas/fields.js';
import {
  cancelBody,
  commandHeaders,
  confirmBody,
  historyQuery,
  listOrdersQuery,
  matchOrderBody,
  maxTtlSecondsFor,
  placeOrderBody,
  rearmBody,
} from '../schemas/orders.js';
import {
  cancelAnswer,
  commandAnswer,
  confirmAnswer,
  errorResponses,
  historyAnswer,
  orderAnswer,
  orderListAnswer,
} from '../schemas/responses.js';
import { ApiError } from '../errorMap.js';
import type { RouteOptions } from './options.js';

const tags = ['orders'];

/** The order resource: place, list, read, audit, match, confirm, cancel. */
export const orderRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps, view, rateLimit, now }) => {
  // One limiter (one store) for all four routes, so the budget is per address, not per route.
  const limited = rateLimit === null ? {} : { onRequest: app.rateLimit(rateLimit) };
  app.post('/api/orders', {
    schema: {
      tags, summary: 'Place an order',
      description: 'Buy: 201 open. Sell: the maker\'s RTC is locked first; 201 open (with htlc_secret when the ledger generated the preimage), 202 escrow_pending when the lock\'s outcome is unknown (htlc_secret included too), 422 escrow_lock_failed when the node refused (order rejected). Validation 400s come first, in the order the 400 codes are listed, then wallet auth 401s.',
      headers: commandHeaders, body: placeOrderBody(deps.config.maxOrderMicroRtc, maxTtlSecondsFor(deps.config.settleWindowSeconds)),
      response: { 201: commandAnswer, 202: commandAnswer, ...errorResponses(401, 409, 422) },
    },
    config: { command: 'place_order' }, ...limited,
  }, async (request, reply) => {
    const b = request.body;
    const input = { side: b.side, pair: b.pair, wallet: b.wallet, amountMicroRtc: b.amount_rtc, pricePerRtcNanoQuote: b.price_per_rtc, ttlSeconds: b.ttl_seconds, ethAddress: b.eth_address, htlcHash: b.htlc_hash, walletAuth: b.wallet_auth };
    return send(reply, presentPlace(await deps.ledger.placeOrder(input, requestContext(request)), view));
  });

  app.get('/api/orders', {
    schema: {
      tags, summary: 'List orders',
      description: 'Open orders: asks by price ascending, then bids by price descending, oldest first within a price. Other statuses: newest first.',
      querystring: listOrdersQuery, response: { 200: orderListAnswer, ...errorResponses(503) },
    },
  }, async (request) => {
    const { min_position: minPosition, ...query } = request.query;
    await awaitPosition(deps, minPosition);
    const page = await deps.readModels.listOrders(query, now());
    return { ok: true as const, orders: [...page.orders], total: page.total, limit: query.limit, offset: query.offset };
  });

  app.get('/api/orders/:id', {
    schema: {
      tags, summary: 'One order',
      description: 'Read from the order\'s own stream, so it is always current; min_position is accepted and already satisfied.',
      params: orderIdParam, querystring: z.object({ min_position: minPositionQuery }),
      response: { 200: orderAnswer, ...errorResponses(404, 409) },
    },
  }, async (request, reply) => {
    const found = (await deps.ledger.getOrder(request.params.id)) ?? notFound();
    return reply.header('etag', etagOf(found.version)).send({ ok: true as const, order: view(found.state, found.version, found.updatedAt) });
  });

  app.get('/api/orders/:id/history', {
    schema: {
      tags, summary: 'Audit history of an order',
      description: 'Every event, oldest first, with the status it led to and whether the hash chain verifies. The preimage never appears. With at_version=N: {ok, order} as it stood after event N (404 version_not_found beyond the stream).',
      params: orderIdParam, querystring: historyQuery,
      response: { 200: z.union([historyAnswer, orderAnswer]), ...errorResponses(404, 409) },
    },
  }, async (request) => {
    const { id } = request.params;
    const atVersion = request.query.at_version;
    return atVersion === undefined ? orderHistory(deps.store, id) : orderAtVersion(deps.store, id, atVersion, view);
  });

  app.post('/api/orders/:id/match', {
    schema: {
      tags, summary: 'Take an order',
      description: 'Sell order: 200 matched. Buy order (the taker sells): the taker\'s RTC is locked first; 200 matched (htlc_secret when generated), 202 matching when the lock\'s outcome is unknown, 422 escrow_lock_failed when refused (the order is open again). eth_address is checked against both address forms here; htlc_hash on a sell order is 400 htlc_hash_not_allowed.',
      params: orderIdParam, headers: commandHeaders, body: matchOrderBody,
      response: { 200: commandAnswer, 202: commandAnswer, ...errorResponses(401, 404, 409, 410, 412, 422) },
    },
    config: { command: 'match_order' }, ...limited,
  }, async (request, reply) => {
    const b = request.body;
    const input = { wallet: b.wallet, ethAddress: b.eth_address ?? null, htlcHash: b.htlc_hash ?? null, walletAuth: b.wallet_auth };
    return send(reply, presentMatch(await deps.ledger.matchOrder(request.params.id, input, requestContext(request)), view));
  });

  app.post('/api/orders/:id/confirm', {
    schema: {
      tags, summary: 'Confirm settlement (the seller, with the preimage)',
      description: 'completed → 200 settled:true with htlc_secret and trade_id; payout queued (or an outcome still unknown) → 202 settled:false; release refused → 502 escrow_release_failed retryable:true (order matched); payout refused or unknown after release → 502 settlement_recovery retryable:false; already claimed → 409 order_not_matched with status.',
      params: orderIdParam, headers: commandHeaders, body: confirmBody,
      response: { 200: confirmAnswer, 202: confirmAnswer, ...errorResponses(401, 403, 404, 409, 412, 502) },
    },
    config: { command: 'confirm_settlement' }, ...limited,
  }, async (request, reply) => {
    const b = request.body;
    const input = { wallet: b.wallet, quoteTx: b.quote_tx, secret: b.secret, walletAuth: b.wallet_auth };
    return send(reply, presentConfirm(await deps.ledger.confirmSettlement(request.params.id, input, requestContext(request)), view));
  });

  app.post('/api/orders/:id/cancel', {
    schema: {
      tags, summary: 'Cancel an open order (its maker)',
      description: 'escrow_refunded is true when the order ends cancelled (no escrow, or the refund is done); false with status refund_pending while the reconciler retries the refund.',
      params: orderIdParam, headers: commandHeaders, body: cancelBody,
      response: { 200: cancelAnswer, ...errorResponses(401, 403, 404, 409, 412) },
    },
    config: { command: 'cancel_order' }, ...limited,
  }, async (request, reply) => {
    const input = { wallet: request.body.wallet, walletAuth: request.body.wallet_auth };
    return send(reply, presentCancel(await deps.ledger.cancelOrder(request.params.id, input, requestContext(request)), view));
  });

  app.post('/api/orders/:id/rearm', {
    schema: {
      tags, summary: 'Re-arm a lapsed sell order under a fresh hashlock (its maker)',
      description: 'A sell order whose buyer locked no valid quote by lock_by is lapsed: off the book. Its maker puts it back (200, status open) with a fresh htlc_hash, or without one gets a generated preimage as htlc_secret, shown this once. 409 quote_lock_live while any swap under the old hash can still be claimed; 400 htlc_hash_reused for the old hash or one another order holds.',
      params: orderIdParam, headers: commandHeaders, body: rearmBody,
      response: { 200: commandAnswer, ...errorResponses(401, 403, 404, 409, 410, 412) },
    },
    config: { command: 'rearm_order' }, ...limited,
  }, async (request, reply) => {
    const b = request.body;
    const input = { wallet: b.wallet, htlcHash: b.htlc_hash ?? null, walletAuth: b.wallet_auth };
    return send(reply, presentRearm(await deps.ledger.rearmOrder(request.params.id, input, requestContext(request)), view));
  });
};

function notFound(): never {
  throw new ApiError('order_not_found', 'no such order');
}


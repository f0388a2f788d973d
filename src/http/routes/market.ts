import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { awaitPosition } from '../context.js';
import { ApiError } from '../errorMap.js';
import { limitQuery, minPositionQuery, pairField } from '../schemas/fields.js';
import { errorResponses } from '../schemas/responses.js';
import type { RouteOptions } from './options.js';

const tags = ['market'];
const decimal = z.string().meta({ description: 'decimal string' });
const level = z.object({ price: decimal, total_rtc: decimal, order_count: z.number().int() });
const openSide = z.object({ count: z.number().int(), total_rtc: decimal });

export const orderBookAnswer = z.object({
  ok: z.literal(true),
  pair: z.string(),
  asks: z.array(level),
  bids: z.array(level),
  best_ask: decimal.nullable(),
  best_bid: decimal.nullable(),
  spread: decimal.nullable(),
  last_price: decimal.nullable(),
  volume_24h_rtc: decimal,
  trades_24h: z.number().int(),
});

export const trade = z.object({
  trade_id: z.string(),
  order_id: z.string(),
  pair: z.string(),
  side: z.string(),
  amount_rtc: decimal,
  price_per_rtc: decimal,
  total_quote: decimal,
  seller_wallet: z.string().nullable(),
  buyer_wallet: z.string().nullable(),
  quote_tx: z.string().nullable(),
  payout_tx_hash: z.string().nullable(),
  completed_at: z.string().nullable(),
});

export const statsAnswer = z.object({
  ok: z.literal(true),
  pair: z.string(),
  total_trades: z.number().int(),
  total_volume_rtc: decimal,
  volume_24h_rtc: decimal,
  volume_7d_rtc: decimal,
  last_price: decimal.nullable(),
  high_24h: decimal.nullable(),
  low_24h: decimal.nullable(),
  open_sells: openSide,
  open_buys: openSide,
});

const pairQuery = z.object({ pair: pairField.default('RTC/USDC'), min_position: minPositionQuery });

const tradesQuery = z.object({
  pair: pairField.optional(),
  limit: limitQuery,
  before: z.string({ error: 'before_invalid' }).max(100, 'before_invalid').optional().meta({ description: 'A trade_id: only older trades' }),
  min_position: minPositionQuery,
});

/** Market data from the read models: order book, trades, stats. */
export const marketRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps, now }) => {

  app.get('/api/orderbook', {
    schema: {
      tags, summary: 'Order book of one pair',
      description: 'Open, unexpired orders grouped by exact price, 50 levels a side; asks ascending, bids descending.',
      querystring: pairQuery, response: { 200: orderBookAnswer, ...errorResponses(503) },
    },
  }, async (request) => {
    await awaitPosition(deps, request.query.min_position);
    return { ok: true as const, ...(await deps.readModels.orderBook(request.query.pair, now())) };
  });

  app.get('/api/trades', {
    schema: {
      tags, summary: 'Completed trades, newest first',
      description: 'before is a trade_id cursor; an unknown cursor is 400 before_invalid.',
      querystring: tradesQuery, response: { 200: z.object({ ok: z.literal(true), trades: z.array(trade) }), ...errorResponses(503) },
    },
  }, async (request) => {
    const { min_position: minPosition, ...query } = request.query;
    await awaitPosition(deps, minPosition);
    const trades = (await deps.readModels.trades(query)) ?? badCursor();
    return { ok: true as const, trades: [...trades] };
  });

  app.get('/api/stats', {
    schema: {
      tags, summary: 'Trading statistics of one pair',
      querystring: pairQuery, response: { 200: statsAnswer, ...errorResponses(503) },
    },
  }, async (request) => {
    await awaitPosition(deps, request.query.min_position);
    return { ok: true as const, ...(await deps.readModels.stats(request.query.pair, now())) };
  });
};

function badCursor(): never {
  throw new ApiError('before_invalid');
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { awaitPosition, requestContext, send } from '../context.js';
import { createAuthFailureLimiter } from '../authFailures.js';
import { ApiError } from '../errorMap.js';
import { presentRedrive } from '../present.js';
import { minPositionQuery, orderIdParam } from '../schemas/fields.js';
import { commandHeaders, redriveBody } from '../schemas/orders.js';
import { commandAnswer, errorResponses } from '../schemas/responses.js';
import type { RouteOptions } from './options.js';
import { verifyLedger } from '../../audit/verify.js';
import type { EventStore } from '../../eventstore/types.js';
import type { VerifyView } from '../deps.js';

const tags = ['admin'];
const security = [{ adminToken: [] }];
const count = z.number().int();

export const summary = z.object({
  examined: count, completed: count, payout_pending: count, recovered: count, reverted: count,
  refunded: count, expired: count, lapsed: count.meta({ description: 'matches that lapsed on chain time: no valid quote lock by lock_by' }), locked: count, left: count,
});

export const recoveryEntry = z.object({
  order_id: z.string(),
  status: z.string(),
  version: count,
  last_event_at: z.string(),
  idle_ms: count,
  attempts: count,
  last_error: z.string().nullable(),
  recovery_reason: z.string().nullable(),
});

export const projection = z.object({
  name: z.string(),
  position: z.string().meta({ description: 'Last global position applied' }),
  lag: count.meta({ description: 'Events behind the head of the log' }),
  state: z.string(),
  rebuild: z
    .object({ rebuild_id: z.string(), position: z.string(), lag: count })
    .nullable()
    .meta({ description: 'A rebuild under way: its id (from the 202), how far it has got, and how far behind the head it still is' }),
});

export const verifyReport = z.object({
  streams: count, events: count,
  read_models: z.boolean().meta({ description: 'Whether the read models were compared with a fresh rebuild' }),
  findings: z.array(z.object({
    kind: z.string().meta({ description: 'A stable snake_case code (hash_chain_broken, rtc_not_conserved, ...)' }),
    stream: z.string().optional(), version: count.optional(), message: z.string(),
  })),
});

const chainBlock = z.object({ number: z.string(), hash: z.string(), timestamp: z.string() });
export const chainStatus = z.object({
  mode: z.string().meta({ description: 'sandbox or evm' }),
  chain_id: count, contract: z.string(),
  head: chainBlock.nullable(), finalized: chainBlock.nullable(),
  checkpoint: z.object({ number: z.string(), hash: z.string() }).nullable().meta({ description: 'The last block the follower fully processed' }),
  lag_blocks: count.nullable().meta({ description: 'Finalized block minus checkpoint' }),
  last_reorg: z.object({
    block_number: z.string(), detected_at: z.string(),
    checkpoint_hash: z.string().meta({ description: 'The hash the follower had recorded for that block' }),
    chain_hash: z.string().nullable().meta({ description: 'The hash the chain then had there; null when it had no such block' }),
  }).nullable(),
  problem: z.string().nullable().meta({ description: 'Why the chain could not be read, when it could not' }),
});

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Compares digests, so neither the token's length nor its content leaks through timing. */
export function bearerMatches(header: unknown, token: string | null): boolean {
  if (token === null || typeof header !== 'string') return false;
  const presented = /^Bearer +(\S+)\s*$/i.exec(header)?.[1];
  return presented !== undefined && timingSafeEqual(sha256(presented), sha256(token));
}

/** Operator endpoints, all behind `Authorization: Bearer <LEDGER_ADMIN_TOKEN>`. */
export const adminRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps, view, now }) => {
  const failures = createAuthFailureLimiter({ maxPerWindow: deps.config.adminAuthFailuresPerMinute });
  // onRequest: refused before the body is even read. request.ip is the client as the trusted
  // proxies report it, so failures behind a proxy count per client, not per proxy.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const nowMs = now().getTime();
    const waitMs = failures.blockedForMs(request.ip, nowMs);
    if (waitMs > 0) {
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      throw new ApiError('rate_limited', 'too many failed admin authentications from this address; retry later');
    }
    if (!bearerMatches(request.headers.authorization, deps.config.adminToken)) {
      failures.recordFailure(request.ip, nowMs);
      throw new ApiError('unauthorized');
    }
  });

  app.post('/admin/reconcile', {
    schema: {
      tags, security, summary: 'Run one full reconciler pass now', headers: commandHeaders,
      // The pass picks its orders from the work queue, a read model: min_position makes it see a command just answered.
      querystring: z.object({ min_position: minPositionQuery }),
      response: { 200: z.object({ ok: z.literal(true), summary }), ...errorResponses(401, 503) },
    },
  }, async (request) => {
    await awaitPosition(deps, request.query.min_position);
    return { ok: true as const, summary: await deps.reconcile() };
  });

  app.get('/admin/recovery', {
    schema: {
      tags, security, summary: 'Orders in settlement_recovery or stuck in flight past the stuck threshold',
      querystring: z.object({ min_position: minPositionQuery }),
      response: { 200: z.object({ ok: z.literal(true), orders: z.array(recoveryEntry) }), ...errorResponses(401, 503) },
    },
  }, async (request) => {
    await awaitPosition(deps, request.query.min_position);
    return { ok: true as const, orders: [...(await deps.readModels.recoveryList(now()))] };
  });

  app.post('/admin/orders/:id/redrive', {
    schema: {
      tags, security, summary: 'Re-drive an order in settlement_recovery (audited as OperatorRedriveRequested)',
      params: orderIdParam, headers: commandHeaders, body: redriveBody,
      response: { 200: commandAnswer, ...errorResponses(401, 404, 409, 412) },
    },
    config: { command: 'redrive' },
  }, async (request, reply) => send(reply, presentRedrive(await deps.ledger.redrive(request.params.id, request.body, requestContext(request)), view)));

  app.get('/admin/projections', {
    schema: { tags, security, summary: 'Read models: checkpoint, lag, state', response: { 200: z.object({ ok: z.literal(true), projections: z.array(projection) }), ...errorResponses(401) } },
  }, async () => {
    const list = await deps.projections.status();
    const head = list.reduce((max, p) => (p.position + p.lag > max ? p.position + p.lag : max), 0n);
    return { ok: true as const, projections: list.map((p) => ({
      name: p.name, position: p.position.toString(), lag: Number(p.lag), state: p.state,
      rebuild: p.rebuild ? { rebuild_id: p.rebuild.owner, position: p.rebuild.position.toString(), lag: Number(head - p.rebuild.position) } : null,
    })) };
  });

  app.get('/admin/verify', {
    schema: {
      tags, security, summary: 'Run verify (every order stream against the invariants, read models against a rebuild) and list its findings',
      response: { 200: z.object({ ok: z.literal(true), ...verifyReport.shape }), ...errorResponses(401) },
    },
  }, async () => {
    const report = await (deps.verify ?? (() => verifyLog(deps.store)))();
    return { ok: true as const, ...report, findings: [...report.findings] };
  });

  app.get('/admin/chain', {
    schema: {
      tags, security, summary: 'The quote chain and its follower: head, finalized block, checkpoint, lag (null in manual mode)',
      response: { 200: z.object({ ok: z.literal(true), chain: chainStatus.nullable() }), ...errorResponses(401) },
    },
  }, async () => ({ ok: true as const, chain: (await deps.chainStatus?.()) ?? null }));

  app.post('/admin/projections/:name/rebuild', {
    schema: {
      tags, security, summary: 'Rebuild a read model beside the serving copy, then switch',
      params: z.object({ name: z.string().max(64) }), headers: commandHeaders,
      response: { 202: z.object({ ok: z.literal(true), rebuild_id: z.string() }), ...errorResponses(401, 404, 409) },
    },
  }, async (request, reply) => {
    const started = (await deps.projections.startRebuild(request.params.name)) ?? unknownProjection();
    return reply.code(202).send({ ok: true as const, rebuild_id: started.rebuildId });
  });
};

/** verify over the event log alone, for an app given no read DB to compare. */
export async function verifyLog(store: EventStore): Promise<VerifyView> {
  const report = await verifyLedger({ store, readDb: null });
  return { streams: report.streams, events: report.events, read_models: false, findings: report.findings };
}

function unknownProjection(): never {
  throw new ApiError('projection_not_found', 'no read model has that name');
}

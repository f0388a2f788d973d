import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errorMap.js';
import { errorResponses } from '../schemas/responses.js';
import type { RouteOptions } from './options.js';

const tags = ['service'];
const DEFAULT_MAX_READY_LAG = 1000n;

export const readyAnswer = z.object({
  ok: z.literal(true),
  head_position: z.string(),
  projections: z.array(z.object({ name: z.string(), lag: z.number().int(), state: z.string() })),
});

/** Ready: the store answers, its subscription is live, and every read model is running within the allowed lag. */
async function readiness(deps: AppDeps) {
  const unusable = deps.dependencyProblem?.() ?? null;
  if (unusable !== null) notReady(`a dependency is unusable: ${unusable}`);
  // Asked first: while the store is unreachable a head read would wait out its retries.
  if ((deps.store.health?.().subscriptionsReconnecting ?? 0) > 0) notReady('the event store subscription is reconnecting');
  const head = await deps.store.headPosition().catch(() => notReady('the event store does not answer'));
  const damage = deps.projections.readModelDamage?.() ?? null;
  if (damage !== null) notReady(`the read model database is ${damage}: rebuild it (POST /admin/projections/:name/rebuild)`, { read_model: damage });
  const projections = await deps.projections.status().catch(() => notReady('the read model database does not answer'));
  const maxLag = deps.maxReadyLag ?? DEFAULT_MAX_READY_LAG;
  const behind = projections.filter((p) => p.lag > maxLag || p.state === 'failed' || p.state === 'stopped');
  if (behind.length > 0) notReady(`read models not ready: ${behind.map((p) => p.name).join(', ')}`);
  return {
    ok: true as const,
    head_position: head.toString(),
    projections: projections.map((p) => ({ name: p.name, lag: Number(p.lag), state: p.state })),
  };
}

/** Liveness, readiness, metrics and the API description. */
export const serviceRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get('/health', {
    schema: { tags, summary: 'The process is up', response: { 200: z.object({ ok: z.literal(true), status: z.literal('up') }) } },
  }, async () => ({ ok: true as const, status: 'up' as const }));

  app.get('/ready', {
    schema: { tags, summary: 'The store is reachable and the read models are within lag', response: { 200: readyAnswer, ...errorResponses(503) } },
  }, async () => readiness(deps));

  app.get('/metrics', {
    schema: { tags, summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] },
  }, async (_request, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};

function notReady(message: string, extra: Record<string, unknown> = {}): never {
  throw new ApiError('not_ready', message, extra);
}

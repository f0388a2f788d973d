import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpLimits } from '../config.js';
import type { AppDeps } from './deps.js';
import { ApiError } from './errorMap.js';
import { frameworkErrorHandler, installErrorHandling } from './errorHandler.js';
import { installIdempotency } from './idempotency.js';
import { installRequestLog, loggerOptions, requestIdOf } from './logging.js';
import { registerDocs } from './openapi.js';
import { orderViewOf } from './present.js';
import { adminRoutes } from './routes/admin.js';
import { marketRoutes } from './routes/market.js';
import type { RouteOptions } from './routes/options.js';
import { orderRoutes } from './routes/orders.js';
import { serviceRoutes } from './routes/service.js';
import { PACKAGE_VERSION } from '../version.js';
import { registerWebApp } from './webApp.js';

/** Orders are a few hundred bytes; 64 KiB leaves room and keeps abusive bodies cheap to refuse. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The HTTP service, built from its dependencies and not listening: src/main.ts listens, tests
 * inject. Routes parse, call the ledger or a read model, and shape the answer; errors go to the
 * one handler in errorHandler.ts.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: loggerOptions(deps.logger),
    bodyLimit: BODY_LIMIT_BYTES,
    // X-Forwarded-For is honoured only when the socket's peer is a listed proxy, and read from the
    // right up to the first address that is not one: a client can neither pick its rate-limit key
    // by writing the header itself nor, connecting directly, pass for a proxy.
    trustProxy: deps.config.trustedProxies.length > 0 ? [...deps.config.trustedProxies] : false,
    ...serverLimits(deps.config.http),
    genReqId: requestIdOf,
    // One line per request, from installRequestLog, instead of fastify's two. Set on a log
    // controller: the top-level option is deprecated (FSTDEP023) and goes in fastify 6.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  const now = deps.now ?? (() => new Date());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installJsonParser(app);
  installErrorHandling(app, deps.metrics);
  installIdempotency(app, deps.idempotency, now);
  installRequestHooks(app, deps);
  installRequestLog(app);
  deps.metrics.bindSources({
    projectionLags: () => deps.projections.status(),
    backlog: async () => deps.readModels.backlog(now()),
    ordersByStatus: async () => deps.readModels.ordersByStatus(),
  });

  app.register(cors, {
    origin: deps.config.corsOrigins.length === 0 ? false : [...deps.config.corsOrigins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'If-Match', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'Idempotent-Replayed', 'Retry-After', 'X-Request-Id'],
    maxAge: 600,
    // A bare OPTIONS (no Origin) is not a preflight: let it reach the JSON 404 like any other
    // unknown request instead of the plugin's plain-text 400.
    strictPreflight: false,
  });
  const limit = deps.config.rateLimitPerMinute;
  if (limit > 0) {
    app.register(rateLimit, {
      global: false,
      // request.ip is the socket's address unless it is a LEDGER_TRUSTED_PROXIES proxy's.
      keyGenerator: (request: FastifyRequest) => request.ip,
      errorResponseBuilder: (_request, context) => new ApiError('rate_limited', `too many requests; retry in ${context.after}`),
    });
  }
  registerDocs(app, { host: deps.config.host, port: deps.config.port, version: PACKAGE_VERSION });
  const options: RouteOptions = {
    deps,
    view: orderViewOf(deps.ledger),
    now,
    rateLimit: limit > 0 ? { max: limit, timeWindow: 60_000 } : null,
  };
  app.register(orderRoutes, options);
  app.register(marketRoutes, options);
  app.register(adminRoutes, options);
  app.register(serviceRoutes, options);
  registerWebApp(app);
  return app;
}

/**
 * Slow clients: a socket that trickles its headers or body is cut off once the headers or the
 * whole request take too long (node answers 408 and closes), an idle keep-alive socket is closed,
 * and one socket serves a bounded number of requests. Node checks the header and request timeouts
 * on a timer, every connectionsCheckingInterval (30 s by default); a fraction of the shorter
 * timeout keeps the cut-off near the configured value.
 */
export function serverLimits(limits: HttpLimits) {
  const shorter = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Socket inactivity in both directions; it must outlast the longest request a handler serves
    // (an inline settlement drive), so its default is generous.
    connectionTimeout: limits.connectionTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(shorter / 4))) },
  };
}

/** JSON as fastify parses it (prototype poisoning refused), keeping the raw text for idempotency. */
function installJsonParser(app: FastifyInstance): void {
  app.decorateRequest('rawBody', null);
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    parse(request, body as string, done);
  });
}

function installRequestHooks(app: FastifyInstance, deps: AppDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const command = request.routeOptions.config.command;
    if (command !== undefined) deps.metrics.observeCommand(command, request.errorCode ?? 'ok', reply.elapsedTime / 1000);
  });
}

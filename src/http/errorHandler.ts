import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VersionConflict } from '../eventstore/types.js';
import { ApiError, toErrorReply } from './errorMap.js';
import type { LedgerMetrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code this request ended with, for the command latency metric. */
    errorCode: string | null;
  }
}

/**
 * The one error handler: every refusal leaves as `{ok: false, error, message}` with the status of
 * errorMap.ts. A 5xx carries no detail; the error itself goes to the log under the request id.
 */
export function installErrorHandling(app: FastifyInstance, metrics: LedgerMetrics): void {
  app.decorateRequest('errorCode', null);
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof VersionConflict) metrics.versionConflict();
    return sendError(error, request, reply);
  });
  app.setNotFoundHandler(() => {
    throw new ApiError('not_found');
  });
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers } = toErrorReply(error);
  request.errorCode = body.error;
  // Refusals are told by the one line per request (logging.ts), which carries their code; a 5xx
  // also logs the error itself, which never reaches the answer.
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (headers !== undefined) reply.headers(headers);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** For fastify's `frameworkErrors`: URL errors the router meets before any route or hook runs. */
export const frameworkErrorHandler = (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
  sendError(error, request, reply);
};

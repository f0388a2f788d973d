import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import pretty from 'pino-pretty';
import type { DestinationStream } from 'pino';
import type { LoggerSettings } from './deps.js';

/**
 * Log redaction. Request bodies and headers are never logged (fastify's request serializer keeps
 * method, url, host and address), so these paths are the second line: anything that does log an
 * object carrying a signature, a preimage or a token gets it censored.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-admin-key"]',
  'headers.authorization',
  'headers["x-admin-key"]',
  'authorization',
  'secret',
  'htlc_secret',
  'wallet_auth.signature',
  'body.secret',
  'body.htlc_secret',
  'body.wallet_auth.signature',
  '*.secret',
  '*.htlc_secret',
  '*.wallet_auth.signature',
  '*.authorization',
  'err.secret',
];

export function loggerOptions(settings: LoggerSettings | false): FastifyServerOptions['logger'] {
  if (settings === false) return false;
  return {
    level: settings.level,
    ...(settings.stream === undefined ? {} : { stream: settings.stream }),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A caller's X-Request-Id is kept when it looks like an id (it ends up in every event's metadata). */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * One line per request, written when the answer has gone: method, route, status, time taken and,
 * for a refusal, its error code. (fastify's own "incoming request" line is turned off in buildApp.)
 */
export function installRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const line = {
      req: { method: request.method, url: request.url },
      res: { statusCode: reply.statusCode },
      responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.errorCode === null ? {} : { code: request.errorCode }),
    };
    if (reply.statusCode >= 500) request.log.error(line, 'request completed');
    else request.log.info(line, 'request completed');
  });
}

/**
 * LOG_FORMAT=pretty: pino-pretty for a person at a terminal (one coloured line per entry, colour only
 * on a terminal and never with NO_COLOR); json (the default) writes pino's JSON lines to stdout.
 * Redaction happens in pino before either sees a line. Synchronous, so a shutdown line is never lost.
 */
export function logDestination(settings: { readonly logFormat: 'json' | 'pretty'; readonly noColor: boolean }, out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): DestinationStream | undefined {
  if (settings.logFormat === 'json') return undefined;
  return pretty({
    destination: out,
    sync: true,
    colorize: out.isTTY === true && !settings.noColor,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}

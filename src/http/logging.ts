import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
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

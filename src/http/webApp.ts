import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The web app (web/, built into dist/web by `npm run build`) served at `/`. Its pages load only
 * the ledger's own scripts and styles: the policy below forbids inline script and style, other
 * origins and framing, so an injected tag cannot run or read a trader's keys.
 */
export const WEB_CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** dist/web from the compiled code (dist/src/http) or from the sources (src/http) alike. */
export function defaultWebRoot(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  // From src/http the build is ../../dist/web; from dist/src/http it is ../../web (not the sources in web/).
  const candidates = [resolve(here, '../../dist/web'), resolve(here, '../../web')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

function securityHeaders(res: { setHeader(name: string, value: string): unknown }, path: string): void {
  res.setHeader('content-security-policy', WEB_CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  // Built assets carry a content hash in their name; the page itself must always be fresh.
  res.setHeader('cache-control', path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
}

export function registerWebApp(app: FastifyInstance, root: string | null = defaultWebRoot()): void {
  if (root === null) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The web app is not built: run `npm run build` (npm ci does it).\n'));
    return;
  }
  // Routes for the files that exist, not a catch-all: unknown paths keep the JSON 404.
  app.register(fastifyStatic, { root, prefix: '/', wildcard: false, decorateReply: false, cacheControl: false, setHeaders: securityHeaders });
}

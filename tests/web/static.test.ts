import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebApp, WEB_CONTENT_SECURITY_POLICY } from '../../src/http/webApp.js';
import { json, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

/** Static serving of the built web app at `/`, over real HTTP: its headers, and what it does not serve. */

describe('the web app at /', () => {
  const root = mkdtempSync(join(tmpdir(), 'otc-web-root-'));
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title><script type="module" src="/assets/app-1a2b.js"></script>');
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'export {};');
    app = Fastify();
    registerWebApp(app, root);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the page with a Content-Security-Policy that allows no inline script or style and no other origin', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(WEB_CONTENT_SECURITY_POLICY);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves content-hashed assets as immutable', async () => {
    const asset = await fetch(`${base}/assets/app-1a2b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('serves nothing outside its folder and no file that is not there', async () => {
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/package.json`)).status).toBe(404);
  });

  it('says plainly when the app is not built, instead of a 404', async () => {
    const bare = Fastify();
    registerWebApp(bare, null);
    const answer = await bare.inject({ method: 'GET', url: '/' });
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toContain('npm run build');
    await bare.close();
  });
});

describe('the ledger app with the web app registered', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await startHttpHarness();
  });
  afterAll(async () => h.close());

  it('keeps the JSON 404 for unknown paths and the API routes as they were', async () => {
    const unknown = await h.get('/no-such-page');
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown)).toMatchObject({ ok: false, error: 'not_found' });
    expect((await h.get('/health')).statusCode).toBe(200);
  });
});

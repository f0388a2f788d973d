import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWalletAuth } from '../../src/crypto/walletAuth.js';
import { statusOfCode } from '../../src/http/errorMap.js';
import { serversFor } from '../../src/http/openapi.js';
import { WORKED_CONFIRM, WORKED_PLACE, type WorkedSignature } from '../../src/http/schemas/examples.js';
import { ADMIN_TOKEN, cancelBody, confirmBody, json, matchBody, matchedSell, placeBody, placeSell, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

type Doc = { paths: Record<string, Record<string, Operation>>; components: Record<string, unknown>; info: { description: string }; servers: unknown[] };
type Media = { schema: object; examples?: Record<string, { value: unknown }> };
type Operation = { operationId?: string; responses: Record<string, { description: string; content?: Record<string, Media> }>; requestBody?: { content: Record<string, Media> } };

let h: HttpHarness;
let doc: Doc;
beforeAll(async () => {
  h = await startHttpHarness();
  doc = json(await h.get('/openapi.json')) as Doc;
});
afterAll(async () => {
  await h.close();
});

const operations = (): [string, Operation][] =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]));

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by swagger-parser, with servers', async () => {
    expect(doc).toMatchObject({ openapi: '3.1.0' });
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' }), expect.objectContaining({ url: `http://127.0.0.1:${h.config.port}` })]);
    expect(serversFor('0.0.0.0', 5580).map((s) => s.url)).toEqual(['/']);
    expect(serversFor('::1', 5580).map((s) => s.url)).toEqual(['/', 'http://[::1]:5580']);
    // The validator is real: a document it must refuse is refused.
    const broken = structuredClone(doc) as Doc;
    (broken.paths['/health']!['get']!.responses['200'] as { description?: string }).description = undefined;
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow(/description/);
  });

  it('gives every route an operationId, a described answer for each status, and examples', () => {
    const ids = new Set<string>();
    for (const [name, op] of operations()) {
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), `${name} repeats an operationId`).toBe(false);
      ids.add(op.operationId!);
      expect(op, `${name} has no entry in schemas/operations.ts`).not.toHaveProperty('x-undocumented');
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${name} ${status}`).not.toMatch(/^(Default Response)?$/);
        for (const media of Object.values(response.content ?? {})) expect(Object.keys(media.examples ?? {}).length, `${name} ${status} example`).toBeGreaterThan(0);
      }
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success.length, `${name} success answers`).toBeGreaterThan(0);
      for (const media of Object.values(op.requestBody?.content ?? {})) expect(media.examples, `${name} request example`).toBeDefined();
      for (const p of (op as { parameters?: { name: string; example?: unknown; schema?: { examples?: unknown[] } }[] }).parameters ?? []) {
        expect(p.example ?? p.schema?.examples?.[0], `${name} parameter ${p.name} example`).toBeDefined();
      }
    }
    expect(JSON.stringify(doc)).not.toContain('Default Response');
    // Complete on its own: no pointers to specification files that a clone of the project does not have.
    expect(JSON.stringify(doc)).not.toMatch(/api\.md|domain\.md|shared\/spec/);
  });

  it('has examples that match their own schemas, requests and answers alike', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    let checked = 0;
    for (const [name, op] of operations()) {
      const media = [
        ...Object.entries(op.requestBody?.content ?? {}).map(([type, m]) => [`${name} request ${type}`, m] as const),
        ...Object.entries(op.responses).flatMap(([status, r]) => Object.entries(r.content ?? {}).map(([type, m]) => [`${name} ${status} ${type}`, m] as const)),
      ];
      for (const [where, m] of media) {
        const validate = ajv.compile({ ...m.schema, components: doc.components });
        for (const [exampleName, example] of Object.entries(m.examples ?? {})) {
          expect(validate(example.value), `${where} ${exampleName}: ${JSON.stringify(validate.errors)}`).toBe(true);
          checked += 1;
        }
      }
    }
    for (const [name, op] of operations()) {
      for (const p of (op as { parameters?: { name: string; example?: unknown; schema: object }[] }).parameters ?? []) {
        const validate = ajv.compile(p.schema);
        if (p.example !== undefined) expect(validate(p.example), `${name} parameter ${p.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('lists each error code under the status errorMap.ts gives it', () => {
    for (const [name, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^[45]/.test(status)) continue;
        const codes = Object.keys(response.content?.['application/json']?.examples ?? {});
        expect(codes.length, `${name} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(statusOfCode(code), `${name} ${code}`).toBe(Number(status));
        for (const code of codes) expect(response.description).toContain(`\`${code}\``);
      }
    }
  });

  it('documents Retry-After, an integer of seconds, on every 429 answer (rate_limited, match_cooldown), and on no other error', () => {
    const match = doc.paths['/api/orders/{id}/match']!['post']!.responses['429'] as { headers?: Record<string, { schema: object; description: string }> };
    expect(Object.keys(match.headers ?? {})).toContain('retry-after');
    expect(match.headers!['retry-after']!.schema).toEqual({ type: 'integer', minimum: 1 });
    expect(match.headers!['retry-after']!.description).toMatch(/cool-down/);
    for (const [name, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const headers = Object.keys((response as { headers?: object }).headers ?? {});
        if (status === '429') expect(headers, `${name} 429`).toContain('retry-after');
        else if (/^[45]/.test(status)) expect(headers, `${name} ${status}`).not.toContain('retry-after');
      }
    }
  });

  it('documents every refusal the server really answers, on the route that answered it', async () => {
    const { orderId: openId } = await placeSell(h);
    const { orderId: matchedId } = await matchedSell(h);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const keyed = placeBody(h, h.buyer, { side: 'buy' });
    await h.post('/api/orders', keyed, { 'idempotency-key': 'openapi-doc-1' });
    const cases: [string, () => Promise<{ statusCode: number; body: string }>][] = [
      ['POST /api/orders', () => h.post('/api/orders', '{')],
      ['POST /api/orders', () => h.post('/api/orders', { side: 'sideways' })],
      ['POST /api/orders', () => h.post('/api/orders', { ...placeBody(h, h.seller), wallet_auth: undefined })],
      ['POST /api/orders', () => h.app.inject({ method: 'POST', url: '/api/orders', headers: { 'content-type': 'application/xml' }, payload: '<a/>' })],
      ['POST /api/orders', () => h.post('/api/orders', { ...keyed, ttl_seconds: 3600 }, { 'idempotency-key': 'openapi-doc-1' })],
      ['GET /api/orders', () => h.get('/api/orders?limit=x')],
      ['GET /api/orders', () => h.get('/api/orders?status=nope')],
      ['GET /api/orders/{id}', () => h.get('/api/orders/otc_zz')],
      ['GET /api/orders/{id}/history', () => h.get(`/api/orders/${openId}/history?at_version=0`)],
      ['GET /api/orders/{id}/history', () => h.get(`/api/orders/${openId}/history?at_version=99`)],
      ['POST /api/orders/{id}/match', () => h.post(`/api/orders/${openId}/match`, matchBody(h, h.seller, openId))],
      ['POST /api/orders/{id}/match', () => h.post('/api/orders/otc_00000000000000ff/match', matchBody(h, h.buyer, 'otc_00000000000000ff'))],
      ['POST /api/orders/{id}/match', () => h.post(`/api/orders/${matchedId}/match`, matchBody(h, h.stranger, matchedId))],
      ['POST /api/orders/{id}/confirm', () => h.post(`/api/orders/${matchedId}/confirm`, confirmBody(h, h.seller, matchedId, 'ab'.repeat(32)))],
      ['POST /api/orders/{id}/confirm', () => h.post(`/api/orders/${matchedId}/confirm`, { ...confirmBody(h, h.seller, matchedId, 'ab'.repeat(32)), secret: 'xyz' })],
      ['POST /api/orders/{id}/cancel', () => h.post(`/api/orders/${openId}/cancel`, cancelBody(h, h.stranger, openId))],
      ['POST /api/orders/{id}/cancel', () => h.post(`/api/orders/${openId}/cancel`, cancelBody(h, h.seller, openId), { 'if-match': '"99"' })],
      ['POST /api/orders/{id}/cancel', () => h.post(`/api/orders/${openId}/cancel`, cancelBody(h, h.seller, openId), { 'if-match': 'three' })],
      ['GET /api/orderbook', () => h.get('/api/orderbook?pair=RTC/DOGE')],
      ['GET /api/trades', () => h.get('/api/trades?before=nope')],
      ['GET /api/stats', () => h.get('/api/stats?min_position=-1')],
      ['POST /admin/reconcile', () => h.post('/admin/reconcile', {})],
      ['GET /admin/recovery', () => h.get('/admin/recovery', { authorization: 'Bearer wrong' })],
      ['POST /admin/orders/{id}/redrive', () => h.post(`/admin/orders/${openId}/redrive`, { operator: 'op', reason: 'test' }, admin)],
      ['POST /admin/orders/{id}/redrive', () => h.post(`/admin/orders/${openId}/redrive`, { operator: '', reason: 'test' }, admin)],
      ['POST /admin/projections/{name}/rebuild', () => h.post('/admin/projections/nope/rebuild', {}, admin)],
    ];
    const answered = new Set<string>();
    for (const [route, send] of cases) {
      const res = await send();
      const code = (JSON.parse(res.body) as { error: string }).error;
      answered.add(code);
      const [method = '', path = ''] = route.split(' ');
      const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(res.statusCode)];
      expect(response, `${route} answered ${res.statusCode} ${code}, which is not documented`).toBeDefined();
      expect(Object.keys(response?.content?.['application/json']?.examples ?? {}), `${route} ${res.statusCode}`).toContain(code);
    }
    // The cases reach the refusals they are meant to (a case answering something else is a broken case).
    for (const code of ['invalid_json', 'side_invalid', 'wallet_auth_required', 'unsupported_media_type', 'idempotency_key_reused', 'limit_must_be_integer',
      'status_invalid', 'order_not_found', 'at_version_invalid', 'version_not_found', 'self_match', 'order_not_open', 'secret_mismatch', 'secret_invalid_format',
      'not_maker', 'version_mismatch', 'if_match_invalid', 'pair_unsupported', 'before_invalid', 'min_position_invalid', 'unauthorized',
      'order_not_in_recovery', 'operator_required', 'projection_not_found']) {
      expect(answered, code).toContain(code);
    }
  });

  it('documents wallet auth with a worked example whose signature verifies', () => {
    const w = WORKED_PLACE;
    const verified = verifyWalletAuth({
      action: w.action, orderId: w.orderId, wallet: w.wallet, bound: w.bound,
      auth: { public_key: w.publicKeyHex, signature: w.signatureHex, timestamp: w.timestamp },
    }, w.timestamp * 1000);
    expect(verified).toBe(w.signatureHex);
    expect(w.message).toBe(`{"action":"create_order","amount_micro_rtc":100000000,"eth_address":"","htlc_hash":"","order_id":"create_order","pair":"RTC/USDC","price_per_rtc_nano_quote":100000000,"side":"sell","timestamp":1767225600,"ttl_seconds":604800,"wallet":"${w.wallet}"}`);
    // A signature over anything else does not verify: the example pins the exact bytes.
    expect(() => verifyWalletAuth({ action: w.action, orderId: w.orderId, wallet: w.wallet, bound: { ...w.bound, ttl_seconds: 3600 }, auth: { public_key: w.publicKeyHex, signature: w.signatureHex, timestamp: w.timestamp } }, w.timestamp * 1000)).toThrow(/does not verify/);
    const walletAuth = JSON.stringify(doc.components['schemas']);
    for (const needle of [w.message, w.signatureHex, w.publicKeyHex, w.wallet, w.seedHex]) {
      expect(doc.info.description).toContain(needle);
      expect(walletAuth).toContain(JSON.stringify(needle).slice(1, -1));
    }
    expect(doc.info.description).toContain('Idempotency-Key');
    const protocol = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const needle of [w.message, w.signatureHex, w.publicKeyHex, w.wallet, w.seedHex]) expect(protocol).toContain(needle);
  });

  it('documents a confirm, whose signature binds the preimage\'s sha256, in PROTOCOL.md and the confirm example', () => {
    const w: WorkedSignature = WORKED_CONFIRM;
    const auth = { public_key: w.publicKeyHex, signature: w.signatureHex, timestamp: w.timestamp };
    expect(verifyWalletAuth({ action: w.action, orderId: w.orderId, wallet: w.wallet, bound: w.bound, auth }, w.timestamp * 1000)).toBe(w.signatureHex);
    expect(w.bound['secret_sha256']).toBe(createHash('sha256').update(Buffer.from('7c'.repeat(32), 'hex')).digest('hex'));
    const protocol = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const needle of [w.message, w.signatureHex, String(w.bound['secret_sha256']), '7c'.repeat(32)]) expect(protocol).toContain(needle);
    const example = doc.paths['/api/orders/{id}/confirm']!['post']!.requestBody!.content['application/json']!.examples!['example']!.value;
    expect(example).toMatchObject({ secret: '7c'.repeat(32), wallet_auth: auth });
  });
});

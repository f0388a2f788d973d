import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { logDestination, REDACTED_PATHS } from '../../src/http/logging.js';
import { ADMIN_TOKEN, confirmBody, json, matchBody, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness({ captureLogs: true });
});
afterAll(async () => {
  await h.close();
});

describe('logs', () => {
  it('never contain the preimage, a signature or the admin token during a full trade', async () => {
    const placeReq = placeBody(h, h.seller);
    const placed = await h.post('/api/orders', placeReq, { 'idempotency-key': 'log-test-1' });
    const { order, htlc_secret: secret } = json(placed);
    const matchReq = matchBody(h, h.buyer, order.order_id);
    await h.post(`/api/orders/${order.order_id}/match`, matchReq);
    const bad = await h.post(`/api/orders/${order.order_id}/confirm`, confirmBody(h, h.seller, order.order_id, 'ab'.repeat(32)));
    expect(json(bad).error).toBe('secret_mismatch');
    const confirmReq = confirmBody(h, h.seller, order.order_id, secret);
    const settled = await h.post(`/api/orders/${order.order_id}/confirm`, confirmReq);
    expect(json(settled).order.htlc_secret).toBe(secret);
    await h.post('/api/orders', placeReq, { 'idempotency-key': 'log-test-1' });
    await h.get(`/api/orders/${order.order_id}`);
    await h.get('/admin/projections', { authorization: `Bearer ${ADMIN_TOKEN}` });
    await h.get('/admin/projections', { authorization: `Bearer ${ADMIN_TOKEN}x` });
    await h.post('/api/orders', '{"secret":"' + secret + '"');

    const text = h.logs.join('');
    expect(h.logs.length).toBeGreaterThanOrEqual(9);
    expect(text).toContain('request completed');
    const signatures = [placeReq, matchReq, confirmReq].map((b) => (b.wallet_auth as { signature: string }).signature);
    for (const needle of [secret, secret.toUpperCase(), ADMIN_TOKEN, ...signatures]) expect(text).not.toContain(needle);
  });
});

describe('request log lines', () => {
  it('writes exactly one line per request, carrying the status, the time and a refusal\'s code', async () => {
    h.logs.length = 0;
    await h.get('/health');
    await h.get('/api/orders/otc_zz');
    await h.post('/api/orders', { side: 'sideways' });
    const lines = h.logs.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l['msg'])).toEqual(['request completed', 'request completed', 'request completed']);
    expect(lines[0]).toMatchObject({ req: { method: 'GET', url: '/health' }, res: { statusCode: 200 }, responseTimeMs: expect.any(Number) });
    expect(lines[0]).not.toHaveProperty('code');
    expect(lines[1]).toMatchObject({ res: { statusCode: 404 }, code: 'order_not_found' });
    expect(lines[2]).toMatchObject({ req: { method: 'POST', url: '/api/orders' }, res: { statusCode: 400 }, code: 'side_invalid' });
    for (const line of lines) expect(line['reqId']).toEqual(expect.any(String));
  });
});

function sink(isTTY: boolean) {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => text };
}

describe('LOG_FORMAT', () => {
  it('pretty writes pino-pretty lines, redacted, coloured only on a terminal without NO_COLOR', () => {
    const plain = sink(false);
    const log = pino({ level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, logDestination({ logFormat: 'pretty', noColor: false }, plain.stream));
    log.info({ secret: 'ab'.repeat(32), order_id: 'otc_0000000000000001' }, 'otc-ledger listening');
    expect(plain.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: otc-ledger listening/);
    expect(plain.text()).toContain('{"secret":"[redacted]","order_id":"otc_0000000000000001"}');
    expect(plain.text()).not.toContain('ab'.repeat(32));
    expect(plain.text()).not.toContain('{"level"');
    expect(plain.text()).not.toContain('\u001b[');
    expect(plain.text().trim().split('\n')).toHaveLength(1);

    const terminal = sink(true);
    pino({ level: 'info' }, logDestination({ logFormat: 'pretty', noColor: false }, terminal.stream)).info('hello');
    expect(terminal.text()).toContain('\u001b[');
    const noColor = sink(true);
    pino({ level: 'info' }, logDestination({ logFormat: 'pretty', noColor: true }, noColor.stream)).info('hello');
    expect(noColor.text()).toContain('INFO: hello');
    expect(noColor.text()).not.toContain('\u001b[');
  });

  it('json is the default and writes pino\'s JSON; an unknown format stops start-up', () => {
    expect(loadConfig({}).logFormat).toBe('json');
    expect(logDestination({ logFormat: 'json', noColor: false })).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});

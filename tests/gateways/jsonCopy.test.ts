import { describe, expect, it } from 'vitest';
import { escrowJobTitle } from '../../src/gateways/node.js';
import { createRustchainGateway } from '../../src/gateways/rustchain.js';
import type { NodeTransport } from '../../src/gateways/transport.js';
import { jsonCopy, NOT_PLAIN } from '../../src/sandbox/jsonCopy.js';
import { createInProcessTransport, DEFAULT_SANDBOX_ADMIN_KEY, EMBEDDED_SANDBOX_BASE_URL, SandboxNode } from '../../src/sandbox/index.js';
import type { SandboxReply, SandboxRequest } from '../../src/sandbox/types.js';
import { BUYER, SELLER, expectOk, lockRequest } from './support.js';

/** What the client reads off a real wire. */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value) as string);

describe('jsonCopy: JSON.parse(JSON.stringify(x)) without the text', () => {
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
  it.each<[string, unknown]>([
    ['a string with a lone surrogate and escapes', 'a\ud800b"\\\n\u0000é😀'],
    ['-0 (prints as 0)', -0],
    ['NaN and infinities (print as null)', [NaN, Infinity, -Infinity]],
    ['numbers at the edges', [5e-324, 1.7976931348623157e308, 0.1 + 0.2, 2 ** 53 + 2, -1e-7]],
    ['undefined, functions and symbols in an object (dropped)', { a: undefined, b: () => 1, c: Symbol('x'), d: 1 }],
    ['undefined, functions and symbols in an array (null)', [undefined, () => 1, Symbol('x')]],
    ['a hole in an array (null)', sparse],
    ['integer-like keys (ordered first either way)', { b: 1, 2: 'two', a: { 10: 1, 1: 2 } }],
    ['a null-prototype object (a plain object after the trip)', nullProto],
    ['nested -0 and NaN', { x: [{ y: -0, z: NaN }] }],
    ['booleans, null, empty containers', [true, false, null, {}, []]],
    ['a top-level string', 'text'],
  ])('%s', (_, value) => {
    const copy = jsonCopy(value);
    expect(copy).not.toBe(NOT_PLAIN);
    expect(copy).toStrictEqual(roundTrip(value));
    expect(Object.is(copy, roundTrip(value))).toBe(typeof copy !== 'object' || copy === null);
  });

  it('gives a fresh value: nothing shared with the original', () => {
    const inner = { a: [1, 2] };
    const original = { inner, list: [inner] };
    const copy = jsonCopy(original) as typeof original;
    expect(copy.inner).not.toBe(inner);
    expect(copy.inner.a).not.toBe(inner.a);
    expect(copy.list[0]).not.toBe(copy.inner);
  });

  class Point {
    constructor(readonly x: number) {}
  }
  const deep: unknown[] = [];
  let cursor = deep;
  for (let i = 0; i < 100; i++) cursor.push((cursor = []));
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  it.each<[string, unknown]>([
    ['a Date (toJSON)', { at: new Date(0) }],
    ['a toJSON key', { toJSON: () => 1 }],
    ['a __proto__ key (an own property after JSON.parse)', JSON.parse('{"__proto__": {"x": 1}}')],
    ['a bigint (stringify throws)', { n: 1n }],
    ['a Map', new Map([[1, 2]])],
    ['a boxed string', [new String('s')]], // eslint-disable-line no-new-wrappers
    ['a class instance', new Point(1)],
    ['an array subclass', new (class extends Array {})()],
    ['top-level undefined (stringifies to nothing)', undefined],
    ['nesting past the depth bound', deep],
    ['a cycle', cyclic],
  ])('refuses %s (the caller takes the real round trip)', (_, value) => {
    expect(jsonCopy(value)).toBe(NOT_PLAIN);
  });
});

describe('every answer of the sandbox node, through jsonCopy and through JSON', () => {
  const FIXED_NOW_MS = Date.parse('2026-03-01T00:00:00Z');

  /** A node whose every answer is recorded, driven through each endpoint, refusal and fault. */
  async function recordedAnswers(): Promise<{ request: SandboxRequest; reply: SandboxReply }[]> {
    const node = new SandboxNode({ now: () => FIXED_NOW_MS });
    node.fund(SELLER, 10_000_000n);
    const answers: { request: SandboxRequest; reply: SandboxReply }[] = [];
    const handle = node.handle.bind(node);
    node.handle = async (request) => {
      const reply = await handle(request);
      answers.push({ request, reply });
      return reply;
    };
    const gateway = createRustchainGateway({ baseUrl: EMBEDDED_SANDBOX_BASE_URL, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 300, transport: createInProcessTransport(node) });
    const lock = expectOk(await gateway.lockEscrow(lockRequest({ amountMicroRtc: 2_500_000n })));
    const second = expectOk(await gateway.lockEscrow(lockRequest({ orderId: 'otc_0000000000000002', amountMicroRtc: 1_000_000n })));
    await gateway.findJobByTitle(escrowJobTitle('otc_0000000000000001', 'maker'));
    await gateway.findJobByTitle('OTC Escrow otc_missing maker');
    await gateway.claimJob(lock.jobId);
    await gateway.claimJob(lock.jobId);
    await gateway.deliverJob(lock.jobId, 'released by otc-ledger');
    await gateway.deliverJob(lock.jobId, 'again');
    await gateway.acceptJob(lock.jobId, SELLER);
    await gateway.acceptJob(lock.jobId, BUYER);
    await gateway.getJob(lock.jobId);
    await gateway.getJob('job_missing');
    await gateway.cancelJob(second.jobId, BUYER);
    await gateway.cancelJob(second.jobId, SELLER);
    await gateway.transfer({ key: 'otc_payout:otc_1', toWallet: BUYER, amountMicroRtc: 2_500_000n });
    await gateway.transfer({ key: 'otc_payout:otc_1', toWallet: BUYER, amountMicroRtc: 2_500_000n });
    await gateway.transfer({ key: 'otc_payout:otc_1', toWallet: BUYER, amountMicroRtc: 1_000_000n });
    await gateway.transfer({ key: 'otc_payout:otc_2', toWallet: BUYER, amountMicroRtc: 900_000_000n });
    await gateway.listPending(BUYER);
    await gateway.balance(SELLER);
    await gateway.lockEscrow(lockRequest({ orderId: 'otc_0000000000000003', amountMicroRtc: 900_000_000n }));
    for (const mode of ['error_500', 'reject_400'] as const) {
      node.injectFault('GET /wallet/balance', mode, 1);
      await gateway.balance(SELLER);
    }
    // Requests the gateway never sends, straight at the node: bad bodies, queries, routes, controls.
    const raw: SandboxRequest[] = [
      { method: 'POST', path: '/agent/jobs', body: '{not json' },
      { method: 'POST', path: '/agent/jobs', body: '{}' },
      { method: 'POST', path: '/agent/jobs', body: JSON.stringify({ poster_wallet: SELLER, title: 'x' }) },
      { method: 'GET', path: '/agent/jobs', query: { limit: 'x' } },
      { method: 'GET', path: '/agent/jobs', query: { status: 'completed', limit: '-1' } },
      { method: 'GET', path: '/agent/jobs', query: { status: 'nonsense' } },
      { method: 'POST', path: '/agent/jobs/job_missing/claim', body: '{}' },
      { method: 'POST', path: '/wallet/transfer', body: '{}' },
      { method: 'POST', path: '/wallet/transfer', headers: { 'x-admin-key': DEFAULT_SANDBOX_ADMIN_KEY }, body: '{}' },
      { method: 'GET', path: '/nowhere' },
      { method: 'GET', path: '/__sandbox/state' },
      { method: 'POST', path: '/__sandbox/fault', body: JSON.stringify({ endpoint: 'nope', mode: 'hang' }) },
      { method: 'POST', path: '/__sandbox/fault', body: JSON.stringify({ endpoint: 'GET /wallet/balance', mode: 'nope' }) },
    ];
    for (const request of raw) await node.handle(request);
    return answers;
  }

  it('gives the client the same value either way, for each answer', async () => {
    const answers = await recordedAnswers();
    expect(answers.length).toBeGreaterThan(35);
    const statuses = new Set(answers.map(({ reply }) => (typeof reply === 'string' ? reply : reply.status)));
    expect([...statuses].sort()).toEqual([200, 201, 400, 401, 403, 404, 409, 500].sort());
    for (const { request, reply } of answers) {
      if (typeof reply === 'string') continue;
      const copy = jsonCopy(reply.body);
      expect(copy, `${request.method} ${request.path}`).not.toBe(NOT_PLAIN);
      expect(copy, `${request.method} ${request.path}`).toStrictEqual(roundTrip(reply.body));
    }
  });

  it('hands the decoded answer over in-process, and the text for what it cannot copy', async () => {
    const node = new SandboxNode({ now: () => FIXED_NOW_MS });
    node.fund(SELLER, 10_000_000n);
    const transport: NodeTransport = createInProcessTransport(node);
    const request = { method: 'GET' as const, headers: {}, timeoutMs: 300 };
    const balance = await transport({ ...request, url: `${EMBEDDED_SANDBOX_BASE_URL}/wallet/balance?miner_id=${SELLER}` });
    const direct = await node.handle({ method: 'GET', path: '/wallet/balance', query: { miner_id: SELLER } });
    expect(balance).toStrictEqual({ status: 200, json: roundTrip((direct as { body: unknown }).body) });
    node.handle = async () => ({ status: 200, body: { at: new Date(0) } });
    expect(await transport({ ...request, url: `${EMBEDDED_SANDBOX_BASE_URL}/wallet/balance` })).toStrictEqual({ status: 200, body: '{"at":"1970-01-01T00:00:00.000Z"}' });
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { escrowJobTitle } from '../../src/gateways/node.js';
import { createRustchainGateway } from '../../src/gateways/rustchain.js';
import { createUndiciTransport, isLoopbackHost, NodeTransportError } from '../../src/gateways/transport.js';
import type { NodeTransport, NodeTransportRequest } from '../../src/gateways/transport.js';
import { createInProcessTransport, DEFAULT_SANDBOX_ADMIN_KEY, EMBEDDED_SANDBOX_BASE_URL, SandboxNode, startSandboxServer } from '../../src/sandbox/index.js';
import type { NodeGateway } from '../../src/gateways/node.js';
import { BUYER, SELLER, expectOk, lockRequest, startHarness } from './support.js';
import type { HttpHarness } from './support.js';

const ADMIN_KEY = 'super-secret-admin-key';

/** A transport that records what it was asked to send and never touches the network. */
function spyTransport(status = 200, body = '{"ok":true,"amount_i64":7}') {
  const calls: NodeTransportRequest[] = [];
  const transport: NodeTransport = async (request) => {
    calls.push(request);
    return { status, body };
  };
  return { transport, calls };
}

describe('transport rule: the admin key goes only over https or to loopback', () => {
  it.each(['http://10.255.255.1:8099', 'http://example.invalid', 'http://127.0.0.1.example.invalid', 'ftp://127.0.0.1'])(
    'refuses %s before any connection attempt, with an alert',
    async (baseUrl) => {
      const spy = spyTransport();
      const onAlert = vi.fn();
      const gateway = createRustchainGateway({ baseUrl, adminKey: ADMIN_KEY, timeoutMs: 300, transport: spy.transport, onAlert });
      const outcome = await gateway.transfer({ key: 'otc_payout:x', toWallet: BUYER, amountMicroRtc: 1n });
      expect(outcome).toEqual({ kind: 'rejected', reason: 'insecure_transport_refused', httpStatus: null });
      expect((await gateway.balance(SELLER)).kind).toBe('rejected');
      expect(spy.calls).toHaveLength(0);
      expect(onAlert).toHaveBeenCalledWith(expect.objectContaining({ code: 'insecure_transport_refused' }));
      expect(JSON.stringify(onAlert.mock.calls)).not.toContain(ADMIN_KEY);
    },
  );

  it.each(['http://127.0.0.1:8099', 'http://127.3.4.5', 'http://localhost:8099', 'http://[::1]:8099', 'https://node.example.invalid'])(
    'sends to %s, with the admin key on the transfer only',
    async (baseUrl) => {
      const spy = spyTransport();
      const gateway = createRustchainGateway({ baseUrl, adminKey: ADMIN_KEY, timeoutMs: 300, transport: spy.transport });
      expect(expectOk(await gateway.balance(SELLER))).toBe(7n);
      await gateway.transfer({ key: 'otc_payout:x', toWallet: BUYER, amountMicroRtc: 1n });
      expect(spy.calls).toHaveLength(2);
      expect(spy.calls[0]?.headers['x-admin-key']).toBeUndefined();
      expect(spy.calls[1]?.headers['x-admin-key']).toBe(ADMIN_KEY);
      expect(spy.calls[1]?.timeoutMs).toBe(300);
    },
  );

  it('sends over plain http to a remote host only when insecure transport is allowed', async () => {
    const spy = spyTransport();
    const gateway = createRustchainGateway({ baseUrl: 'http://10.255.255.1:8099', adminKey: ADMIN_KEY, timeoutMs: 300, transport: spy.transport, allowInsecure: true });
    expect(expectOk(await gateway.balance(SELLER))).toBe(7n);
    expect(spy.calls[0]?.url).toBe(`http://10.255.255.1:8099/wallet/balance?miner_id=${SELLER}`);
  });

  it('keeps the admin key out of rejection reasons even when the node echoes it', async () => {
    const spy = spyTransport(400, JSON.stringify({ error: `bad key ${ADMIN_KEY}` }));
    const gateway = createRustchainGateway({ baseUrl: 'http://127.0.0.1:1', adminKey: ADMIN_KEY, timeoutMs: 300, transport: spy.transport });
    const outcome = await gateway.transfer({ key: 'otc_payout:x', toWallet: BUYER, amountMicroRtc: 1n });
    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 400 });
    expect(JSON.stringify(outcome)).not.toContain(ADMIN_KEY);
  });

  it('classifies transport errors: never connected is rejected, sent then failed is unknown', async () => {
    const failing = (kind: 'never_connected' | 'sent_then_failed'): NodeTransport => async () => {
      throw new NodeTransportError(kind, 'X', 'boom');
    };
    const base = { baseUrl: 'http://127.0.0.1:1', adminKey: ADMIN_KEY, timeoutMs: 300 };
    expect((await createRustchainGateway({ ...base, transport: failing('never_connected') }).claimJob('j')).kind).toBe('rejected');
    expect((await createRustchainGateway({ ...base, transport: failing('sent_then_failed') }).claimJob('j')).kind).toBe('unknown');
  });

  it('recognises loopback hosts exactly', () => {
    expect(['localhost', '127.0.0.1', '127.255.0.9', '[::1]', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['128.0.0.1', '127.0.0.1.nip.io', 'localhost.example', '10.0.0.1', '[::2]', '127.0.0.256'].some(isLoopbackHost)).toBe(false);
  });
});

describe('request shapes: exactly the endpoints and bodies of rustchain-node.md', () => {
  it('sends each call to its endpoint with its body', async () => {
    const spy = spyTransport(200, '{}');
    const gateway = createRustchainGateway({ baseUrl: 'https://node.example.invalid/', adminKey: ADMIN_KEY, timeoutMs: 300, transport: spy.transport });
    await gateway.lockEscrow(lockRequest({ orderId: 'otc_42', party: 'taker', amountMicroRtc: 1_005_000n, ttlSeconds: 90_000 }));
    await gateway.claimJob('job_1');
    await gateway.deliverJob('job_1', 'released');
    await gateway.acceptJob('job_1', SELLER);
    await gateway.cancelJob('job_1', SELLER);
    await gateway.transfer({ key: 'otc_payout:otc_42', toWallet: BUYER, amountMicroRtc: 2_000_000n });
    await gateway.listPending(BUYER);
    const sent = spy.calls.map((c) => [c.method, c.url.replace('https://node.example.invalid', ''), c.body === undefined ? undefined : JSON.parse(c.body)]);
    expect(sent).toEqual([
      ['POST', '/agent/jobs', {
        poster_wallet: SELLER, title: 'OTC Escrow otc_42 taker', description: expect.stringMatching(/^.{20,}$/),
        category: 'other', reward_rtc: expect.closeTo(1.005, 9), ttl_seconds: 90_000, tags: ['otc_bridge', 'escrow'],
      }],
      ['POST', '/agent/jobs/job_1/claim', { worker_wallet: 'otc_bridge_worker' }],
      ['POST', '/agent/jobs/job_1/deliver', { worker_wallet: 'otc_bridge_worker', result_summary: 'released' }],
      ['POST', '/agent/jobs/job_1/accept', { poster_wallet: SELLER, rating: 5 }],
      ['POST', '/agent/jobs/job_1/cancel', { poster_wallet: SELLER }],
      ['POST', '/wallet/transfer', { from_miner: 'otc_bridge_worker', to_miner: BUYER, amount_rtc: 2, reason: 'otc_payout:otc_42', idempotency_key: 'otc_payout:otc_42' }],
      ['GET', `/pending/list?miner_id=${BUYER}&status=all&limit=500`, undefined],
    ]);
    // The lock's float is the one the node's int(x * 1e6) turns into exactly 1,005,000 µRTC.
    const lockBody = JSON.parse(spy.calls[0]?.body ?? '{}') as { reward_rtc: number };
    expect(Math.trunc(lockBody.reward_rtc * 1e6)).toBe(1_005_000);
  });

  it('refuses before sending a TTL the node would silently shorten, or an amount of zero', async () => {
    const spy = spyTransport();
    const gateway = createRustchainGateway({ baseUrl: 'http://127.0.0.1:1', adminKey: ADMIN_KEY, timeoutMs: 300, transport: spy.transport });
    expect(await gateway.lockEscrow(lockRequest({ ttlSeconds: 2_592_001 }))).toMatchObject({ kind: 'rejected', reason: 'ttl_seconds_out_of_range' });
    expect(await gateway.lockEscrow(lockRequest({ amountMicroRtc: 0n }))).toMatchObject({ kind: 'rejected', reason: 'amount_not_representable' });
    expect(spy.calls).toHaveLength(0);
  });

  it('reads an unparseable 2xx as unknown and a bare 404 (not the node\'s "Job not found") as rejected', async () => {
    const malformed = createRustchainGateway({ baseUrl: 'http://127.0.0.1:1', adminKey: ADMIN_KEY, timeoutMs: 300, transport: spyTransport(201, 'not json').transport });
    expect(await malformed.lockEscrow(lockRequest())).toEqual({ kind: 'unknown', reason: 'malformed_response: http_201' });
    const proxy404 = createRustchainGateway({ baseUrl: 'http://127.0.0.1:1', adminKey: ADMIN_KEY, timeoutMs: 300, transport: spyTransport(404, '<html>').transport });
    expect(await proxy404.getJob('job_1')).toMatchObject({ kind: 'rejected', httpStatus: 404 });
  });
});

describe('findJobByTitle is a bounded scan', () => {
  let h: HttpHarness;
  const LIST = 'GET /agent/jobs';
  beforeEach(async () => {
    h = await startHarness({ maxActiveJobsPerPoster: 100 }, { findPageSize: 10, findMaxPages: 3 });
    h.node.fund(SELLER, 1_000_000_000n);
    // 25 open jobs, rewards 1..25 RTC: the node lists the biggest reward first.
    for (let i = 1; i <= 25; i += 1) {
      expectOk(await h.gateway.lockEscrow(lockRequest({ orderId: `otc_${i}`, amountMicroRtc: BigInt(i) * 1_000_000n })));
    }
  });
  afterEach(async () => h.close());

  it('stops on the first page that holds the title', async () => {
    const before = h.node.requestCount(LIST);
    expect(expectOk(await h.gateway.findJobByTitle(escrowJobTitle('otc_25', 'maker')))?.rewardMicroRtc).toBe(25_000_000n);
    expect(h.node.requestCount(LIST) - before).toBe(1);
  });

  it('gives up as unknown (not "absent") when the page budget runs out before the scan ends', async () => {
    const before = h.node.requestCount(LIST);
    const outcome = await h.gateway.findJobByTitle('OTC Escrow otc_missing maker');
    expect(outcome).toEqual({ kind: 'unknown', reason: 'find_scan_bound_reached' });
    expect(h.node.requestCount(LIST) - before).toBe(3);
  });

  it('scans every status with a short page ending each, then answers absent', async () => {
    const roomy = createRustchainGateway({ baseUrl: h.server.url, adminKey: 'k', timeoutMs: 300, findPageSize: 10, findMaxPages: 20 });
    try {
      const before = h.node.requestCount(LIST);
      expect(await roomy.findJobByTitle('OTC Escrow otc_missing maker')).toEqual({ kind: 'ok', value: null });
      // open: 10 + 10 + 5 (short) = 3 pages; the six other statuses: one empty page each.
      expect(h.node.requestCount(LIST) - before).toBe(9);
    } finally {
      await roomy.close();
    }
  });
});

describe('in-process transport to an embedded sandbox', () => {
  const FIXED_NOW_MS = Date.parse('2026-03-01T00:00:00Z');

  async function script(gateway: NodeGateway): Promise<unknown[]> {
    const results: unknown[] = [];
    const lock = await gateway.lockEscrow(lockRequest({ amountMicroRtc: 2_500_000n }));
    results.push(lock);
    const jobId = expectOk(lock).jobId;
    results.push(await gateway.claimJob(jobId), await gateway.claimJob(jobId), await gateway.deliverJob(jobId, 'released by otc-ledger'));
    results.push(await gateway.acceptJob(jobId, SELLER), await gateway.getJob(jobId), await gateway.getJob('job_missing'));
    results.push(await gateway.transfer({ key: 'otc_payout:otc_1', toWallet: BUYER, amountMicroRtc: 2_500_000n }));
    results.push(await gateway.listPending(BUYER), await gateway.balance(SELLER), await gateway.findJobByTitle(escrowJobTitle('otc_0000000000000001', 'maker')));
    return results;
  }

  const fundedNode = (): SandboxNode => {
    const node = new SandboxNode({ now: () => FIXED_NOW_MS });
    node.fund(SELLER, 10_000_000n);
    return node;
  };

  it('gives the same outcomes as the same calls over HTTP', async () => {
    const server = await startSandboxServer({ node: fundedNode() });
    const overHttp = createRustchainGateway({ baseUrl: server.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 300 });
    const inProcessNode = fundedNode();
    const inProcess = createRustchainGateway({
      baseUrl: EMBEDDED_SANDBOX_BASE_URL,
      adminKey: DEFAULT_SANDBOX_ADMIN_KEY,
      timeoutMs: 300,
      transport: createInProcessTransport(inProcessNode),
    });
    try {
      const viaHttp = await script(overHttp);
      expect(await script(inProcess)).toEqual(viaHttp);
      expect(inProcessNode.snapshot()).toEqual(server.node.snapshot());
    } finally {
      await overHttp.close();
      await server.close();
    }
  });

  it('turns a hang into unknown after the timeout, and a drop into unknown', async () => {
    const node = fundedNode();
    const gateway = createRustchainGateway({ baseUrl: EMBEDDED_SANDBOX_BASE_URL, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 50, transport: createInProcessTransport(node) });
    node.injectFault('GET /wallet/balance', 'hang', 1);
    expect(await gateway.balance(SELLER)).toEqual({ kind: 'unknown', reason: 'sent_then_failed: timeout' });
    node.injectFault('GET /wallet/balance', 'drop_before_effect', 1);
    expect((await gateway.balance(SELLER)).kind).toBe('unknown');
    expect(expectOk(await gateway.balance(SELLER))).toBe(10_000_000n);
  });
});

describe('sandbox server close()', () => {
  it('releases hung requests instead of waiting for them', { timeout: 10_000 }, async () => {
    const server = await startSandboxServer();
    server.node.injectFault('GET /wallet/balance', 'hang', 1);
    const transport = createUndiciTransport();
    try {
      // The client would wait 30 s; the test's 10 s limit fails if close() does not cut it short.
      const pending = transport({ method: 'GET', url: `${server.url}/wallet/balance?miner_id=x`, headers: {}, timeoutMs: 30_000 });
      const settled = pending.then(
        () => 'answered',
        (error: unknown) => error,
      );
      await vi.waitFor(() => expect(server.node.requestCount('GET /wallet/balance')).toBe(1));
      await server.close();
      const failure = await settled;
      expect(failure).toBeInstanceOf(NodeTransportError);
      expect((failure as NodeTransportError).kind).toBe('sent_then_failed');
      expect((failure as NodeTransportError).code).not.toBe('timeout');
    } finally {
      await transport.close();
    }
  });

});

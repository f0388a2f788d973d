import { describe, expect, it } from 'vitest';
import { BRIDGE_WORKER_WALLET } from '../../src/gateways/node.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, ESCROW_WALLET, PLATFORM_FEE_WALLET, SandboxNode } from '../../src/sandbox/index.js';
import type { SandboxReply, SandboxRequest } from '../../src/sandbox/index.js';

const POSTER = 'poster_wallet_1';
const BUYER = 'buyer_wallet_1';
const START_MS = Date.parse('2026-03-01T00:00:00Z');

function clockedNode(options: ConstructorParameters<typeof SandboxNode>[0] = {}) {
  let nowMs = START_MS;
  const node = new SandboxNode({ now: () => nowMs, ...options });
  return { node, advance: (ms: number) => (nowMs += ms) };
}

async function call(node: SandboxNode, req: SandboxRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply: SandboxReply = await node.handle(req);
  if (reply === 'drop' || reply === 'hang') throw new Error(`unexpected ${reply}`);
  return reply as { status: number; body: Record<string, unknown> };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}): SandboxRequest => ({ method: 'POST', path, body, headers });
const get = (path: string, query: Record<string, string> = {}): SandboxRequest => ({ method: 'GET', path, query });

const jobBody = (overrides: Record<string, unknown> = {}) => ({
  poster_wallet: POSTER,
  title: 'OTC Escrow otc_1 maker',
  description: 'Escrow held by otc-ledger for an order.',
  category: 'other',
  reward_rtc: 10,
  ttl_seconds: 7200,
  tags: ['otc_bridge', 'escrow'],
  ...overrides,
});

const transferBody = (overrides: Record<string, unknown> = {}) => ({
  from_miner: BRIDGE_WORKER_WALLET,
  to_miner: BUYER,
  amount_rtc: 2,
  reason: 'otc_payout:otc_1',
  idempotency_key: 'otc_payout:otc_1',
  ...overrides,
});
const admin = { 'x-admin-key': DEFAULT_SANDBOX_ADMIN_KEY };

/** Everything ever minted is somewhere: escrow, fee wallet, posters, workers. */
const totalMicroRtc = (node: SandboxNode): bigint => [...node.ledger.balances.values()].reduce((a, b) => a + b, 0n);

describe('sandbox node: escrow jobs', () => {
  it('holds reward + fee in escrow and conserves money through a release', async () => {
    const { node } = clockedNode();
    node.fund(POSTER, 20_000_000n);
    const created = await call(node, post('/agent/jobs', jobBody()));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ok: true, status: 'open', escrow_total_rtc: 10.5, expires_at: START_MS / 1000 + 7200 });
    const jobId = String(created.body['job_id']);
    expect(node.balanceMicroRtc(ESCROW_WALLET)).toBe(10_500_000n);
    expect((await call(node, post(`/agent/jobs/${jobId}/claim`, { worker_wallet: BRIDGE_WORKER_WALLET }))).status).toBe(200);
    expect((await call(node, post(`/agent/jobs/${jobId}/deliver`, { worker_wallet: BRIDGE_WORKER_WALLET, result_summary: 'done' }))).status).toBe(200);
    expect((await call(node, post(`/agent/jobs/${jobId}/accept`, { poster_wallet: POSTER, rating: 5 }))).status).toBe(200);
    expect(node.balanceMicroRtc(ESCROW_WALLET)).toBe(0n);
    expect(node.balanceMicroRtc(BRIDGE_WORKER_WALLET)).toBe(10_000_000n);
    expect(node.balanceMicroRtc(PLATFORM_FEE_WALLET)).toBe(500_000n);
    expect(totalMicroRtc(node)).toBe(20_000_000n);
  });

  it('validates a post like the node: short description, bad category, reward bounds', async () => {
    const { node } = clockedNode();
    node.fund(POSTER, 100_000_000n);
    expect((await call(node, post('/agent/jobs', jobBody({ description: 'too short' })))).body['error']).toBe('description must be at least 20 characters');
    expect((await call(node, post('/agent/jobs', jobBody({ category: 'otc' })))).status).toBe(400);
    expect((await call(node, post('/agent/jobs', jobBody({ reward_rtc: 0.001 })))).body['error']).toBe('Minimum reward is 0.01 RTC');
    expect((await call(node, post('/agent/jobs', jobBody({ reward_rtc: 10_000.000001 })))).body['error']).toBe('Maximum reward is 10,000 RTC');
    expect((await call(node, { method: 'POST', path: '/agent/jobs', body: '{not json' })).body['error']).toBe('JSON body required');
    expect(node.jobs()).toHaveLength(0);
  });

  it('clamps ttl_seconds into 1 h .. 30 d like the node', async () => {
    const { node } = clockedNode();
    node.fund(POSTER, 100_000_000n);
    const long = await call(node, post('/agent/jobs', jobBody({ ttl_seconds: 90 * 86_400 })));
    expect(long.body['expires_at']).toBe(START_MS / 1000 + 30 * 86_400);
  });

  it('limits active jobs per poster with 429', async () => {
    const { node } = clockedNode({ maxActiveJobsPerPoster: 2 });
    node.fund(POSTER, 100_000_000n);
    for (const i of [1, 2]) expect((await call(node, post('/agent/jobs', jobBody({ title: `OTC Escrow otc_${i} maker` })))).status).toBe(201);
    expect((await call(node, post('/agent/jobs', jobBody({ title: 'OTC Escrow otc_3 maker' })))).status).toBe(429);
  });

  it('cancels a claimed job only once it is past its expiry, refunding reward + fee', async () => {
    const { node, advance } = clockedNode();
    node.fund(POSTER, 20_000_000n);
    const jobId = String((await call(node, post('/agent/jobs', jobBody()))).body['job_id']);
    await call(node, post(`/agent/jobs/${jobId}/claim`, { worker_wallet: BRIDGE_WORKER_WALLET }));
    const early = await call(node, post(`/agent/jobs/${jobId}/cancel`, { poster_wallet: POSTER }));
    expect(early).toEqual({ status: 409, body: { error: 'Can only cancel open or disputed jobs (current: claimed)' } });
    advance(7201 * 1000);
    expect((await call(node, post(`/agent/jobs/${jobId}/cancel`, { poster_wallet: POSTER }))).body['status']).toBe('cancelled');
    expect(node.balanceMicroRtc(POSTER)).toBe(20_000_000n);
  });

  it('expires an overdue open job (with refund) when it is claimed or listed', async () => {
    const { node, advance } = clockedNode();
    node.fund(POSTER, 20_000_000n);
    const jobId = String((await call(node, post('/agent/jobs', jobBody()))).body['job_id']);
    advance(7201 * 1000);
    expect(await call(node, post(`/agent/jobs/${jobId}/claim`, { worker_wallet: BRIDGE_WORKER_WALLET }))).toEqual({ status: 410, body: { error: 'Job has expired' } });
    expect(node.job(jobId)?.status).toBe('expired');
    expect(node.balanceMicroRtc(POSTER)).toBe(20_000_000n);
  });

  it('refuses wrong-state steps with the node wording', async () => {
    const { node } = clockedNode();
    node.fund(POSTER, 20_000_000n);
    const jobId = String((await call(node, post('/agent/jobs', jobBody()))).body['job_id']);
    expect((await call(node, post(`/agent/jobs/${jobId}/accept`, { poster_wallet: POSTER }))).body['error']).toBe("Job must be in 'delivered' status (current: open)");
    expect((await call(node, post(`/agent/jobs/${jobId}/deliver`, { worker_wallet: BRIDGE_WORKER_WALLET, result_summary: 'x' }))).status).toBe(409);
    expect((await call(node, post(`/agent/jobs/${jobId}/claim`, { worker_wallet: POSTER }))).body['error']).toBe('Cannot claim your own job');
    expect((await call(node, post('/agent/jobs/job_nope/claim', { worker_wallet: 'w' }))).status).toBe(404);
  });

  it('ends a job node-side through the controls, returning the escrow once', async () => {
    const { node } = clockedNode();
    node.fund(POSTER, 20_000_000n);
    const jobId = String((await call(node, post('/agent/jobs', jobBody()))).body['job_id']);
    expect((await call(node, post(`/__sandbox/cancel-job/${jobId}`, {}))).status).toBe(200);
    expect((await call(node, post(`/__sandbox/expire-job/${jobId}`, {}))).status).toBe(409);
    expect(node.job(jobId)?.status).toBe('cancelled');
    expect(node.balanceMicroRtc(POSTER)).toBe(20_000_000n);
  });
});

describe('sandbox node: transfers', () => {
  it('reserves a pending transfer against the available balance and moves money only on confirm', async () => {
    const { node } = clockedNode();
    node.fund(BRIDGE_WORKER_WALLET, 3_000_000n);
    expect((await call(node, post('/wallet/transfer', transferBody(), admin))).body['phase']).toBe('pending');
    expect(node.balanceMicroRtc(BRIDGE_WORKER_WALLET)).toBe(3_000_000n);
    const second = await call(node, post('/wallet/transfer', transferBody({ idempotency_key: 'k2', reason: 'k2' }), admin));
    expect(second).toMatchObject({ status: 400, body: { error: 'Insufficient available balance' } });
    const byKey = await call(node, post(`/__sandbox/transfers/key/${encodeURIComponent('otc_payout:otc_1')}/confirm`, {}));
    expect(byKey.body).toMatchObject({ phase: 'confirmed' });
    expect(node.balanceMicroRtc(BUYER)).toBe(2_000_000n);
    expect((await call(node, post('/__sandbox/transfers/1/void', {}))).status).toBe(409);
  });

  it('confirms on its own after the configured delay', async () => {
    const { node, advance } = clockedNode();
    node.fund(BRIDGE_WORKER_WALLET, 3_000_000n);
    expect((await call(node, post('/__sandbox/config', { auto_confirm: 60_000 }))).status).toBe(200);
    const queued = await call(node, post('/wallet/transfer', transferBody(), admin));
    expect(queued.body).toMatchObject({ phase: 'pending', confirms_at: START_MS / 1000 + 60 });
    advance(59_999);
    expect(node.transferByKey('otc_payout:otc_1')?.phase).toBe('pending');
    advance(1);
    expect((await call(node, post('/wallet/transfer', transferBody(), admin))).body['phase']).toBe('confirmed');
    expect(node.balanceMicroRtc(BUYER)).toBe(2_000_000n);
  });

  it('lists transfers touching a wallet, newest first, ignoring offset like the node', async () => {
    const { node } = clockedNode({ autoConfirm: 'immediate' });
    node.fund(BRIDGE_WORKER_WALLET, 10_000_000n);
    for (const key of ['a', 'b', 'c']) await call(node, post('/wallet/transfer', transferBody({ idempotency_key: key, reason: key }), admin));
    const first = await call(node, get('/pending/list', { miner_id: BUYER, status: 'all', limit: '2', offset: '0' }));
    const second = await call(node, get('/pending/list', { miner_id: BUYER, status: 'all', limit: '2', offset: '2' }));
    expect(second).toEqual(first);
    expect((first.body['pending'] as Array<{ reason: string }>).map((p) => p.reason)).toEqual(['c', 'b']);
    expect((await call(node, get('/pending/list', { miner_id: BUYER, status: 'pending' }))).body['pending']).toEqual([]);
  });

  it('requires the admin key', async () => {
    const { node } = clockedNode();
    node.fund(BRIDGE_WORKER_WALLET, 3_000_000n);
    expect((await call(node, post('/wallet/transfer', transferBody(), { 'x-admin-key': 'wrong' }))).status).toBe(401);
    expect((await call(node, post('/wallet/transfer', transferBody()))).status).toBe(401);
    expect(node.transfers()).toHaveLength(0);
  });
});

describe('sandbox node: controls and state', () => {
  it('counts requests per endpoint and per idempotency key, faulted ones included', async () => {
    const { node } = clockedNode();
    node.fund(BRIDGE_WORKER_WALLET, 3_000_000n);
    expect((await call(node, post('/__sandbox/faults', { endpoint: 'POST /wallet/transfer', mode: 'reject_400', count: 1 }))).status).toBe(200);
    expect((await call(node, post('/wallet/transfer', transferBody(), admin))).status).toBe(400);
    expect(node.transfers()).toHaveLength(0);
    expect((await call(node, post('/wallet/transfer', transferBody(), admin))).status).toBe(200);
    const state = (await call(node, get('/__sandbox/state'))).body as { request_counts: { endpoints: Record<string, number>; idempotency_keys: Record<string, number> } };
    expect(state.request_counts.endpoints['POST /wallet/transfer']).toBe(2);
    expect(state.request_counts.idempotency_keys['otc_payout:otc_1']).toBe(2);
  });

  it('answers drop and hang for network faults, applying the effect only for timeout_after_effect', async () => {
    const { node } = clockedNode();
    node.fund(BRIDGE_WORKER_WALLET, 3_000_000n);
    node.injectFault('POST /wallet/transfer', 'drop_before_effect', 1);
    expect(await node.handle(post('/wallet/transfer', transferBody(), admin))).toBe('drop');
    expect(node.transfers()).toHaveLength(0);
    node.injectFault('POST /wallet/transfer', 'timeout_after_effect', 1);
    expect(await node.handle(post('/wallet/transfer', transferBody(), admin))).toBe('hang');
    expect(node.transfers()).toHaveLength(1);
  });

  it('funds with exact decimals and refuses amounts it cannot read', async () => {
    const { node } = clockedNode();
    expect((await call(node, post('/__sandbox/fund', { wallet: POSTER, amount_rtc: '0.000001' }))).status).toBe(200);
    expect((await call(node, post('/__sandbox/fund', { wallet: POSTER, amount_rtc: -1 }))).status).toBe(400);
    expect(node.balanceMicroRtc(POSTER)).toBe(1n);
    const balance = await call(node, get('/wallet/balance', { miner_id: POSTER }));
    expect(balance.body).toEqual({ ok: true, miner_id: POSTER, amount_rtc: 0.000001, amount_i64: 1 });
  });
});

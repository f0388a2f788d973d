/**
 * The sandbox node keeps indexes (jobs by status, active jobs per poster, transfers per wallet, what
 * pending transfers reserve, the transfers still to confirm on their own) so no call walks the whole
 * history. These tests check the indexed answers against the same answers computed the slow way over
 * every job and transfer, after each step of a long mixed history, and the limit they enforce.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode } from '../../src/sandbox/index.js';
import type { SandboxJob, SandboxReply, SandboxRequest, SandboxTransfer } from '../../src/sandbox/index.js';
import type { JobStatus } from '../../src/gateways/node.js';

const START_MS = Date.parse('2026-03-01T00:00:00Z');
const POSTERS = ['poster_a', 'poster_b', 'poster_c'];
const WALLETS = [...POSTERS, 'buyer_a', 'buyer_b'];
const STATUSES: JobStatus[] = ['open', 'claimed', 'delivered', 'completed', 'disputed', 'expired', 'cancelled'];
const WORKER = 'worker_w';
const admin = { 'x-admin-key': DEFAULT_SANDBOX_ADMIN_KEY };

async function call(node: SandboxNode, req: SandboxRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply: SandboxReply = await node.handle(req);
  if (reply === 'drop' || reply === 'hang') throw new Error(`unexpected ${reply}`);
  return reply as { status: number; body: Record<string, unknown> };
}

/** A small deterministic PRNG (mulberry32), so a failure replays exactly. */
function prng(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const jobBody = (poster: string, rewardRtc: number, title: string, ttlSeconds = 3600) => ({
  poster_wallet: poster, title, description: 'Escrow held by otc-ledger for an order.', category: 'other', reward_rtc: rewardRtc, ttl_seconds: ttlSeconds,
});

// ---- the slow answers, over everything ----

const slowList = (jobs: readonly SandboxJob[], status: JobStatus): string[] =>
  jobs
    .filter((j) => j.status === status)
    .sort((a, b) => (a.rewardMicroRtc === b.rewardMicroRtc ? b.seq - a.seq : a.rewardMicroRtc > b.rewardMicroRtc ? -1 : 1))
    .map((j) => j.jobId);

const slowPending = (transfers: readonly SandboxTransfer[], wallet: string, status: string): number[] =>
  transfers
    .filter((t) => !wallet || t.fromWallet === wallet || t.toWallet === wallet)
    .filter((t) => status === 'all' || t.phase === status)
    .sort((a, b) => b.pendingId - a.pendingId)
    .map((t) => t.pendingId);

const slowAvailable = (node: SandboxNode, wallet: string): bigint =>
  node.ledger.balanceOf(wallet) -
  node.transfers().filter((t) => t.phase === 'pending' && t.fromWallet === wallet).reduce((sum, t) => sum + t.amountMicroRtc, 0n);

const slowActive = (jobs: readonly SandboxJob[], poster: string): number =>
  jobs.filter((j) => j.posterWallet === poster && ['open', 'claimed', 'delivered'].includes(j.status)).length;

async function expectIndexesAgree(node: SandboxNode): Promise<void> {
  for (const status of STATUSES) {
    const listed = await call(node, { method: 'GET', path: '/agent/jobs', query: { status, limit: '-1' } });
    const jobs = node.jobs() as SandboxJob[];
    expect((listed.body['jobs'] as Array<{ job_id: string }>).map((j) => j.job_id)).toEqual(slowList(jobs, status));
    expect(listed.body['total']).toBe(slowList(jobs, status).length);
  }
  for (const wallet of ['', ...WALLETS]) {
    for (const status of ['all', 'pending', 'confirmed', 'voided']) {
      const listed = await call(node, { method: 'GET', path: '/pending/list', query: { miner_id: wallet, status, limit: '500' } });
      expect((listed.body['pending'] as Array<{ id: number }>).map((t) => t.id)).toEqual(slowPending(node.transfers() as SandboxTransfer[], wallet, status));
    }
  }
  for (const wallet of WALLETS) expect(node.ledger.availableOf(wallet)).toBe(slowAvailable(node, wallet));
  for (const poster of POSTERS) expect(node.ledger.activeJobCount(poster)).toBe(slowActive(node.jobs() as SandboxJob[], poster));
}

describe('sandbox node indexes: the same answers as a walk over everything', () => {
  it('after every step of a long mixed history of jobs, transfers, confirms, voids and expiries', async () => {
    let nowMs = START_MS;
    const node = new SandboxNode({ now: () => nowMs, autoConfirm: 'off', maxActiveJobsPerPoster: 4 });
    for (const wallet of WALLETS) node.fund(wallet, 50_000_000n);
    const pick = prng(1234);
    const choose = <T,>(items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[pick(items.length)]);
    const inStatus = (status: JobStatus) => (node.jobs() as SandboxJob[]).filter((j) => j.status === status);
    const answers = new Map<number, number>();
    for (let step = 0; step < 300; step += 1) {
      const op = pick(10);
      if (op === 0 || op === 1) {
        const poster = choose(POSTERS) ?? 'poster_a';
        const reply = await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody(poster, 1 + pick(3), `job ${step}`) });
        answers.set(reply.status, (answers.get(reply.status) ?? 0) + 1);
      } else if (op === 2) {
        const job = choose(inStatus('open'));
        if (job) await call(node, { method: 'POST', path: `/agent/jobs/${job.jobId}/claim`, body: { worker_wallet: WORKER } });
      } else if (op === 3) {
        const job = choose(inStatus('claimed'));
        if (job) await call(node, { method: 'POST', path: `/agent/jobs/${job.jobId}/deliver`, body: { worker_wallet: WORKER, result_summary: 'done' } });
      } else if (op === 4) {
        const job = choose(inStatus('delivered'));
        if (job) await call(node, { method: 'POST', path: `/agent/jobs/${job.jobId}/accept`, body: { poster_wallet: job.posterWallet } });
      } else if (op === 5) {
        const job = choose(inStatus('open'));
        if (job) pick(2) === 0 ? node.expireJob(job.jobId) : await call(node, { method: 'POST', path: `/agent/jobs/${job.jobId}/cancel`, body: { poster_wallet: job.posterWallet } });
      } else if (op === 6) {
        node.setAutoConfirm(choose(['off', 'immediate', 1_000, 5_000] as const) ?? 'off');
        const from = choose(WALLETS) ?? 'buyer_a';
        const to = choose(WALLETS.filter((w) => w !== from)) ?? 'buyer_b';
        const body = { from_miner: from, to_miner: to, amount_rtc: 1 + pick(20), reason: 'r', idempotency_key: `k${pick(40)}` };
        const reply = await call(node, { method: 'POST', path: '/wallet/transfer', headers: admin, body });
        answers.set(reply.status, (answers.get(reply.status) ?? 0) + 1);
      } else if (op === 7) {
        const transfer = choose(node.transfers().filter((t) => t.phase === 'pending'));
        if (transfer) pick(2) === 0 ? node.confirmTransfer(transfer.pendingId) : node.voidTransfer(transfer.pendingId);
      } else {
        nowMs += pick(3) * 1_500 * (op === 9 ? 1_000 : 1);
      }
      await expectIndexesAgree(node);
    }
    // The history reached the refused paths too, not only the happy ones.
    expect(answers.get(201)).toBeGreaterThan(0);
    expect(answers.get(429)).toBeGreaterThan(0);
    expect(answers.get(200)).toBeGreaterThan(0);
    expect(answers.get(400) ?? 0).toBeGreaterThan(0);
    expect(new Set((node.jobs() as SandboxJob[]).map((j) => j.status)).size).toBeGreaterThanOrEqual(5);
  });
});

describe('sandbox node: the per-poster active-job limit from its index', () => {
  it('refuses a post beyond the limit, counts only open/claimed/delivered, and frees a slot on completion or cancel', async () => {
    const node = new SandboxNode({ autoConfirm: 'off', maxActiveJobsPerPoster: 2 });
    node.fund('poster_a', 100_000_000n);
    const first = await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_a', 1, 'first job') });
    const second = await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_a', 1, 'second job') });
    expect([first.status, second.status]).toEqual([201, 201]);
    const refused = await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_a', 1, 'third job') });
    expect(refused).toEqual({ status: 429, body: { error: 'Maximum 2 active jobs per agent', active_jobs: 2 } });
    expect(node.jobs()).toHaveLength(2);
    // Another poster is not held back by poster_a's jobs.
    node.fund('poster_b', 100_000_000n);
    expect((await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_b', 1, 'other poster') })).status).toBe(201);

    const id = String(first.body['job_id']);
    await call(node, { method: 'POST', path: `/agent/jobs/${id}/claim`, body: { worker_wallet: WORKER } });
    await call(node, { method: 'POST', path: `/agent/jobs/${id}/deliver`, body: { worker_wallet: WORKER, result_summary: 'done' } });
    expect(node.ledger.activeJobCount('poster_a')).toBe(2);
    await call(node, { method: 'POST', path: `/agent/jobs/${id}/accept`, body: { poster_wallet: 'poster_a' } });
    expect(node.ledger.activeJobCount('poster_a')).toBe(1);
    expect((await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_a', 1, 'after completion') })).status).toBe(201);
    await call(node, { method: 'POST', path: `/agent/jobs/${String(second.body['job_id'])}/cancel`, body: { poster_wallet: 'poster_a' } });
    expect((await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_a', 1, 'after cancel') })).status).toBe(201);
  });

  it('a refused post (no balance) changes no index', async () => {
    const node = new SandboxNode({ autoConfirm: 'off' });
    const refused = await call(node, { method: 'POST', path: '/agent/jobs', body: jobBody('poster_a', 1, 'no money') });
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toBe('Insufficient balance for escrow');
    expect(node.ledger.activeJobCount('poster_a')).toBe(0);
    expect(node.ledger.jobsInStatus('open')).toEqual([]);
  });
});

describe('sandbox node: transfers that confirm on their own', () => {
  it('confirm when their delay has passed, in pendingId order, and release what they reserved', async () => {
    let nowMs = START_MS;
    const node = new SandboxNode({ now: () => nowMs, autoConfirm: 2_000 });
    node.fund('payer', 10_000_000n);
    const send = (amountRtc: number, key: string) =>
      call(node, { method: 'POST', path: '/wallet/transfer', headers: admin, body: { from_miner: 'payer', to_miner: 'payee', amount_rtc: amountRtc, reason: 'r', idempotency_key: key } });
    expect((await send(6, 'k1')).body['phase']).toBe('pending');
    expect(node.ledger.availableOf('payer')).toBe(4_000_000n);
    const overdraw = await send(5, 'k2');
    expect(overdraw.status).toBe(400);
    expect(overdraw.body['error']).toBe('Insufficient available balance');
    nowMs += 1_999;
    expect(node.balanceMicroRtc('payee')).toBe(0n);
    nowMs += 1;
    expect(node.balanceMicroRtc('payee')).toBe(6_000_000n);
    expect(node.ledger.availableOf('payer')).toBe(4_000_000n);
    expect(node.transferByKey('k1')?.phase).toBe('confirmed');
    // A voided one never confirms later, and gives its reservation back.
    expect((await send(3, 'k3')).status).toBe(200);
    expect(node.voidTransfer(node.transferByKey('k3')?.pendingId ?? -1)).toBe(true);
    expect(node.ledger.availableOf('payer')).toBe(4_000_000n);
    nowMs += 10_000;
    expect(node.transferByKey('k3')?.phase).toBe('voided');
    expect(node.balanceMicroRtc('payee')).toBe(6_000_000n);
  });
});

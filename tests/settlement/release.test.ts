import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dueStep, type OrderEvent, type PlacedOrder, type StepMode } from '../../src/aggregates/order/index.js';
import { generateWallet } from '../../src/crypto/signer.js';
import { BRIDGE_WORKER_WALLET, type NodeGateway } from '../../src/gateways/node.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { runStep, type StepResult } from '../../src/settlement/steps.js';
import { postControl } from '../gateways/support.js';
import { escrowLocked, MAKER, ORDER_ID, SELL, settlementClaimed } from '../support/orderBuilders.js';
import { stateAfter } from '../support/orderFixtures.js';
import { matchedSell, NODE_TIMEOUT_MS, startSettlementHarness, trader, type SettlementHarness } from '../support/settlementHarness.js';

/**
 * The release step's node calls, over the sandbox node through real HTTP, recorded at the gateway.
 * An inline release (the claim just appended) starts from the stream: claim → deliver → accept with
 * no look-up, or deliver → accept when EscrowHeld says the ledger's worker holds the job. Resume
 * looks the job up first, as every release used to; so each failure case runs both ways, and the
 * inline run must record exactly what the look-up-first run records, and never accept.
 */
type Call = 'getJob' | 'claimJob' | 'deliverJob' | 'acceptJob';

/** The gateway, with the release's four calls written down in order (setup calls go around it). */
function recording(gateway: NodeGateway): { node: NodeGateway; calls: Call[] } {
  const calls: Call[] = [];
  const node: NodeGateway = {
    ...gateway,
    getJob: (jobId) => (calls.push('getJob'), gateway.getJob(jobId)),
    claimJob: (jobId) => (calls.push('claimJob'), gateway.claimJob(jobId)),
    deliverJob: (jobId, summary) => (calls.push('deliverJob'), gateway.deliverJob(jobId, summary)),
    acceptJob: (jobId, poster) => (calls.push('acceptJob'), gateway.acceptJob(jobId, poster)),
  };
  return { node, calls };
}

const JOB_TTL_SECONDS = 3600;
const clock = { nowMs: Date.parse('2026-01-10T12:00:00Z') };
let node: SandboxNode;
let sandbox: SandboxServer;
let gateway: RustchainGateway;

beforeEach(async () => {
  clock.nowMs = Date.parse('2026-01-10T12:00:00Z');
  node = new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1000, now: () => clock.nowMs });
  sandbox = await startSandboxServer({ node });
  gateway = createRustchainGateway({ baseUrl: sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: NODE_TIMEOUT_MS });
  node.fund(MAKER, 1_000_000_000_000n);
});

afterEach(async () => {
  await gateway.close();
  await sandbox.close();
});

/** A fresh escrow job at the node, posted by the sell order's maker for the order's amount. */
async function lockJob(): Promise<string> {
  const locked = await gateway.lockEscrow({ orderId: ORDER_ID, party: 'maker', posterWallet: MAKER, amountMicroRtc: 100_000_000n, ttlSeconds: JOB_TTL_SECONDS });
  if (locked.kind !== 'ok') throw new Error(`lock failed: ${locked.reason}`);
  return locked.value.jobId;
}

const escrowHeld = (jobId: string): OrderEvent => ({
  type: 'EscrowHeld', data: { job_id: jobId, worker_wallet: BRIDGE_WORKER_WALLET, expires_at: null, held_at: '2025-03-02T12:00:05.000Z' },
});

/** A settling sell order on `jobId`, as its stream folds: matched, maybe held by our worker, then claimed. */
function settlingOn(jobId: string, held: boolean): PlacedOrder {
  const [placed, , matched] = SELL.matched();
  const events = [placed!, escrowLocked('maker', { job_id: jobId }), matched!, ...(held ? [escrowHeld(jobId)] : []), settlementClaimed()];
  return stateAfter(...events) as PlacedOrder;
}

interface Released {
  readonly result: StepResult;
  readonly calls: Call[];
}

/** The release step run the way the driver runs it, in `mode`. */
async function release(jobId: string, mode: StepMode, held = false): Promise<Released> {
  const state = settlingOn(jobId, held);
  const step = dueStep(state, mode);
  expect(step?.kind).toBe('release');
  const recorder = recording(gateway);
  const result = await runStep({ node: recorder.node }, state, step!, mode, 0, new Date(clock.nowMs));
  return { result, calls: recorder.calls };
}

const released = (jobId: string) => [{ type: 'RecordEscrowReleased', jobId, now: new Date(clock.nowMs) }];

describe('an inline release starts from the stream', () => {
  it('an open job: claim, deliver, accept, and no look-up at all', async () => {
    const jobId = await lockJob();
    const looksBefore = node.requestCount('GET /agent/jobs/:id');
    const { result, calls } = await release(jobId, 'inline');
    // The look-up this drops is the one the stream already answers: any GET here is a call too many.
    expect(calls).toEqual(['claimJob', 'deliverJob', 'acceptJob']);
    expect(node.requestCount('GET /agent/jobs/:id')).toBe(looksBefore);
    expect(result).toEqual({ commands: released(jobId), outcome: 'ok', continue: true });
    expect(node.job(jobId)?.status).toBe('completed');
  });

  it('resume (a crash, a timeout, a re-drive since) still looks the job up first', async () => {
    const jobId = await lockJob();
    const { result, calls } = await release(jobId, 'resume');
    expect(calls).toEqual(['getJob', 'claimJob', 'deliverJob', 'acceptJob']);
    expect(result.commands).toEqual(released(jobId));
  });

  it('resume skips what an earlier attempt did: a job our worker already delivered is only accepted', async () => {
    const jobId = await lockJob();
    expect((await gateway.claimJob(jobId)).kind).toBe('ok');
    expect((await gateway.deliverJob(jobId, 'an earlier attempt')).kind).toBe('ok');
    const { result, calls } = await release(jobId, 'resume');
    expect(calls).toEqual(['getJob', 'acceptJob']);
    expect(result.commands).toEqual(released(jobId));
  });

  it('a job held by the ledger\'s worker (EscrowHeld): inline starts at deliver, resume looks first', async () => {
    const inlineJob = await lockJob();
    const resumedJob = await lockJob();
    for (const jobId of [inlineJob, resumedJob]) expect((await gateway.claimJob(jobId)).kind).toBe('ok');
    const inline = await release(inlineJob, 'inline', true);
    expect(inline.calls).toEqual(['deliverJob', 'acceptJob']);
    expect(inline.result.commands).toEqual(released(inlineJob));
    const resumed = await release(resumedJob, 'resume', true);
    expect(resumed.calls).toEqual(['getJob', 'deliverJob', 'acceptJob']);
    expect(resumed.result.commands).toEqual(released(resumedJob));
  });

  it('inline on a job an earlier attempt already claimed (a drive of an order already settling): the refused claim is looked up and the release goes on', async () => {
    const jobId = await lockJob();
    expect((await gateway.claimJob(jobId)).kind).toBe('ok');
    const { result, calls } = await release(jobId, 'inline');
    expect(calls).toEqual(['claimJob', 'getJob', 'deliverJob', 'acceptJob']);
    expect(result.commands).toEqual(released(jobId));
  });

  it('a lost claim is looked up and the release resumes from the job\'s status, released once', async () => {
    const jobId = await lockJob();
    node.injectFault('POST /agent/jobs/:id/claim', 'timeout_after_effect');
    const { result, calls } = await release(jobId, 'inline');
    expect(calls).toEqual(['claimJob', 'getJob', 'deliverJob', 'acceptJob']);
    expect(result.commands).toEqual(released(jobId));
    expect(node.requestCount('POST /agent/jobs/:id/accept')).toBe(1);
  });
});

describe('every failure of an inline release records what the look-up-first release records', () => {
  const other = generateWallet().wallet;
  const takenBy = (status: string) => `the escrow job JOB is ${status} by ${other}, not by the ledger's worker`;
  /** Each case: what happens at the node between the match and the confirm, and what the release must record. */
  const cases: { name: string; held?: boolean; before: (jobId: string) => Promise<void>; reason: string; detail: string; resumeCalls?: Call[] }[] = [
    {
      name: 'claimed by another worker',
      before: async (jobId) => void expect(await postControl(sandbox.url, `jobs/${jobId}/take-as`, { worker_wallet: other, deliver: false })).toBe(200),
      reason: 'escrow_hijacked', detail: takenBy('claimed'),
    },
    {
      name: 'claimed and delivered by another worker',
      before: async (jobId) => void expect(await postControl(sandbox.url, `jobs/${jobId}/take-as`, { worker_wallet: other, deliver: true })).toBe(200),
      reason: 'escrow_hijacked', detail: takenBy('delivered'),
    },
    {
      name: 'completed by another worker (the seller accepted it at the node)',
      before: async (jobId) => {
        expect(await postControl(sandbox.url, `jobs/${jobId}/take-as`, { worker_wallet: other, deliver: true })).toBe(200);
        expect((await gateway.acceptJob(jobId, MAKER)).kind).toBe('ok');
      },
      reason: 'escrow_hijacked', detail: takenBy('completed'),
    },
    {
      name: 'cancelled by the seller between the match and the confirm',
      before: async (jobId) => void expect((await gateway.cancelJob(jobId, MAKER)).kind).toBe('ok'),
      reason: 'escrow_job_cancelled', detail: 'the node shows the escrow job cancelled',
    },
    {
      name: 'expired at the node',
      before: async (jobId) => void expect(node.expireJob(jobId)).toBe(true),
      reason: 'escrow_job_expired', detail: 'the node shows the escrow job expired',
    },
    {
      // The node expires an open job only when it is claimed or listed: a look-up still shows it open.
      name: 'past its expiry while the node still shows it open',
      before: async () => void (clock.nowMs += (JOB_TTL_SECONDS + 60) * 1000),
      reason: 'escrow_job_expired', detail: 'the node shows the escrow job expired',
      resumeCalls: ['getJob', 'claimJob', 'getJob'],
    },
    {
      name: 'held by our worker, then cancelled by the seller past its expiry',
      held: true,
      before: async (jobId) => {
        expect((await gateway.claimJob(jobId)).kind).toBe('ok');
        clock.nowMs += (JOB_TTL_SECONDS + 60) * 1000;
        expect((await gateway.cancelJob(jobId, MAKER)).kind).toBe('ok');
      },
      reason: 'escrow_job_cancelled', detail: 'the node shows the escrow job cancelled',
    },
    {
      name: 'gone from the node (a job the node has no record of)',
      before: async () => undefined,
      reason: 'escrow_job_missing', detail: 'the node has no such job',
    },
  ];

  for (const c of cases) {
    it(`a job ${c.name}: parked with ${c.reason}, never accepted`, async () => {
      const outcomes: Record<string, Released> = {};
      for (const mode of ['resume', 'inline'] as const) {
        clock.nowMs = Date.parse('2026-01-10T12:00:00Z');
        const jobId = c.reason === 'escrow_job_missing' ? `job_${mode}_unknown` : await lockJob();
        await c.before(jobId);
        const ran = await release(jobId, mode, c.held ?? false);
        expect(ran.calls).not.toContain('acceptJob');
        expect(ran.result.commands).toEqual([{ type: 'RequireRecovery', reason: c.reason, detail: c.detail.replace('JOB', jobId) }]);
        outcomes[mode] = { result: { ...ran.result, commands: ran.result.commands.map((x) => ({ ...x, detail: 'per job' })) }, calls: ran.calls };
      }
      // The same recorded outcome either way (the job id in the detail aside): the look-up after the refusal decides.
      expect(outcomes['inline']!.result).toEqual(outcomes['resume']!.result);
      expect(outcomes['inline']!.calls).toEqual([c.held ? 'deliverJob' : 'claimJob', 'getJob']);
      expect(outcomes['resume']!.calls).toEqual(c.resumeCalls ?? ['getJob']);
    });
  }

  it('a refused claim on a job still open, nothing lost: the settlement reverts with the same reason either way', async () => {
    const results: StepResult[] = [];
    for (const mode of ['resume', 'inline'] as const) {
      const jobId = await lockJob();
      node.injectFault('POST /agent/jobs/:id/claim', 'reject_400');
      const ran = await release(jobId, mode);
      expect(ran.calls).toEqual(mode === 'inline' ? ['claimJob', 'getJob'] : ['getJob', 'claimJob', 'getJob']);
      expect(node.job(jobId)?.status).toBe('open');
      results.push(ran.result);
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[1]?.commands).toEqual([{ type: 'RevertSettlement', reason: expect.stringMatching(/^escrow release refused at claim: /) }]);
    expect(results[1]?.outcome).toBe('rejected');
  });

  it('a refused deliver on a held job: recovery (release_refused, part-way released) either way', async () => {
    const results: StepResult[] = [];
    for (const mode of ['resume', 'inline'] as const) {
      const jobId = await lockJob();
      expect((await gateway.claimJob(jobId)).kind).toBe('ok');
      node.injectFault('POST /agent/jobs/:id/deliver', 'reject_400');
      const ran = await release(jobId, mode, true);
      expect(ran.calls).toEqual(mode === 'inline' ? ['deliverJob', 'getJob'] : ['getJob', 'deliverJob', 'getJob']);
      results.push(ran.result);
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[1]?.commands).toEqual([
      { type: 'RequireRecovery', reason: 'release_refused', detail: expect.stringMatching(/^refused at deliver with the job already part-way released: /) },
    ]);
  });
});

describe('a confirm over HTTP makes no job look-up on its release', () => {
  let h: SettlementHarness;
  beforeEach(async () => {
    h = await startSettlementHarness();
  });
  afterEach(async () => h.close());

  it('claim, deliver, accept once each, no GET of the job, and the trade completes', async () => {
    const { orderId, secret } = await matchedSell(h);
    const count = (endpoint: string) => h.node.requestCount(endpoint);
    const before = ['GET /agent/jobs/:id', 'POST /agent/jobs/:id/claim', 'POST /agent/jobs/:id/deliver', 'POST /agent/jobs/:id/accept'].map(count);
    const done = await trader(h).confirm(h.seller, orderId, secret);
    expect(done.state.status).toBe('completed');
    const after = ['GET /agent/jobs/:id', 'POST /agent/jobs/:id/claim', 'POST /agent/jobs/:id/deliver', 'POST /agent/jobs/:id/accept'].map(count);
    expect(after.map((n, i) => n - before[i]!)).toEqual([0, 1, 1, 1]);
  });
});

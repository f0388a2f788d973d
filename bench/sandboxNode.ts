/**
 * The sandbox node's cost per trade as a run grows: one in-process SandboxNode driven through the
 * calls a complete trade makes on it (post the escrow job, claim, deliver, accept, the payout
 * transfer with an idempotency key, a balance read), back to back, for BENCH_SANDBOX_DURATION_MS
 * (default 20,000), in windows of BENCH_SANDBOX_WINDOW_MS (default 2,000). The figure that matters
 * is the ratio of the last window's rate to the first's, measured in the same run: a node whose
 * calls walk every job or transfer slows down as they pile up (ratio well below 1); an O(1) node
 * stays near 1 whatever the machine's load does to the absolute rate.
 *
 * BENCH_SANDBOX_AUTO_CONFIRM: 'immediate' (default, as in the trade benchmark) or a delay in ms,
 * so transfers wait in the queue and `confirmDue` has due work on each call.
 */
import { SandboxNode, DEFAULT_SANDBOX_ADMIN_KEY } from '../src/sandbox/sandboxNode.js';
import type { AutoConfirm, SandboxReply } from '../src/sandbox/types.js';
import type { Benchmark, Measurement } from './types.js';

const POSTERS = 256;
const POSTER_FUNDS_MICRO_RTC = 10n ** 15n;
const PAYOUT_SOURCE = 'bench_payout_source';

interface Settings {
  readonly durationMs: number;
  readonly windowMs: number;
  readonly autoConfirm: AutoConfirm;
}

function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const int = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value <= 0 || value > 600_000) throw new Error(`${name} must be a positive integer (at most 600000)`);
    return value;
  };
  const rawConfirm = env['BENCH_SANDBOX_AUTO_CONFIRM'] ?? 'immediate';
  const autoConfirm: AutoConfirm = rawConfirm === 'immediate' ? 'immediate' : Number(rawConfirm);
  if (autoConfirm !== 'immediate' && !(Number.isInteger(autoConfirm) && autoConfirm >= 0)) throw new Error('BENCH_SANDBOX_AUTO_CONFIRM: immediate or ms');
  return { durationMs: int('BENCH_SANDBOX_DURATION_MS', 20_000), windowMs: int('BENCH_SANDBOX_WINDOW_MS', 2_000), autoConfirm };
}

function expectStatus(reply: SandboxReply, status: number, what: string): Record<string, unknown> {
  if (typeof reply === 'string' || reply.status !== status) throw new Error(`${what}: ${JSON.stringify(reply)}`);
  return reply.body as Record<string, unknown>;
}

/** One trade's node calls, as the settlement driver makes them. */
async function trade(node: SandboxNode, seq: number): Promise<void> {
  const poster = `bench_poster_${seq % POSTERS}`;
  const posted = expectStatus(await node.handle({
    method: 'POST', path: '/agent/jobs',
    body: { poster_wallet: poster, title: `otc-escrow bench ${seq}`, description: 'Escrow held by the benchmark for one trade.', category: 'other', reward_rtc: 1.5, ttl_seconds: 7200 },
  }), 201, 'post');
  const path = `/agent/jobs/${String(posted['job_id'])}`;
  expectStatus(await node.handle({ method: 'POST', path: `${path}/claim`, body: { worker_wallet: 'bench_bridge_worker' } }), 200, 'claim');
  expectStatus(await node.handle({ method: 'POST', path: `${path}/deliver`, body: { worker_wallet: 'bench_bridge_worker', result_summary: 'released' } }), 200, 'deliver');
  expectStatus(await node.handle({ method: 'POST', path: `${path}/accept`, body: { poster_wallet: poster, rating: 5 } }), 200, 'accept');
  expectStatus(await node.handle({
    method: 'POST', path: '/wallet/transfer', headers: { 'x-admin-key': DEFAULT_SANDBOX_ADMIN_KEY },
    body: { from_miner: PAYOUT_SOURCE, to_miner: `bench_buyer_${seq % POSTERS}`, amount_rtc: 1.5, reason: 'otc payout', idempotency_key: `payout-${seq}` },
  }), 200, 'transfer');
  expectStatus(await node.handle({ method: 'GET', path: '/wallet/balance', query: { miner_id: poster } }), 200, 'balance');
}

export const sandboxNodeBenchmark: Benchmark = {
  name: 'sandbox-node',
  description: 'in-process sandbox node: a trade\'s node calls back to back, rate per window over a long run (decay = last/first)',
  async run() {
    const settings = settingsFromEnv(process.env);
    const node = new SandboxNode({ autoConfirm: settings.autoConfirm, maxActiveJobsPerPoster: 20 });
    for (let i = 0; i < POSTERS; i += 1) node.fund(`bench_poster_${i}`, POSTER_FUNDS_MICRO_RTC);
    node.fund(PAYOUT_SOURCE, POSTER_FUNDS_MICRO_RTC);
    const windows: Measurement[] = [];
    let seq = 0;
    const started = performance.now();
    while (performance.now() - started < settings.durationMs) {
      const windowStart = performance.now();
      const firstSeq = seq;
      while (performance.now() - windowStart < settings.windowMs) {
        await trade(node, seq);
        seq += 1;
      }
      const elapsedMs = performance.now() - windowStart;
      const ops = seq - firstSeq;
      windows.push({ label: `window ${windows.length + 1} (trades ${firstSeq}–${seq - 1}, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB)`, ops, elapsedMs, opsPerSec: ops / (elapsedMs / 1000) });
    }
    const first = windows[0];
    const last = windows[windows.length - 1];
    const best = Math.max(...windows.map((w) => w.opsPerSec));
    return {
      measurements: windows,
      notes: [
        `auto-confirm ${String(settings.autoConfirm)}; ${seq} trades (${seq * 6} node calls) over ${(performance.now() - started).toFixed(0)} ms; ${node.ledger.jobs.size} jobs, ${node.ledger.transfers.size} transfers held`,
        `decay: last window / first window = ${first && last ? (last.opsPerSec / first.opsPerSec).toFixed(3) : 'n/a'}; last / best = ${last ? (last.opsPerSec / best).toFixed(3) : 'n/a'} (1.0 = no decay)`,
      ],
    };
  },
};

/**
 * What a wallet signature check costs the event loop: `verifyWalletAuth` (Ed25519 on the loop) and
 * `verifyWalletAuthAsync` (the same checks, the verify on libuv's thread pool), over the same signed
 * requests from 64 wallets (keys parsed and weak-key-checked once, as in a server), alternating per
 * round. Reported per verification: the loop's busy time (performance.eventLoopUtilization), the
 * wall time with 64 in flight, and the process CPU. The ratio of loop time is the figure: what the
 * loop no longer spends is what it can spend on other requests.
 */
import { performance } from 'node:perf_hooks';
import { generateWallet } from '../src/crypto/signer.js';
import { verifyWalletAuth, verifyWalletAuthAsync, type SignedRequest } from '../src/crypto/walletAuth.js';
import type { Benchmark, Measurement } from './types.js';

const WALLETS = 64;
const IN_FLIGHT = 64;

function signedRequests(count: number, nowS: number): SignedRequest[] {
  const wallets = Array.from({ length: WALLETS }, () => generateWallet());
  return Array.from({ length: count }, (_, i) => {
    const w = wallets[i % WALLETS] ?? generateWallet();
    const orderId = `otc_${i.toString(16).padStart(16, '0')}`;
    return { action: 'cancel_order', orderId, wallet: w.wallet, bound: {}, auth: w.sign('cancel_order', orderId, {}, nowS) };
  });
}

interface Cost {
  readonly loopMs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function costOf(run: () => Promise<void>): Promise<Cost> {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { loopMs: performance.eventLoopUtilization(elu).active, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

export const walletAuthBenchmark: Benchmark = {
  name: 'wallet-auth',
  description: 'event-loop time per wallet signature check: Ed25519 on the loop vs on the thread pool (64 in flight)',
  async run(options) {
    const nowMs = Date.now();
    const requests = signedRequests(options.n, Math.floor(nowMs / 1000));
    // Warm-up: parse and check every key once, as a running server would have.
    for (const r of requests.slice(0, WALLETS * 2)) verifyWalletAuth(r, nowMs);
    const sync: Cost[] = [];
    const pooled: Cost[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const runSync = () => costOf(async () => {
        for (let i = 0; i < requests.length; i += IN_FLIGHT) {
          for (const r of requests.slice(i, i + IN_FLIGHT)) verifyWalletAuth(r, nowMs);
          await new Promise((resolve) => setImmediate(resolve));
        }
      });
      const runPooled = () => costOf(async () => {
        for (let i = 0; i < requests.length; i += IN_FLIGHT) await Promise.all(requests.slice(i, i + IN_FLIGHT).map((r) => verifyWalletAuthAsync(r, nowMs)));
      });
      if (round % 2 === 0) {
        sync.push(await runSync());
        pooled.push(await runPooled());
      } else {
        pooled.push(await runPooled());
        sync.push(await runSync());
      }
    }
    const n = requests.length;
    const median = (costs: Cost[], key: keyof Cost) => [...costs].map((c) => c[key]).sort((a, b) => a - b)[Math.floor(costs.length / 2)] ?? NaN;
    const row = (label: string, costs: Cost[]): Measurement => ({ label, ops: n, elapsedMs: median(costs, 'wallMs'), opsPerSec: n / (median(costs, 'wallMs') / 1000) });
    const perOp = (costs: Cost[]) => `loop ${((median(costs, 'loopMs') / n) * 1000).toFixed(1)} µs, CPU ${((median(costs, 'cpuMs') / n) * 1000).toFixed(1)} µs, wall ${((median(costs, 'wallMs') / n) * 1000).toFixed(1)} µs per verification`;
    return {
      measurements: [row('verifyWalletAuth (on the loop)', sync), row('verifyWalletAuthAsync (thread pool)', pooled)],
      notes: [
        `on the loop:     ${perOp(sync)}`,
        `thread pool:     ${perOp(pooled)}`,
        `loop time, pool / loop (median of ${options.rounds} alternating rounds) = ${(median(pooled, 'loopMs') / median(sync, 'loopMs')).toFixed(3)}`,
      ],
    };
  },
};

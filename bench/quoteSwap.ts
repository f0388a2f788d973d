/**
 * Time from the seller's on-chain claim to `PayoutQueued` in the sandbox (issue 11, "Measure"): a
 * ledger started in-process in sandbox mode (its anvil, its follower polling every second, the
 * embedded sandbox node), `--n` swaps (at most 200) matched and locked on the chain first, then
 * claimed: the first 10 one at a time (each waits for its payout), the rest in bursts of 20. For each swap the latency is the PayoutQueued event's recorded_at minus
 * the wall time the claim's receipt came back: the follower's poll interval, finality (1 block), the
 * observation, the release and the payout. p50 and p99 over all swaps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { expectOk, generateWalletKey, LedgerClient } from '../src/client/index.js';
import { loadConfig, loadQuoteChainConfig } from '../src/config.js';
import { createLogger, startLedger } from '../src/main.js';
import type { Benchmark } from './types.js';

const MAX_SWAPS = 200;
const CLAIM_BATCH = 20;
/** The first swaps are claimed one at a time (nothing else in flight), the rest in bursts of CLAIM_BATCH. */
const SINGLE_CLAIMS = 10;
const WAIT_LIMIT_MS = 60_000;

interface Swap {
  readonly orderId: string;
  readonly swapId: Hex;
  readonly preimage: Hex;
  claimedAtMs: number;
}

export const quoteSwapBenchmark: Benchmark = {
  name: 'quote-swap',
  description: 'sandbox atomic swaps: time from the on-chain claim to PayoutQueued (p50/p99), no confirm',
  async run(options) {
    const count = Math.min(options.n, MAX_SWAPS);
    const dir = mkdtempSync(join(options.tempDir, 'otc-bench-swap-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LEDGER_DATA_DIR: dir, LOG_LEVEL: 'silent', LEDGER_RATE_LIMIT_PER_MINUTE: '0', LEDGER_RECONCILE_INTERVAL_MS: '0' });
    const ledger = await startLedger(config, createLogger(config), { quoteChain: loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'sandbox' }) });
    try {
      const chain = ledger.quoteChain?.sandbox;
      if (!chain) throw new Error('the ledger started no sandbox chain');
      const client = new LedgerClient({ baseUrl: ledger.url });
      const sellerQuote = privateKeyToAccount(generatePrivateKey()).address;
      const buyerQuote = privateKeyToAccount(generatePrivateKey()).address;
      const swaps: Swap[] = [];
      for (let i = 0; i < count; i += 1) swaps.push(await lockedSwap(client, chain, sellerQuote, buyerQuote));
      // Every lock verified before any claim, so each claim's latency is the claim's alone.
      for (const swap of swaps) await poll(async () => expectOk(await client.getOrder(swap.orderId)).order.quote_leg?.status === 'locked', `the lock of ${swap.orderId}`);
      const started = performance.now();
      const single = swaps.slice(0, SINGLE_CLAIMS);
      const burst = swaps.slice(SINGLE_CLAIMS);
      for (const swap of single) await claimAll(chain, client, sellerQuote, [swap]);
      for (let i = 0; i < burst.length; i += CLAIM_BATCH) await claimAll(chain, client, sellerQuote, burst.slice(i, i + CLAIM_BATCH));
      const elapsedMs = performance.now() - started;
      const latency = async (s: Swap) => (await payoutQueuedAtMs(client, s.orderId)) - s.claimedAtMs;
      const summary = async (label: string, of: Swap[]) => {
        if (of.length === 0) return `${label}: none`;
        const sorted = (await Promise.all(of.map(latency))).sort((x, y) => x - y);
        const pct = (p: number) => (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN).toFixed(0);
        return `${label}: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms over ${of.length} swaps`;
      };
      return {
        measurements: [{ label: `${count} swaps claimed (swaps/s)`, ops: count, elapsedMs, opsPerSec: (count * 1000) / elapsedMs }],
        notes: [
          await summary('claim → PayoutQueued, all', swaps),
          await summary('  one claim at a time', single),
          await summary(`  claims in bursts of ${CLAIM_BATCH}`, burst),
          'the follower polls every 1,000 ms (src/quoteChainFromConfig.ts): a lone claim waits for its next pass',
        ],
      };
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

type Chain = NonNullable<NonNullable<Awaited<ReturnType<typeof startLedger>>['quoteChain']>['sandbox']>;

/** Place, match and lock one 10 RTC sell at 0.1 USDC on the chain. */
async function lockedSwap(client: LedgerClient, chain: Chain, sellerQuote: Address, buyerQuote: Address): Promise<Swap> {
  const [seller, buyer] = [generateWalletKey(), generateWalletKey()];
  expectOk(await client.sandbox.fund(seller.wallet, '100'));
  const placed = expectOk(await client.placeOrder(seller, { side: 'sell', amountRtc: '10', pricePerRtc: '0.1', ethAddress: sellerQuote }));
  const orderId = placed.order.order_id;
  const matched = expectOk(await client.matchOrder(buyer, orderId, { ethAddress: buyerQuote }));
  const leg = matched.order.quote_leg;
  const min = BigInt(Date.parse(leg?.timelock_min ?? '') / 1000);
  const max = BigInt(Date.parse(leg?.timelock_max ?? '') / 1000);
  await chain.fundUsdc(buyerQuote, 1_000_000n);
  const locked = await chain.lockUsdc({ buyer: buyerQuote, seller: sellerQuote, hashlock: `0x${placed.order.htlc_hash ?? ''}`, timelock: (min + max) / 2n, orderId, amount: 1_000_000n });
  return { orderId, swapId: locked.swapId, preimage: `0x${placed.htlc_secret ?? ''}`, claimedAtMs: 0 };
}

/** Claims each swap on chain (noting when its receipt came back), then waits for every payout. */
async function claimAll(chain: Chain, client: LedgerClient, sellerQuote: Address, batch: Swap[]): Promise<void> {
  for (const swap of batch) {
    await chain.claim(sellerQuote, swap.swapId, swap.preimage);
    swap.claimedAtMs = Date.now();
  }
  for (const swap of batch) await waitForPayout(client, swap.orderId);
}

const waitForPayout = (client: LedgerClient, orderId: string) =>
  poll(async () => expectOk(await client.getOrder(orderId)).order.payout.key !== null, `the payout of ${orderId}`);

async function payoutQueuedAtMs(client: LedgerClient, orderId: string): Promise<number> {
  const queued = expectOk(await client.history(orderId)).events.find((e) => e.type === 'PayoutQueued');
  if (!queued) throw new Error(`${orderId} has no PayoutQueued`);
  return Date.parse(queued.recorded_at);
}

async function poll(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_LIMIT_MS} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

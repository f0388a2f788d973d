/**
 * The chain follower's cost per 10,000 blocks of logs: a sandbox chain (anvil) with 2,000 blocks
 * holding `--n` USDC locks (at most 100; each verified: getSwap twice, its block, its Transfer logs),
 * read from scratch by a fresh follower per round in 2,000-block ranges, every order known to the
 * directory, and scaled to 10,000 blocks. Only 2,000 blocks, because anvil mines empty blocks slowly
 * and keeps the state of old blocks for a limited depth (getSwap at an old lock block then fails).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { bytesToHex, sha256 } from 'viem';
import type { Address } from 'viem';
import { randomBytes } from 'node:crypto';
import { createChainFollower } from '../src/chain/follower.js';
import type { ExpectedLock } from '../src/chain/verifyLock.js';
import { createEvmQuoteChain } from '../src/gateways/quoteChainEvm.js';
import { startSandboxChain } from '../src/sandbox/chain.js';
import { createMemoryLeases } from '../src/settlement/leases.js';
import { measure, median, type Benchmark, type Measurement } from './types.js';

const BLOCKS = 2_000n;
const MAX_LOCKS = 100;

export const quoteFollowerBenchmark: Benchmark = {
  name: 'quote-follower',
  description: 'chain follower catching up over 2,000 anvil blocks with N verified USDC locks, per 10,000 blocks',
  async run(options) {
    const locks = Math.min(options.n, MAX_LOCKS);
    const chain = await startSandboxChain();
    const dir = mkdtempSync(join(options.tempDir, 'otc-bench-follower-'));
    try {
      const [, buyer, seller] = chain.devAddresses as [Address, Address, Address];
      const orders = new Map<string, ExpectedLock>();
      const byHash = new Map<string, string>();
      await chain.fundUsdc(buyer, BigInt(locks) * 1_000_000n);
      for (let i = 0; i < locks; i += 1) {
        const orderId = `otc_${randomBytes(8).toString('hex')}`;
        const hashlock = sha256(bytesToHex(randomBytes(32)));
        const timelock = (await chain.latestBlock()).timestamp + 7200n;
        await chain.lockUsdc({ buyer, seller, hashlock, timelock, orderId, amount: 1_000_000n });
        orders.set(orderId, {
          orderId, htlcHash: hashlock, sellerQuoteAddress: seller, buyerQuoteAddress: buyer, htlcAddress: chain.htlcAddress, asset: 'usdc',
          token: chain.usdcAddress, totalQuoteNano: 1_000_000_000n, lockBySeconds: 10n ** 12n, timelockMinSeconds: 3600n, timelockMaxSeconds: 14_400n, latestTimelockSeconds: null,
        });
        byHash.set(hashlock, orderId);
        await chain.mine(Math.floor(Number(BLOCKS) / locks) - 2);
      }
      for (let head = (await chain.latestBlock()).number; head < BLOCKS; head = (await chain.latestBlock()).number) {
        await chain.mine(Math.min(500, Number(BLOCKS - head)));
      }
      const blocks = Number((await chain.latestBlock()).number - chain.settings.startBlock + 1n);
      const runs: Measurement[] = [];
      for (let round = 0; round < options.rounds; round += 1) {
        const db = new Database(join(dir, `follower-${round}.db`));
        let delivered = 0;
        const follower = createChainFollower({
          chain: createEvmQuoteChain({ rpcUrl: chain.rpcUrl, htlcAddress: chain.htlcAddress, finality: chain.settings.finality, registry: new Registry() }),
          chainId: chain.chainId, db, leases: createMemoryLeases(), owner: 'bench', registry: new Registry(),
          startBlock: chain.settings.startBlock, maxRangesPerPass: 1000,
          directory: { expectedLock: async (id) => orders.get(id) ?? null, orderByHashlock: async (h) => byHash.get(h) ?? null },
          sink: { onObservation: () => void (delivered += 1) },
        });
        runs.push(await measure(`follow ${blocks} blocks, ${locks} locks (blocks/s)`, blocks, async () => {
          const report = await follower.pollOnce();
          if (report.outcome !== 'advanced' || delivered !== locks) throw new Error(`follower ${report.outcome} (${report.reason ?? ""}): ${delivered}/${locks} delivered`);
        }));
        db.close();
      }
      const best = median(runs);
      return { measurements: [best], notes: [`${(best.elapsedMs * 10_000 / blocks).toFixed(0)} ms per 10,000 blocks with ${locks} locks`] };
    } finally {
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

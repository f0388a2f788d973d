/**
 * The quote chain from configuration (quote-chain.md, "Modes"): `manual` reads no chain; `sandbox`
 * starts anvil with the project's HTLC and a test USDC (loudly); `evm` reads the configured chain.
 * Either chain mode is checked before anything is read (chain id, contract code hash, token
 * decimals) and refused at start when it does not match.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Address, Hash } from 'viem';
import type { LedgerDeps } from './app/deps.js';
import { createObservationSink, createOrderDirectory } from './app/observeQuoteChain.js';
import type { QuoteLegDeps } from './app/quoteLeg.js';
import { createFinalLookUp, type FinalLookUp } from './app/finalLookUp.js';
import { createChainFollower, type ChainFollower } from './chain/follower.js';
import { checkQuoteChainAtStart } from './chain/startCheck.js';
import type { QuoteChainConfig } from './config.js';
import type { BlockRef, Finality } from './gateways/quoteChain.js';
import { createEvmQuoteChain } from './gateways/quoteChainEvm.js';
import { startSandboxChain, type SandboxChain } from './sandbox/chain.js';
import type { Leases } from './settlement/leases.js';

export interface QuoteChainRuntime {
  readonly quoteLeg: QuoteLegDeps;
  readonly sandbox: SandboxChain | null;
  /** Starts the follower for the ledger built with `quoteLeg`; the returned stop is awaited at shutdown. */
  startFollower(deps: LedgerDeps & { quoteLeg: QuoteLegDeps }, orderByHtlcHash: (hash: string) => Promise<string | null>): ChainFollower;
  /** The final look-up for one order at the last finalized block the follower processed (chain time as a command input). */
  finalLookUp(deps: Pick<LedgerDeps, 'store'>): FinalLookUp;
  stop(): Promise<void>;
}

/** How often the follower reads the chain. */
const FOLLOW_INTERVAL_MS = 1_000;

interface ChainSettings {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly htlcAddress: Address;
  readonly htlcCodeHash: Hash;
  readonly usdcToken: Address | null;
  readonly finality: Finality;
  readonly startBlock: bigint;
}

async function settingsFor(qc: QuoteChainConfig, log: Logger): Promise<{ settings: ChainSettings; sandbox: SandboxChain | null }> {
  if (qc.mode === 'sandbox') {
    const sandbox = await startSandboxChain({ log });
    return { sandbox, settings: { ...sandbox.settings, finality: qc.sandboxFinality } };
  }
  const evm = qc.evm;
  if (evm === null) throw new Error('LEDGER_QUOTE_CHAIN=evm without its settings');
  return {
    sandbox: null,
    settings: {
      rpcUrl: evm.rpcUrl, chainId: evm.chainId, htlcAddress: evm.htlcContract as Address, htlcCodeHash: evm.htlcCodeHash as Hash,
      usdcToken: evm.usdcToken as Address | null, finality: evm.finality,
      // No start block is configured yet: a fresh evm follower reads from block 0 (docs/QUOTE-CHAIN.md).
      startBlock: 0n,
    },
  };
}

/** Null in manual mode; otherwise a checked chain, ready for its follower. */
export async function quoteChainFromConfig(
  qc: QuoteChainConfig, env: { dataDir: string; registry: Registry; leases: Leases; log: Logger },
): Promise<QuoteChainRuntime | null> {
  if (qc.mode === 'manual') return null;
  const { settings, sandbox } = await settingsFor(qc, env.log);
  const stops: Array<() => Promise<void>> = [];
  if (sandbox) stops.push(() => sandbox.stop());
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const chain = createEvmQuoteChain({ rpcUrl: settings.rpcUrl, htlcAddress: settings.htlcAddress, finality: settings.finality, registry: env.registry });
    const checked = await checkQuoteChainAtStart(chain, {
      chainId: settings.chainId, htlcAddress: settings.htlcAddress, htlcCodeHash: settings.htlcCodeHash,
      sixDecimalTokens: settings.usdcToken === null ? [] : [settings.usdcToken],
    });
    if (!checked.ok) throw new Error(`quote chain refused at start (${checked.code}): ${checked.message}`);
    let finalized: BlockRef | null = null;
    const quoteLeg: QuoteLegDeps = {
      mode: qc.mode, chainId: settings.chainId, htlcAddress: settings.htlcAddress, usdcToken: settings.usdcToken,
      lockWindowSeconds: qc.lockWindowSeconds, claimWindowMaxSeconds: qc.claimWindowMaxSeconds, claimGuardSeconds: qc.claimGuardSeconds,
      finalizedTimeSeconds: () => finalized?.timestampSeconds ?? null,
    };
    return {
      quoteLeg, sandbox, stop,
      finalLookUp: (deps) => createFinalLookUp({ store: deps.store, quoteLeg }, { chain, fromBlock: settings.startBlock, finalizedBlock: () => finalized }),
      startFollower(deps, orderByHtlcHash) {
        const db = new Database(join(env.dataDir, 'quote-chain.db'));
        const directory = createOrderDirectory(deps, { orderByHtlcHash });
        const sink = createObservationSink(deps, {
          onFinalized: (block) => { finalized = block; },
          finalLookup: { chain, fromBlock: settings.startBlock, directory },
          onRefused: (orderId, code) => env.log.warn({ order_id: orderId, code }, 'a quote-chain observation was refused'),
        });
        const follower = createChainFollower({
          chain, chainId: settings.chainId, db, directory, sink,
          leases: env.leases, owner: `${process.pid}:${randomUUID()}`, registry: env.registry, startBlock: settings.startBlock,
          onAlert: (alert) => env.log.error({ alert: alert.code, chain_id: alert.chainId }, 'quote-chain follower alert'),
        });
        const stopFollowing = follower.start(FOLLOW_INTERVAL_MS);
        stops.push(async () => {
          await stopFollowing();
          db.close();
        });
        return follower;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The quote chain from configuration (quote-chain.md, "Modes"): `manual` reads no chain; `sandbox`
 * starts anvil with the project's HTLC and a test USDC (loudly); `evm` reads the configured chain.
 * Either chain mode is checked before anything is read (chain id, contract code hash, token
 * decimals) and refused at start when it does not match.
 */
import { buyerFundsFrom } from './app/quoteFunds.js';
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
import { createChainFollower, type ChainFollower, type FollowerStatus } from './chain/follower.js';
import type { FollowerAlert } from './chain/observations.js';
import { checkQuoteChainAtStart } from './chain/startCheck.js';
import type { QuoteChainConfig } from './config.js';
import type { BlockRef, ChainOutcome, Finality } from './gateways/quoteChain.js';
import { createEvmQuoteChain } from './gateways/quoteChainEvm.js';
import { startSandboxChain, type SandboxChain } from './sandbox/chain.js';
import type { Leases } from './settlement/leases.js';

export interface QuoteChainRuntime {
  readonly quoteLeg: QuoteLegDeps;
  readonly sandbox: SandboxChain | null;
  /** Starts the follower for the ledger built with `quoteLeg`; the returned stop is awaited at shutdown. */
  startFollower(deps: LedgerDeps & { quoteLeg: QuoteLegDeps }, orderByHtlcHash: (hash: string) => Promise<string | null>): ChainFollower;
  /** What the operator page shows: the chain's head and finalized block, the follower's checkpoint. */
  status(): Promise<QuoteChainStatus>;
  /** The final look-up for one order at the last finalized block the follower processed (chain time as a command input). */
  finalLookUp(deps: Pick<LedgerDeps, 'store'>): FinalLookUp;
  stop(): Promise<void>;
}

export interface QuoteChainStatus {
  readonly mode: 'sandbox' | 'evm';
  readonly chainId: number;
  readonly htlcAddress: Address;
  /** Null when the chain did not answer (the reason is in `problem`). */
  readonly head: BlockRef | null;
  readonly finalized: BlockRef | null;
  /** Null before the follower started; its checkpoint is null until its first pass. */
  readonly follower: FollowerStatus | null;
  readonly problem: string | null;
}

/** How often the follower reads the chain. */
const FOLLOW_INTERVAL_MS = 1_000;
/** quote-chain.md: alert (log and metric) when the ledger's clock and the chain head's time are further apart. */
const CLOCK_DRIFT_LIMIT_SECONDS = 60;

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
      // LEDGER_EVM_START_BLOCK (default 0): only a follower without a checkpoint starts there.
      startBlock: evm.startBlock,
    },
  };
}

/** What an alert's log line says beyond its code (block numbers as text: JSON has no bigint). */
function alertDetails(alert: FollowerAlert): Record<string, string | number | null> {
  switch (alert.code) {
    case 'clock_drift':
      return { drift_seconds: alert.driftSeconds };
    case 'wrong_chain_id':
      return { reported: alert.reported };
    case 'range_capped':
      return { from_block: alert.fromBlock.toString(), to_block: alert.toBlock.toString() };
    case 'reorged_observation_acted_on':
      return { order_id: alert.orderId, key: alert.key, block_number: alert.blockNumber.toString() };
    case 'reorg_detected':
      return { block_number: alert.blockNumber.toString(), rescan_from: alert.rescanFrom.toString() };
  }
}

/** Null in manual mode; otherwise a checked chain, ready for its follower. */
export async function quoteChainFromConfig(
  qc: QuoteChainConfig, env: { dataDir: string; registry: Registry; leases: Leases; log: Logger; clockMs?: () => number },
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
    const clockMs = env.clockMs ?? Date.now;
    // The ledger's clock minus the chain's, as last measured on a fresh head: 0 until then.
    let driftSeconds = 0;
    let follower: ChainFollower | null = null;
    const quoteLeg: QuoteLegDeps = {
      mode: qc.mode === 'evm' ? 'evm' : 'sandbox', chainId: settings.chainId, htlcAddress: settings.htlcAddress, usdcToken: settings.usdcToken,
      lockWindowSeconds: qc.lockWindowSeconds, claimWindowMaxSeconds: qc.claimWindowMaxSeconds, claimGuardSeconds: qc.claimGuardSeconds,
      escrowReleaseSlackSeconds: qc.escrowReleaseSlackSeconds, buyerFunds: buyerFundsFrom(chain),
      finalizedTimeSeconds: () => finalized?.timestampSeconds ?? null,
      chainNowSeconds: () => BigInt(Math.floor(clockMs() / 1000) - driftSeconds),
    };
    return {
      quoteLeg, sandbox, stop,
      async status() {
        const [head, finalizedNow] = await Promise.all([chain.headBlock(), chain.finalizedBlock()]);
        const problem = [head, finalizedNow].map(problemOf).find((p) => p !== null) ?? null;
        return {
          mode: qc.mode === 'evm' ? 'evm' : 'sandbox', chainId: settings.chainId, htlcAddress: settings.htlcAddress,
          head: valueOf(head), finalized: valueOf(finalizedNow), follower: follower?.status() ?? null, problem,
        };
      },
      finalLookUp: (deps) => createFinalLookUp({ store: deps.store, quoteLeg }, { chain, fromBlock: settings.startBlock, finalizedBlock: () => finalized }),
      startFollower(deps, orderByHtlcHash) {
        const db = new Database(join(env.dataDir, 'quote-chain.db'));
        const directory = createOrderDirectory(deps, { orderByHtlcHash });
        const sink = createObservationSink(deps, {
          onFinalized: (block) => { finalized = block; },
          finalLookup: { chain, fromBlock: settings.startBlock, directory },
          onRefused: (orderId, code) => env.log.warn({ order_id: orderId, code }, 'a quote-chain observation was refused'),
        });
        follower = createChainFollower({
          chain, chainId: settings.chainId, db, directory, sink,
          leases: env.leases, owner: `${process.pid}:${randomUUID()}`, registry: env.registry, startBlock: settings.startBlock,
          now: clockMs, clockDriftLimitSeconds: CLOCK_DRIFT_LIMIT_SECONDS,
          onClockDrift: (seconds) => { driftSeconds = seconds; },
          onAlert: (alert) => env.log.error({ alert: alert.code, chain_id: alert.chainId, ...alertDetails(alert) }, 'quote-chain follower alert'),
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

const valueOf = <T>(outcome: ChainOutcome<T>): T | null => (outcome.kind === 'ok' ? outcome.value : null);
const problemOf = (outcome: ChainOutcome<unknown>): string | null => (outcome.kind === 'ok' ? null : `${outcome.reason}: ${outcome.detail}`);

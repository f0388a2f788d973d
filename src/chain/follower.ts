/**
 * The chain follower (quote-chain.md, "Following the chain"): one per chain, under a lease, it reads
 * the HTLC contract's logs from its durable checkpoint up to the finalized block in bounded ranges and
 * delivers observations to a sink. A pass:
 *  1. takes the lease (else does nothing) and checks the RPC still speaks for the configured chain;
 *  2. re-reads the checkpoint's block: a different hash is a reorganisation, so it alerts, moves the
 *     checkpoint back by the rescan depth and acts on nothing this pass;
 *  3. per range: pins the range's last block hash, reads the logs and every fact a lock needs, re-reads
 *     that hash (unchanged, or nothing is delivered), hands the sink what was delivered from its blocks
 *     and is gone from them now (forgetVanished), delivers what was not delivered before, and only
 *     then moves the checkpoint. A failed or capped read ends the pass where it is.
 */
import type { Registry } from 'prom-client';
import type { Hex } from 'viem';
import type { Leases } from '../settlement/leases.js';
import type { BlockRange, BlockRef, HtlcLog, QuoteChain } from '../gateways/quoteChain.js';
import { createFollowerMetrics } from './followerMetrics.js';
import type { FollowerMetrics } from './followerMetrics.js';
import { createFollowerStore } from './followerStore.js';
import type { Checkpoint, FollowerStore, ReorgRecord } from './followerStore.js';
import { createFactCache, need, observe, Stall } from './observe.js';
import { observationKey } from './observations.js';
import type { ChainObservation, FollowerAlert, ObservationSink, OrderDirectory } from './observations.js';
import type { Database } from 'better-sqlite3';

export interface ChainFollowerOptions {
  /** The gateway, bound to the one HTLC contract whose logs count. */
  readonly chain: QuoteChain;
  /** The chain id configured (LEDGER_EVM_CHAIN_ID); a different answer stops every pass with an alert. */
  readonly chainId: number;
  /** The database holding the follower's tables (its own file or the ledger's). */
  readonly db: Database;
  readonly directory: OrderDirectory;
  readonly sink: ObservationSink;
  readonly leases: Leases;
  /** This process's name for the lease. */
  readonly owner: string;
  readonly registry: Registry;
  /** The first block to read when there is no checkpoint yet (the contract's deployment block). */
  readonly startBlock: bigint;
  /** How far back a reorganisation sends the checkpoint (default 64 blocks). */
  readonly rescanDepthBlocks?: bigint;
  /** Largest eth_getLogs range (default and cap: the gateway's). */
  readonly maxRangeBlocks?: bigint;
  /** Ranges read in one pass, so a pass is bounded (default 50). */
  readonly maxRangesPerPass?: number;
  readonly leaseTtlMs?: number;
  /**
   * Alert when the ledger's clock and the chain head's time differ by more than this (quote-chain.md:
   * 60 s); off when absent. Measured only on a fresh head (see checkClockDrift), so an idle chain
   * whose head time stands still raises nothing.
   */
  readonly clockDriftLimitSeconds?: number;
  /** Each drift measured (the ledger's clock minus the chain head's time, seconds). */
  readonly onClockDrift?: (driftSeconds: number) => void;
  readonly onAlert?: (alert: FollowerAlert) => void;
  readonly now?: () => number;
}

export type PassOutcome = 'not_leader' | 'caught_up' | 'advanced' | 'reorg' | 'stalled';

export interface PassReport {
  readonly outcome: PassOutcome;
  readonly checkpoint: Checkpoint | null;
  readonly finalizedBlock: bigint | null;
  readonly delivered: number;
  /** Why a pass stalled (the failing read's reason), for logs. */
  readonly reason?: string;
}

export interface FollowerStatus {
  readonly chainId: number;
  readonly checkpoint: Checkpoint | null;
  readonly lastReorg: ReorgRecord | null;
}

export interface ChainFollower {
  pollOnce(): Promise<PassReport>;
  status(): FollowerStatus;
  /** Polls every `intervalMs` (passes never overlap) until the returned stop is awaited. */
  start(intervalMs: number): () => Promise<void>;
}

export function createChainFollower(options: ChainFollowerOptions): ChainFollower {
  const store = createFollowerStore(options.db);
  const metrics = createFollowerMetrics(options.registry, options.chainId);
  const now = options.now ?? Date.now;
  const leaseName = `quote-chain-follower:${options.chainId}`;
  const alert = (a: FollowerAlert): void => {
    metrics.alert(a.code);
    options.onAlert?.(a);
  };
  const ctx: PassContext = { options, store, metrics, now, alert, drift: { lastHead: null, drifting: false } };

  // The lease keeps other processes out; this keeps a second pass of the same process from
  // overlapping the one running (the lease is re-entrant for its owner): it joins it instead.
  let running: Promise<PassReport> | null = null;
  function pollOnce(): Promise<PassReport> {
    running ??= runPass(ctx, leaseName)
      .then((report) => {
        metrics.pass(report.outcome);
        metrics.heights(report.checkpoint?.blockNumber ?? null, report.finalizedBlock);
        if (report.finalizedBlock !== null) store.saveFinalized(options.chainId, report.finalizedBlock, now());
        return report;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  return {
    pollOnce,
    status: () => ({ chainId: options.chainId, checkpoint: store.checkpoint(options.chainId), lastReorg: store.lastReorg(options.chainId) }),
    start(intervalMs) {
      let stopped = false;
      let timer: NodeJS.Timeout | null = null;
      let current: Promise<unknown> = Promise.resolve();
      const tick = (): void => {
        current = pollOnce()
          .catch(() => undefined)
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      tick();
      return async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await current;
        await options.leases.release(leaseName, options.owner);
      };
    },
  };
}

interface PassContext {
  readonly options: ChainFollowerOptions;
  readonly store: FollowerStore;
  readonly metrics: FollowerMetrics;
  readonly now: () => number;
  /** Counts the alert in the metrics, then hands it to onAlert. */
  readonly alert: (alert: FollowerAlert) => void;
  readonly drift: DriftState;
}

interface DriftState {
  /** The head the previous pass read, and when (the ledger's clock). */
  lastHead: { readonly number: bigint; readonly readAtMs: number } | null;
  /** Inside an episode of drift past the limit: it is alerted once, when it begins. */
  drifting: boolean;
}

async function runPass(ctx: PassContext, leaseName: string): Promise<PassReport> {
  const { options, store } = ctx;
  const leased = await options.leases.acquire(leaseName, options.owner, options.leaseTtlMs ?? 60_000, ctx.now());
  let checkpoint = store.checkpoint(options.chainId);
  if (!leased) return { outcome: 'not_leader', checkpoint, finalizedBlock: null, delivered: 0 };
  let finalized: BlockRef | null = null;
  let delivered = 0;
  try {
    const reported = need(await options.chain.chainId(), 'chain id');
    if (reported !== options.chainId) {
      ctx.alert({ code: 'wrong_chain_id', chainId: options.chainId, reported });
      throw new Stall(`the RPC reports chain ${reported}`);
    }
    finalized = need(await options.chain.finalizedBlock(), 'finalized block');
    if (options.clockDriftLimitSeconds !== undefined) await checkClockDrift(ctx, options.clockDriftLimitSeconds);
    // An RPC node behind the checkpoint (lagging, or another node behind a balancer) proves nothing:
    // no reorg is declared on its word, and chain time is never reported going backwards.
    if (checkpoint !== null && finalized.number < checkpoint.blockNumber) {
      throw new Stall(`the RPC's finalized block ${finalized.number} is behind the checkpoint ${checkpoint.blockNumber}`);
    }
    if (checkpoint !== null && (await reorgAt(ctx, checkpoint))) {
      return { outcome: 'reorg', checkpoint: store.checkpoint(options.chainId), finalizedBlock: finalized.number, delivered: 0 };
    }
    const maxRange = minBig(options.maxRangeBlocks ?? options.chain.maxBlockRange, options.chain.maxBlockRange);
    let size = maxRange;
    let ranges = 0;
    let from = checkpoint === null ? options.startBlock : checkpoint.blockNumber + 1n;
    while (from <= finalized.number && ranges < (options.maxRangesPerPass ?? 50)) {
      const range = { fromBlock: from, toBlock: minBig(from + size - 1n, finalized.number) };
      const result = await readRange(ctx, range, finalized);
      if (result === 'capped') {
        if (size === 1n) {
          ctx.alert({ code: 'range_capped', chainId: options.chainId, ...range });
          throw new Stall('eth_getLogs capped on a single block');
        }
        size = maxBig(1n, size / 2n);
        continue;
      }
      // A long catch-up may outlast the lease: it is renewed before each delivery, and a lease lost
      // to another process ends the pass before anything more is delivered.
      if (!(await options.leases.acquire(leaseName, options.owner, options.leaseTtlMs ?? 60_000, ctx.now()))) {
        throw new Stall('the lease passed to another follower');
      }
      await forgetVanished(ctx, range, result.logs);
      delivered += await deliver(ctx, result.observations);
      checkpoint = { blockNumber: range.toBlock, blockHash: result.endHash };
      store.saveCheckpoint(options.chainId, checkpoint, ctx.now());
      from = range.toBlock + 1n;
      ranges += 1;
    }
    if (from > finalized.number) await options.sink.onFinalized?.(finalized);
    const outcome: PassOutcome = ranges > 0 ? 'advanced' : 'caught_up';
    return { outcome, checkpoint, finalizedBlock: finalized.number, delivered };
  } catch (error) {
    // A failed read (Stall) or a sink that refused: the checkpoint stays where the last good range left it.
    const reason = error instanceof Error ? error.message : String(error);
    return { outcome: 'stalled', checkpoint, finalizedBlock: finalized?.number ?? null, delivered, reason };
  }
}

/**
 * Chain time decides; the ledger's clock only raises an alert when it strays from the chain's. A head
 * says what time it is on the chain only while it is new: a block first seen since the previous pass
 * was made at most that long ago, so the drift is measured then, within the pass interval, and never
 * on a head that stands still (an idle chain, a stalled node).
 */
async function checkClockDrift(ctx: PassContext, limitSeconds: number): Promise<void> {
  const head = need(await ctx.options.chain.headBlock(), 'head block');
  const nowMs = ctx.now();
  const previous = ctx.drift.lastHead;
  ctx.drift.lastHead = { number: head.number, readAtMs: nowMs };
  const fresh = previous !== null && head.number > previous.number && nowMs - previous.readAtMs <= limitSeconds * 1000;
  if (!fresh) return;
  const driftSeconds = Math.round(nowMs / 1000) - Number(head.timestampSeconds);
  ctx.metrics.clockDrift(driftSeconds);
  ctx.options.onClockDrift?.(driftSeconds);
  const beyond = Math.abs(driftSeconds) > limitSeconds;
  if (beyond && !ctx.drift.drifting) ctx.alert({ code: 'clock_drift', chainId: ctx.options.chainId, driftSeconds });
  ctx.drift.drifting = beyond;
}

/** True (and the checkpoint moved back, the reorg recorded and alerted) when the checkpoint's block changed. */
async function reorgAt(ctx: PassContext, checkpoint: Checkpoint): Promise<boolean> {
  const { options, store } = ctx;
  const block = need(await options.chain.blockByNumber(checkpoint.blockNumber), 'checkpoint block');
  if (block === null) throw new Stall(`the RPC does not know the checkpoint block ${checkpoint.blockNumber}`);
  if (block.hash === checkpoint.blockHash) return false;
  const rescanFrom = maxBig(options.startBlock - 1n, checkpoint.blockNumber - (options.rescanDepthBlocks ?? 64n));
  if (rescanFrom < options.startBlock) {
    store.clearCheckpoint(options.chainId);
  } else {
    const earlier = need(await options.chain.blockByNumber(rescanFrom), 'rescan block');
    if (earlier === null) throw new Stall('rescan block missing');
    store.saveCheckpoint(options.chainId, { blockNumber: earlier.number, blockHash: earlier.hash }, ctx.now());
  }
  const chainHash = block.hash;
  store.recordReorg(options.chainId, { blockNumber: checkpoint.blockNumber, checkpointHash: checkpoint.blockHash, chainHash, detectedAtMs: ctx.now() });
  ctx.metrics.reorg();
  ctx.alert({ code: 'reorg_detected', chainId: options.chainId, blockNumber: checkpoint.blockNumber, checkpointHash: checkpoint.blockHash, chainHash, rescanFrom: maxBig(rescanFrom + 1n, options.startBlock) });
  return true;
}

/** Reads one range and everything its observations need; nothing is delivered from here. */
async function readRange(
  ctx: PassContext,
  range: BlockRange,
  finalized: BlockRef,
): Promise<'capped' | { observations: ChainObservation[]; logs: readonly HtlcLog[]; endHash: Hex }> {
  const { chain } = ctx.options;
  const end = range.toBlock === finalized.number ? finalized : need(await chain.blockByNumber(range.toBlock), 'range end');
  if (end === null) throw new Stall('range end block missing');
  const page = await chain.htlcLogs(range);
  if (page.kind === 'rejected' && page.reason === 'range_capped') return 'capped';
  const { logs, undecodable } = need(page, 'htlc logs');
  ctx.metrics.ignored('undecodable_log', undecodable);
  const facts = createFactCache(chain);
  const observations: ChainObservation[] = [];
  for (const log of logs) {
    const observation = await observe(observeContext(ctx), log, finalized, facts);
    if (typeof observation === 'string') ctx.metrics.ignored(observation);
    else observations.push(observation);
  }
  // The range is acted on only if its last block is still the one the logs were read under.
  const again = need(await chain.blockByNumber(range.toBlock), 'range end again');
  if (again === null || again.hash !== end.hash) throw new Stall(`block ${range.toBlock} changed while its range was read`);
  return { observations, logs, endHash: end.hash };
}

/**
 * A rescan after a reorganisation (or a range read again after a stall) compares the range's logs
 * with what was delivered from its blocks: an observation whose log is no longer there, in the same
 * block, is handed to the sink to be forgotten (or alerted on, when the ledger already acted on it),
 * and forgotten here too, so a log made again is delivered afresh. Before the range's own deliveries.
 */
async function forgetVanished(ctx: PassContext, range: BlockRange, logs: readonly HtlcLog[]): Promise<void> {
  const { options, store } = ctx;
  const canonical = new Set(logs.map((log) => `${observationKey(options.chainId, log)}@${log.blockHash.toLowerCase()}`));
  for (const recorded of store.deliveredIn(options.chainId, range.fromBlock, range.toBlock)) {
    if (canonical.has(`${recorded.key}@${recorded.blockHash.toLowerCase()}`)) continue;
    const outcome = (await options.sink.onReorged?.({ ...recorded, chainId: options.chainId })) ?? 'recorded';
    if (outcome === 'acted_on') {
      ctx.alert({ code: 'reorged_observation_acted_on', chainId: options.chainId, orderId: recorded.orderId, key: recorded.key, blockNumber: recorded.blockNumber });
    }
    ctx.metrics.observed(`reorged_${outcome}`);
    store.forget(options.chainId, recorded.key);
  }
}

const observeContext = (ctx: PassContext) => ({ ...ctx, chain: ctx.options.chain, chainId: ctx.options.chainId, directory: ctx.options.directory });

async function deliver(ctx: PassContext, observations: readonly ChainObservation[]): Promise<number> {
  const { options, store } = ctx;
  let count = 0;
  for (const observation of observations) {
    if (store.wasDelivered(observation.key)) continue;
    await options.sink.onObservation(observation);
    if (observation.kind === 'lock_seen') store.rememberSwap(options.chainId, observation.swapId, observation.orderId, observation.hashlock, observation.key);
    store.markDelivered(observation.key, options.chainId, observation.kind, observation.orderId, ctx.now());
    store.rememberLog(options.chainId, { ...observation, kind: observation.kind });
    ctx.metrics.observed(observation.kind);
    count += 1;
  }
  return count;
}

const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);

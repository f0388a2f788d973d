/**
 * From one HTLC log to one observation: which order it concerns, and (for a lock) every fact the
 * verification needs, read from the chain. A failed read throws Stall, which ends the follower's pass
 * without moving its checkpoint; bad input answers the reason it is set aside.
 */
import { sha256 } from 'viem';
import type { Address, Hex } from 'viem';
import { ORDER_ID_PATTERN } from '../aggregates/order/events.js';
import type { BlockRef, ChainOutcome, HtlcLog, QuoteChain, SwapClaimedLog, SwapCreatedLog, SwapRefundedLog } from '../gateways/quoteChain.js';
import type { FollowerMetrics, IgnoredReason } from './followerMetrics.js';
import type { FollowerStore } from './followerStore.js';
import { observationKey } from './observations.js';
import type { ChainObservation, OrderDirectory } from './observations.js';
import { ETH_TOKEN, verifyLock } from './verifyLock.js';
import type { ExpectedLock } from './verifyLock.js';

export interface ObserveContext {
  readonly chain: QuoteChain;
  readonly chainId: number;
  readonly directory: OrderDirectory;
  readonly store: FollowerStore;
  readonly metrics: FollowerMetrics;
}

/** A read that failed: the pass ends, the checkpoint stays. */
export class Stall extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export const need = <T>(outcome: ChainOutcome<T>, what: string): T => {
  if (outcome.kind !== 'ok') throw new Stall(`${what}: ${outcome.kind} ${outcome.reason}`);
  return outcome.value;
};


export type FactCache = ReturnType<typeof createFactCache>;

/** Block times and token decimals are read once per range. */
export function createFactCache(chain: QuoteChain) {
  const blockTimes = new Map<bigint, bigint>();
  const decimals = new Map<string, number | null>();
  return {
    async blockTime(blockNumber: bigint): Promise<bigint> {
      const known = blockTimes.get(blockNumber);
      if (known !== undefined) return known;
      const block = need(await chain.blockByNumber(blockNumber), 'log block');
      if (block === null) throw new Stall(`block ${blockNumber} missing`);
      blockTimes.set(blockNumber, block.timestampSeconds);
      return block.timestampSeconds;
    },
    async decimals(token: Address): Promise<number | null> {
      if (decimals.has(token)) return decimals.get(token) ?? null;
      const outcome = await chain.tokenDecimals(token);
      // A contract that refuses `decimals()` is no 6-decimal token: a definite answer, not a stall.
      // Any other failure (a node's error, a refused connection) says nothing about the token.
      const value = outcome.kind === 'rejected' && outcome.reason === 'reverted' ? null : need(outcome, 'token decimals');
      decimals.set(token, value);
      return value;
    },
  };
}

export function observe(ctx: ObserveContext, log: HtlcLog, finalized: BlockRef, facts: FactCache): Promise<ChainObservation | IgnoredReason> {
  switch (log.event) {
    case 'SwapCreated':
      return observeLock(ctx, log, finalized, facts);
    case 'SwapClaimed':
      return observeClaim(ctx, log, facts);
    case 'SwapRefunded':
      return observeRefund(ctx, log, facts);
  }
}

const base = (ctx: ObserveContext, log: HtlcLog, orderId: string, blockTimeSeconds: bigint) => ({
  key: observationKey(ctx.chainId, log),
  chainId: ctx.chainId,
  orderId,
  swapId: log.swapId,
  txHash: log.txHash,
  logIndex: log.logIndex,
  blockNumber: log.blockNumber,
  blockHash: log.blockHash,
  blockTimeSeconds,
});

async function observeLock(ctx: ObserveContext, log: SwapCreatedLog, finalized: BlockRef, facts: FactCache): Promise<ChainObservation | IgnoredReason> {
  const { chain, chainId } = ctx;
  const seen = ctx.store.swapOrder(chainId, log.swapId);
  if (seen !== null && seen.key !== observationKey(chainId, log)) return 'duplicate_swap_id';
  const target = await lockOrder(ctx, log);
  if (typeof target === 'string') return target;
  const { orderId, expected } = target;
  const isToken = log.token.toLowerCase() !== ETH_TOKEN;
  const lockBlockTimeSeconds = await facts.blockTime(log.blockNumber);
  const verdict = verifyLock(expected, {
    created: log,
    swapAtLockBlock: need(await chain.getSwap(log.swapId, log.blockNumber), 'swap at lock block'),
    swapAtFinalized: need(await chain.getSwap(log.swapId, finalized.number), 'swap at finalized block'),
    lockBlockTimeSeconds,
    transfers: isToken ? (need(await chain.transferLogs(log.txHash, log.token), 'lock transfers') ?? []) : [],
    tokenDecimals: isToken ? await facts.decimals(log.token) : null,
  });
  return {
    ...base(ctx, log, orderId, lockBlockTimeSeconds),
    kind: 'lock_seen', verdict, buyer: log.buyer, seller: log.seller, amount: log.amount, timelockSeconds: log.timelock,
    hashlock: log.hashlock.toLowerCase() as Hex,
  };
}

/**
 * The order a lock is for: the one its rtcOrderId names or, failing that, the one whose hashlock it
 * carries. The second is still a live swap with that order's hash (its seller can claim it), so it is
 * recorded for that order, rejected as wrong_order_id, and holds back refunds and re-arms; a bad id is
 * counted either way.
 */
async function lockOrder(ctx: ObserveContext, log: SwapCreatedLog): Promise<{ orderId: string; expected: ExpectedLock } | IgnoredReason> {
  const { directory } = ctx;
  const wellFormed = ORDER_ID_PATTERN.test(log.rtcOrderId);
  const named = wellFormed ? await directory.expectedLock(log.rtcOrderId) : null;
  if (named !== null) return { orderId: log.rtcOrderId, expected: named };
  const problem: IgnoredReason = wellFormed ? 'unknown_order' : 'malformed_order_id';
  const byHash = await directory.orderByHashlock(log.hashlock.toLowerCase() as Hex);
  const expected = byHash === null ? null : await directory.expectedLock(byHash);
  if (byHash === null || expected === null) return problem;
  ctx.metrics.ignored(problem);
  return { orderId: byHash, expected };
}

async function observeClaim(ctx: ObserveContext, log: SwapClaimedLog, facts: FactCache): Promise<ChainObservation | IgnoredReason> {
  // Any claim whose preimage hashes to an order's htlc_hash is a reveal for that order, whatever the swap.
  const hashlock = sha256(log.preimage).toLowerCase() as Hex;
  const orderId = await ctx.directory.orderByHashlock(hashlock);
  if (orderId === null) return 'unknown_order';
  return { ...base(ctx, log, orderId, await facts.blockTime(log.blockNumber)), kind: 'claim_seen', preimage: log.preimage, hashlock };
}

async function observeRefund(ctx: ObserveContext, log: SwapRefundedLog, facts: FactCache): Promise<ChainObservation | IgnoredReason> {
  const { chain, chainId, directory } = ctx;
  const seen = ctx.store.swapOrder(chainId, log.swapId);
  const hashlock = seen?.hashlock ?? need(await chain.getSwap(log.swapId, log.blockNumber), 'refunded swap')?.hashlock.toLowerCase();
  if (hashlock === undefined) return 'unknown_order';
  const orderId = await directory.orderByHashlock(hashlock as Hex);
  if (orderId === null) return 'unknown_order';
  return { ...base(ctx, log, orderId, await facts.blockTime(log.blockNumber)), kind: 'refund_seen', hashlock: hashlock as Hex };
}


/**
 * The quote chain's side of the ledger: the follower's ObservationSink (each observation becomes a
 * command on the order's stream, appended with the expected version, then the driver runs whatever
 * it made due: a claim seen → release and payout to the buyer) and its OrderDirectory (what a lock
 * for an order must look like, and which order a hashlock belongs to).
 */
import type { Address, Hex } from 'viem';
import type { ChainFact, OrderCommand, OrderState } from '../aggregates/order/index.js';
import { dueStep, OrderRefused, takerOf } from '../aggregates/order/index.js';
import type { ChainObservation, ObservationSink, OrderDirectory, ReorgedObservation } from '../chain/observations.js';
import { decideQuoteLeg, swapsWithHashlock } from '../chain/finalLookup.js';
import { expectedLock } from '../chain/lockTerms.js';
import type { BlockRef, QuoteChain } from '../gateways/quoteChain.js';
import type { CommandContext } from '../commands/handleCommand.js';
import { handleOrderCommand } from '../commands/handleCommand.js';
import { loadOrder } from '../commands/loadOrder.js';
import { preimageBinding } from '../crypto/preimage.js';
import { driveOrder } from '../settlement/driver.js';
import type { LedgerDeps } from './deps.js';
import { chainAssetFor, latestTimelockSecondsOf, type QuoteLegDeps } from './quoteLeg.js';

const ACTOR = 'quote-chain';

function commandFor(deps: LedgerDeps, o: ChainObservation): OrderCommand {
  const fact: ChainFact = { key: o.key, chainId: o.chainId, swapId: o.swapId, txHash: o.txHash, blockNumber: o.blockNumber, blockTimeSeconds: o.blockTimeSeconds };
  switch (o.kind) {
    case 'lock_seen':
      return { type: 'ObserveQuoteLock', fact, timelockSeconds: o.timelockSeconds, amountBaseUnits: o.amount, rejection: o.verdict.ok ? null : o.verdict.reason };
    case 'claim_seen': {
      const preimage = o.preimage.slice(2).toLowerCase();
      return { type: 'ObserveQuoteClaim', fact, preimage, secretCiphertext: deps.secretBox.encrypt(preimage, preimageBinding(o.orderId)) };
    }
    case 'refund_seen':
      return { type: 'ObserveQuoteRefund', fact };
  }
}

export interface QuoteChainSinkOptions {
  /** A refused observation (a claim whose preimage does not fit, which the follower never sends): counted, never a stall. */
  readonly onRefused?: (orderId: string, code: string) => void;
  /** Every finalized block processed: its time is the chain time confirms are checked against. */
  readonly onFinalized?: (block: BlockRef) => void;
  /** For the final look-up after a refund is seen: the chain, the first block to search, and the directory. */
  readonly finalLookup?: { readonly chain: QuoteChain; readonly fromBlock: bigint; readonly directory: OrderDirectory };
}

/**
 * Appends each observation to its order's stream (a repeat decides [], so redelivery after a
 * restart or a rescan changes nothing) and drives what became due. A store failure throws, so the
 * follower delivers the same observation again next pass; a refusal is bad input and is not retried.
 */
export function createObservationSink(deps: LedgerDeps, options: QuoteChainSinkOptions = {}): ObservationSink {
  return {
    async onObservation(observation) {
      const ctx: CommandContext = { correlationId: observation.key, causationId: observation.key, actor: ACTOR, now: deps.now, newEventId: deps.newEventId };
      try {
        const decided = await handleOrderCommand(deps.store, observation.orderId, commandFor(deps, observation), ctx, { maxAttempts: 5 });
        if (observation.kind === 'refund_seen' && options.finalLookup) await expireOnChainTime(deps, options.finalLookup, observation, ctx);
        else if (dueStep(decided.state) !== null) await driveOrder(deps, observation.orderId, ctx, 'inline');
      } catch (error) {
        if (error instanceof OrderRefused) {
          options.onRefused?.(observation.orderId, error.code);
          return;
        }
        throw error;
      }
    },
    onReorged: (gone) => forgetReorged(deps, gone, options),
    onFinalized(block) {
      options.onFinalized?.(block);
    },
  };
}

const OBSERVATION_OF = { lock_seen: 'lock', claim_seen: 'claim', refund_seen: 'refund' } as const;

/**
 * A delivered observation whose log a reorganisation removed: the decider forgets it (or refuses
 * when the ledger already acted on it, which the follower raises as an alert). Nothing is driven: a
 * lock or a refund that vanished makes no step due, and a claim that vanished is kept.
 */
async function forgetReorged(deps: LedgerDeps, gone: ReorgedObservation, options: QuoteChainSinkOptions): Promise<'recorded' | 'acted_on'> {
  const key = `reorg:${gone.key}`;
  const ctx: CommandContext = { correlationId: key, causationId: key, actor: ACTOR, now: deps.now, newEventId: deps.newEventId };
  const command: OrderCommand = { type: 'RecordQuoteReorg', observation: OBSERVATION_OF[gone.kind], key: gone.key, swapId: gone.swapId, txHash: gone.txHash, blockNumber: gone.blockNumber };
  try {
    await handleOrderCommand(deps.store, gone.orderId, command, ctx, { maxAttempts: 5 });
    return 'recorded';
  } catch (error) {
    if (!(error instanceof OrderRefused)) throw error;
    options.onRefused?.(gone.orderId, error.code);
    return error.code === 'quote_observation_acted_on' ? 'acted_on' : 'recorded';
  }
}

/**
 * After a refund is seen: the final look-up at the chain's finalized block (never older than the
 * refund's own), every swap for the seller under the order's hashlock read with getSwap there, and
 * the one decision of finalLookup.ts handed to the decider, which refunds the seller's RTC only when
 * no live swap can still be claimed. The refund's block alone is not enough: a follower catching up
 * delivers it late, and a swap created after it (a second lock, however wrong) may be final by now
 * and claimable (found by the simulator, seed 41). A failed read throws, so the follower stalls and
 * delivers the same refund again next pass, rather than leaving the order matched with nobody to look again.
 */
async function expireOnChainTime(
  deps: LedgerDeps, lookup: NonNullable<QuoteChainSinkOptions['finalLookup']>, observation: ChainObservation, ctx: CommandContext,
): Promise<void> {
  const expected = await lookup.directory.expectedLock(observation.orderId);
  if (expected === null) return;
  const at = await lookupBlock(lookup.chain, observation);
  const hashlock = `0x${expected.htlcHash.replace(/^0x/, '').toLowerCase()}` as Hex;
  const swaps = await swapsWithHashlock(lookup.chain, { seller: expected.sellerQuoteAddress, hashlock, fromBlock: lookup.fromBlock, finalized: at });
  if (swaps.kind !== 'ok') throw new Error(`the final look-up failed: ${swaps.kind} ${swaps.reason}`);
  const decision = decideQuoteLeg(swaps.value, at.timestampSeconds);
  const command: OrderCommand = { type: 'ExpireOrder', now: deps.now(), quoteChain: { decision: decision.kind, finalizedTimeSeconds: at.timestampSeconds } };
  const decided = await handleOrderCommand(deps.store, observation.orderId, command, ctx, { maxAttempts: 5 });
  if (dueStep(decided.state) !== null) await driveOrder(deps, observation.orderId, ctx, 'inline');
}

/** The finalized block now, or the refund's own block if the RPC answers an older one (a lagging node). */
async function lookupBlock(chain: QuoteChain, observation: ChainObservation): Promise<BlockRef> {
  const finalized = await chain.finalizedBlock();
  if (finalized.kind !== 'ok') throw new Error(`the final look-up failed: finalized block ${finalized.kind} ${finalized.reason}`);
  if (finalized.value.number >= observation.blockNumber) return finalized.value;
  return { number: observation.blockNumber, hash: observation.blockHash, parentHash: observation.blockHash, timestampSeconds: observation.blockTimeSeconds };
}

/** The quote addresses of a matched order: the seller's (claims) and the buyer's (locks, refunds). */
function quoteAddresses(state: OrderState): { seller: Address; buyer: Address } | null {
  if (state.status === 'none') return null;
  const taker = takerOf(state);
  if (taker === null || taker.ethAddress === null || state.makerEthAddress === null) return null;
  const maker = state.makerEthAddress as Address;
  const takerAddress = taker.ethAddress as Address;
  return state.side === 'sell' ? { seller: maker, buyer: takerAddress } : { seller: takerAddress, buyer: maker };
}

export interface DirectoryOptions {
  /** The order id holding this htlc_hash (the orders read model), after it caught up with the store. */
  readonly orderByHtlcHash: (htlcHash: string) => Promise<string | null>;
}

/** What the follower asks about orders, answered from the order's own stream (never a stale copy). */
export function createOrderDirectory(deps: Pick<LedgerDeps, 'store' | 'orderCache'> & { quoteLeg: QuoteLegDeps }, options: DirectoryOptions): OrderDirectory {
  return {
    async expectedLock(orderId) {
      const { state } = await loadOrder(deps.store, orderId, deps.orderCache);
      if (state.status === 'none' || state.quoteLeg === null) return null;
      const asset = chainAssetFor(deps.quoteLeg, state.pair);
      const addresses = quoteAddresses(state);
      const taker = takerOf(state);
      const htlcHash = state.status === 'settlement_recovery' ? state.parked.htlcHash : state.htlcHash;
      if (asset === null || addresses === null || taker === null || htlcHash === null) return null;
      const terms = {
        orderId, htlcHash, sellerQuoteAddress: addresses.seller, buyerQuoteAddress: addresses.buyer, asset: asset.asset, token: asset.token,
        totalQuoteNano: state.totalQuoteNano, matchedAtSeconds: BigInt(Math.floor(Date.parse(taker.matchedAt) / 1000)),
        // The held escrow job's expiry less the release slack bounds T (custody.ts); null before the hold.
        latestTimelockSeconds: latestTimelockSecondsOf(deps.quoteLeg, state),
      };
      const windows = { lockWindowSeconds: BigInt(deps.quoteLeg.lockWindowSeconds), claimWindowMaxSeconds: BigInt(deps.quoteLeg.claimWindowMaxSeconds) };
      // lock_by as recorded at match, not as today's configuration would compute it.
      return { ...expectedLock({ htlcAddress: deps.quoteLeg.htlcAddress }, terms, windows), lockBySeconds: BigInt(Math.floor(Date.parse(state.quoteLeg.lockBy) / 1000)) };
    },
    orderByHashlock: (hashlock: Hex) => options.orderByHtlcHash(hashlock.replace(/^0x/, '').toLowerCase()),
  };
}

/**
 * What the chain follower reports about orders: the facts a quote-leg decider acts on. Each carries
 * `key` = `<chainId>:<txHash>:<logIndex>`, the identity of the log it comes from, so the sink appends it
 * to the order's stream at most once however often it is delivered (restart, rescan after a reorg).
 */
import type { Address, Hash, Hex } from 'viem';
import type { BlockRef, LogPosition } from '../gateways/quoteChain.js';
import type { ExpectedLock, LockVerdict } from './verifyLock.js';

export const observationKey = (chainId: number, position: Pick<LogPosition, 'txHash' | 'logIndex'>): string =>
  `${chainId}:${position.txHash.toLowerCase()}:${position.logIndex}`;

interface ObservationBase {
  readonly key: string;
  readonly chainId: number;
  readonly orderId: string;
  readonly swapId: Hex;
  readonly txHash: Hash;
  readonly logIndex: number;
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
  /** The log's block time, Unix seconds: chain time, never the ledger's clock. */
  readonly blockTimeSeconds: bigint;
}

/** A SwapCreated naming the order: verified, or rejected with its stable reason. */
export interface LockSeen extends ObservationBase {
  readonly kind: 'lock_seen';
  readonly verdict: LockVerdict;
  /** The lock's hashlock, lowercase 0x hex (rejected locks may carry another order's). */
  readonly hashlock: Hex;
  readonly buyer: Address;
  readonly seller: Address;
  readonly amount: bigint;
  readonly timelockSeconds: bigint;
}

/** A SwapClaimed whose preimage hashes to the order's htlc_hash (whatever the swap): a reveal. */
export interface ClaimSeen extends ObservationBase {
  readonly kind: 'claim_seen';
  /** The secret itself: store it encrypted, never log it. */
  readonly preimage: Hex;
  /** sha256 of the preimage's 32 bytes, lowercase 0x hex. */
  readonly hashlock: Hex;
}

/** A SwapRefunded of a swap that carried the order's hashlock. */
export interface RefundSeen extends ObservationBase {
  readonly kind: 'refund_seen';
  readonly hashlock: Hex;
}

export type ChainObservation = LockSeen | ClaimSeen | RefundSeen;

/** Where observations go: the composition root appends them to the order's stream (idempotently by key). */
export interface ObservationSink {
  /** May throw: the follower then stops the pass and delivers the same observation again next time. */
  onObservation(observation: ChainObservation): void | Promise<void>;
  /**
   * A delivered observation whose log a rescan no longer finds at its block: `recorded` when the
   * order forgot it (or never had it), `acted_on` when the ledger already acted on it irrevocably (an
   * alert). May throw like onObservation: the follower then stops and compares the range again next pass.
   */
  onReorged?(gone: ReorgedObservation): Promise<'recorded' | 'acted_on'>;
  /** Every finalized block the follower has fully processed: chain time for the timelock rules. */
  onFinalized?(block: BlockRef): void | Promise<void>;
}

/** A delivered observation whose log is gone from the canonical chain. */
export interface ReorgedObservation {
  readonly key: string;
  readonly chainId: number;
  readonly orderId: string;
  readonly kind: ChainObservation['kind'];
  readonly swapId: Hex;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
}

/** What the follower asks the ledger about orders; null = not an order with a chain-verified quote leg. */
export interface OrderDirectory {
  /** The terms a lock for this order must meet (ids, addresses, token, amount, windows). */
  expectedLock(orderId: string): Promise<ExpectedLock | null>;
  /** The order that carries this htlc_hash (hashlocks are used by one order only). */
  orderByHashlock(hashlock: Hex): Promise<string | null>;
}

/** An alert the follower raises: a reorganisation, a range it could not read completely, a wrong chain, a clock astray. */
export type FollowerAlert =
  | { readonly code: 'reorg_detected'; readonly chainId: number; readonly blockNumber: bigint; readonly checkpointHash: Hash; readonly chainHash: Hash | null; readonly rescanFrom: bigint }
  | { readonly code: 'range_capped'; readonly chainId: number; readonly fromBlock: bigint; readonly toBlock: bigint }
  | { readonly code: 'wrong_chain_id'; readonly chainId: number; readonly reported: number }
  /** A reorganised observation the ledger had already acted on irrevocably: never undone, an operator looks. */
  | { readonly code: 'reorged_observation_acted_on'; readonly chainId: number; readonly orderId: string; readonly key: string; readonly blockNumber: bigint }
  /** The ledger's clock minus the chain head's time, beyond the limit. */
  | { readonly code: 'clock_drift'; readonly chainId: number; readonly driftSeconds: number };

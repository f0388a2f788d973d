/**
 * The port to the quote chain (an EVM chain holding the buyer's HTLC lock). Reads only: the ledger
 * never sends a transaction there. Like the node port, an adapter never throws for a chain or network
 * failure; it classifies it:
 *  - ok: here is the answer, as the RPC node gave it.
 *  - rejected: the RPC node answered and refused (a JSON-RPC error, a 4xx, a capped log range), or no
 *    connection was made. Asking the same thing again unchanged will not help.
 *  - unknown: no usable answer (timeout, 5xx, reset, an answer that does not parse). The caller looks
 *    again later; it never guesses, and a follower never moves past such a read.
 */
import type { Address, Hash, Hex } from 'viem';

export type ChainOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'rejected'; readonly reason: ChainFailureReason; readonly detail: string }
  | { readonly kind: 'unknown'; readonly reason: ChainFailureReason; readonly detail: string };

/** Stable reason codes, for metrics and logs. */
export type ChainFailureReason =
  | 'timeout'
  | 'http_5xx'
  | 'http_4xx'
  | 'never_connected'
  | 'network'
  | 'rpc_error'
  /** A view call that reverted, or found no code: the contract's own answer. */
  | 'reverted'
  | 'range_capped'
  | 'malformed';

/** A block as the ledger needs it: chain time and the hash that pins it against a reorganisation. */
export interface BlockRef {
  readonly number: bigint;
  readonly hash: Hash;
  readonly parentHash: Hash;
  readonly timestampSeconds: bigint;
}

/** Where a log sits on the chain: (chainId, txHash, logIndex) is its identity. */
export interface LogPosition {
  readonly address: Address;
  readonly blockNumber: bigint;
  readonly blockHash: Hash;
  readonly txHash: Hash;
  readonly logIndex: number;
}

/** What a swap was created with: the same in its `SwapCreated` log and in `getSwap`. */
export interface SwapTerms {
  readonly buyer: Address;
  readonly seller: Address;
  /** The zero address for ETH. */
  readonly token: Address;
  readonly amount: bigint;
  readonly hashlock: Hex;
  /** T, absolute Unix seconds. */
  readonly timelock: bigint;
  readonly rtcOrderId: string;
}

/** `getSwap` as the contract returns it. */
export interface SwapState extends SwapTerms {
  readonly claimed: boolean;
  readonly refunded: boolean;
}

export interface SwapCreatedLog extends LogPosition, SwapTerms {
  readonly event: 'SwapCreated';
  readonly swapId: Hex;
}

export interface SwapClaimedLog extends LogPosition {
  readonly event: 'SwapClaimed';
  readonly swapId: Hex;
  /** A secret: never logged, stored only encrypted. */
  readonly preimage: Hex;
}

export interface SwapRefundedLog extends LogPosition {
  readonly event: 'SwapRefunded';
  readonly swapId: Hex;
}

export type HtlcLog = SwapCreatedLog | SwapClaimedLog | SwapRefundedLog;

/** One log range's answer: the HTLC events in chain order, and how many logs at the address did not decode. */
export interface HtlcLogPage {
  readonly logs: readonly HtlcLog[];
  readonly undecodable: number;
}

/** An ERC-20 `Transfer` in a transaction. */
export interface TransferLog {
  readonly token: Address;
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly logIndex: number;
}

/** Inclusive block range; the adapter refuses one longer than its configured maximum. */
export interface BlockRange {
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
}

/** How the ledger decides a block is final: the chain's `finalized` tag, or N confirmations (1 = the head itself). */
export type Finality = { readonly kind: 'tag' } | { readonly kind: 'confirmations'; readonly count: number };

export interface QuoteChain {
  chainId(): Promise<ChainOutcome<number>>;
  headBlock(): Promise<ChainOutcome<BlockRef>>;
  /** The newest block the ledger may act on, by the configured finality. */
  finalizedBlock(): Promise<ChainOutcome<BlockRef>>;
  /** ok(null) when the chain has no such block (yet). */
  blockByNumber(blockNumber: bigint): Promise<ChainOutcome<BlockRef | null>>;
  /** The swap as stored at that block; ok(null) for a swap id the contract does not know there. */
  getSwap(swapId: Hex, blockNumber: bigint): Promise<ChainOutcome<SwapState | null>>;
  /** The contract's SwapCreated/SwapClaimed/SwapRefunded logs in the range (eth_getLogs). */
  htlcLogs(range: BlockRange): Promise<ChainOutcome<HtlcLogPage>>;
  /** Only SwapCreated logs naming this seller (the indexed topic): the final look-up before a lapse or refund. */
  swapsCreatedForSeller(range: BlockRange, seller: Address): Promise<ChainOutcome<HtlcLogPage>>;
  /** The token's Transfer logs in a transaction (from its receipt); ok(null) when there is no such transaction. */
  transferLogs(txHash: Hash, token: Address): Promise<ChainOutcome<readonly TransferLog[] | null>>;
  ethBalance(address: Address, blockNumber: bigint): Promise<ChainOutcome<bigint>>;
  tokenBalance(token: Address, address: Address, blockNumber: bigint): Promise<ChainOutcome<bigint>>;
  /** keccak256 of the runtime code at the address; ok(null) when there is no code. */
  codeHash(address: Address, blockNumber?: bigint): Promise<ChainOutcome<Hash | null>>;
  tokenDecimals(token: Address): Promise<ChainOutcome<number>>;
  /** The adapter's log-range limit, so a follower can size its ranges. */
  readonly maxBlockRange: bigint;
}

export const chainOk = <T>(value: T): ChainOutcome<T> => ({ kind: 'ok', value });

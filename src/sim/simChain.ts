/**
 * The simulated quote chain: an in-memory EVM chain with the project's HTLC rules (createSwap,
 * claim before T with the preimage, refund from T on by the buyer), blocks stamped by the simulated
 * clock, and the read faults the seed injects. It implements the QuoteChain port, so the real chain
 * follower, lock verification and final look-up read it exactly as they read anvil or a real RPC.
 *
 * State is derived: every block keeps its transactions, and logs and swap states are replayed from
 * them, so a reorganisation (blocks replaced, unfinalized transactions dropped back to the pool and
 * mined again later) is just new blocks followed by a replay.
 */
import { createHash } from 'node:crypto';
import { getAddress, sha256 } from 'viem';
import type { Address, Hash, Hex } from 'viem';
import type {
  BlockRange, BlockRef, ChainFailureReason, ChainOutcome, HtlcLog, HtlcLogPage, QuoteChain, SwapCreatedLog, SwapState, SwapTerms, TransferLog,
} from '../gateways/quoteChain.js';
import type { Prng } from './prng.js';

export const SIM_CHAIN_ID = 31_337;
export const SIM_HTLC: Address = getAddress(`0x${'ab'.repeat(20)}`);
export const SIM_USDC: Address = getAddress(`0x${'cd'.repeat(20)}`);
const ETH: Address = '0x0000000000000000000000000000000000000000';
const MIN_TIMELOCK_SECONDS = 3_600n;
const MAX_TIMELOCK_SECONDS = 7n * 86_400n;

export type SimTxCall =
  | { readonly kind: 'lock'; readonly terms: SwapTerms }
  | { readonly kind: 'claim'; readonly swapId: Hex; readonly preimage: Hex }
  | { readonly kind: 'refund'; readonly swapId: Hex };

export interface SimTx {
  readonly hash: Hash;
  readonly from: Address;
  readonly call: SimTxCall;
}

interface SimBlock {
  readonly number: bigint;
  readonly hash: Hash;
  readonly parentHash: Hash;
  readonly timestampSeconds: bigint;
  readonly txs: readonly SimTx[];
}

interface SwapRecord {
  readonly created: SwapCreatedLog;
  claimedAt: bigint | null;
  refundedAt: bigint | null;
}

/** The chain faults the seed draws, per read. */
export const CHAIN_FAULTS = ['chain_read_unknown', 'chain_logs_capped', 'chain_finalized_lags', 'chain_reorg'] as const;
export type ChainFault = (typeof CHAIN_FAULTS)[number];

export interface SimChainOptions {
  readonly prng: Prng;
  readonly genesisSeconds: bigint;
  /** N confirmations make a block final (1 = the head itself). */
  readonly confirmations: number;
  /** Probability that one read meets a fault (0 once faults stop). */
  faultRate: number;
  readonly onFault: (fault: ChainFault, detail: string) => void;
}

const digest = (text: string): Hash => `0x${createHash('sha256').update(text).digest('hex')}`;

export class SimChain implements QuoteChain {
  readonly maxBlockRange = 40n;
  private blocks: SimBlock[] = [];
  private pool: SimTx[] = [];
  private nonce = 0;
  private reorgs = 0;
  private logsByBlock: HtlcLog[][] = [];
  private swaps = new Map<Hex, SwapRecord>();
  private txOutcome = new Map<Hash, { blockNumber: bigint; logs: HtlcLog[] }>();

  constructor(readonly options: SimChainOptions) {
    this.blocks.push({ number: 0n, hash: digest('genesis'), parentHash: digest('none'), timestampSeconds: options.genesisSeconds, txs: [] });
    this.replay();
  }

  // ---- what actors do ----

  /** A transaction into the pool; it takes effect (or reverts) when a block is mined. */
  submit(from: Address, call: SimTxCall): Hash {
    const hash = digest(`tx:${this.nonce++}:${from}:${call.kind}`);
    this.pool.push({ hash, from, call });
    return hash;
  }

  /** Mines one block with the pool at this time (never earlier than its parent). */
  mine(nowSeconds: bigint): void {
    const parent = this.head();
    const timestampSeconds = nowSeconds > parent.timestampSeconds ? nowSeconds : parent.timestampSeconds + 1n;
    const number = parent.number + 1n;
    this.blocks.push({ number, parentHash: parent.hash, timestampSeconds, txs: this.pool, hash: digest(`block:${number}:${parent.hash}:${this.reorgs}`) });
    this.pool = [];
    this.replay();
  }

  /**
   * Replaces the last `depth` blocks. A replaced block at or below the finalized one keeps its
   * transactions in order (only its hash changes: the follower must notice and rescan, yet nothing
   * final is undone); above it, transactions may drop back to the pool and land in a later block.
   */
  reorg(depth: number): void {
    const keepFrom = this.blocks.length - depth;
    if (keepFrom < 1) return;
    const finalized = this.finalNumber();
    this.reorgs += 1;
    const replaced = this.blocks.splice(keepFrom);
    for (const old of replaced) {
      const parent = this.head();
      const final = old.number <= finalized;
      const kept = final ? old.txs : old.txs.filter(() => !this.options.prng.chance(0.4));
      if (!final) this.pool.push(...old.txs.filter((t) => !kept.includes(t)));
      this.blocks.push({ ...old, parentHash: parent.hash, txs: kept, hash: digest(`block:${old.number}:${parent.hash}:${this.reorgs}`) });
    }
    this.replay();
  }

  // ---- what the simulator's checks and actors read (no faults) ----

  head(): SimBlock {
    return this.blocks[this.blocks.length - 1] as SimBlock;
  }

  finalNumber(): bigint {
    const n = this.head().number - BigInt(this.options.confirmations - 1);
    return n < 0n ? 0n : n;
  }

  finalTimeSeconds(): bigint {
    return (this.blocks[Number(this.finalNumber())] as SimBlock).timestampSeconds;
  }

  /** Every swap on the canonical chain (mined, final or not). */
  allSwaps(): readonly { swapId: Hex; terms: SwapTerms; createdAt: bigint; claimed: boolean; refunded: boolean }[] {
    return [...this.swaps].map(([swapId, r]) => ({ swapId, terms: r.created, createdAt: r.created.blockNumber, claimed: r.claimedAt !== null, refunded: r.refundedAt !== null }));
  }

  /** Pending transactions (not mined yet). */
  pending(): readonly SimTx[] {
    return this.pool;
  }

  // ---- replay: logs and swap states from the blocks' transactions ----

  private replay(): void {
    this.swaps = new Map();
    this.txOutcome = new Map();
    this.logsByBlock = this.blocks.map((block) => {
      const logs: HtlcLog[] = [];
      for (const tx of block.txs) {
        const produced = this.apply(block, tx, logs.length);
        logs.push(...produced);
        this.txOutcome.set(tx.hash, { blockNumber: block.number, logs: produced });
      }
      return logs;
    });
  }

  /** One transaction under the contract's rules; a revert produces no log. */
  private apply(block: SimBlock, tx: SimTx, logIndex: number): HtlcLog[] {
    const at = { address: SIM_HTLC, blockNumber: block.number, blockHash: block.hash, txHash: tx.hash, logIndex };
    const call = tx.call;
    if (call.kind === 'lock') {
      const t = call.terms;
      if (t.timelock < block.timestampSeconds + MIN_TIMELOCK_SECONDS || t.timelock > block.timestampSeconds + MAX_TIMELOCK_SECONDS || t.amount <= 0n) return [];
      const swapId = digest(`swap:${tx.hash}`) as Hex;
      const created: SwapCreatedLog = { ...at, ...t, buyer: tx.from, event: 'SwapCreated', swapId };
      this.swaps.set(swapId, { created, claimedAt: null, refundedAt: null });
      return [created];
    }
    const swap = this.swaps.get(call.swapId);
    if (swap === undefined || swap.claimedAt !== null || swap.refundedAt !== null) return [];
    if (call.kind === 'claim') {
      if (tx.from !== swap.created.seller || block.timestampSeconds >= swap.created.timelock) return [];
      if (sha256(call.preimage).toLowerCase() !== swap.created.hashlock.toLowerCase()) return [];
      swap.claimedAt = block.number;
      return [{ ...at, event: 'SwapClaimed', swapId: call.swapId, preimage: call.preimage }];
    }
    if (tx.from !== swap.created.buyer || block.timestampSeconds < swap.created.timelock) return [];
    swap.refundedAt = block.number;
    return [{ ...at, event: 'SwapRefunded', swapId: call.swapId }];
  }

  // ---- the QuoteChain port, with the seed's faults ----

  private fault<T>(what: string, read: () => ChainOutcome<T>): Promise<ChainOutcome<T>> {
    const opts = this.options;
    if (opts.faultRate > 0 && opts.prng.chance(opts.faultRate / 2)) {
      opts.onFault('chain_read_unknown', what);
      const reason: ChainFailureReason = opts.prng.pick(['timeout', 'http_5xx', 'network'] as const);
      return Promise.resolve({ kind: 'unknown', reason, detail: `simulated ${reason}` });
    }
    return Promise.resolve(read());
  }

  private ref(block: SimBlock): BlockRef {
    return { number: block.number, hash: block.hash, parentHash: block.parentHash, timestampSeconds: block.timestampSeconds };
  }

  chainId(): Promise<ChainOutcome<number>> {
    return this.fault('chain id', () => ({ kind: 'ok', value: SIM_CHAIN_ID }));
  }

  headBlock(): Promise<ChainOutcome<BlockRef>> {
    return this.fault('head block', () => ({ kind: 'ok', value: this.ref(this.head()) }));
  }

  /** A lagging RPC node (behind a balancer) answers an older finalized block: logs arrive late. */
  finalizedBlock(): Promise<ChainOutcome<BlockRef>> {
    return this.fault('finalized block', () => {
      let n = this.finalNumber();
      if (this.options.faultRate > 0 && n > 0n && this.options.prng.chance(this.options.faultRate)) {
        const lag = BigInt(this.options.prng.range(1, 4));
        n = n > lag ? n - lag : 0n;
        this.options.onFault('chain_finalized_lags', `finalized answered as block ${n}`);
      }
      return { kind: 'ok', value: this.ref(this.blocks[Number(n)] as SimBlock) };
    });
  }

  blockByNumber(blockNumber: bigint): Promise<ChainOutcome<BlockRef | null>> {
    return this.fault('block', () => {
      const block = blockNumber >= 0n ? this.blocks[Number(blockNumber)] : undefined;
      return { kind: 'ok', value: block === undefined ? null : this.ref(block) };
    });
  }

  getSwap(swapId: Hex, blockNumber: bigint): Promise<ChainOutcome<SwapState | null>> {
    return this.fault('getSwap', () => {
      const r = this.swaps.get(swapId);
      if (r === undefined || r.created.blockNumber > blockNumber) return { kind: 'ok', value: null };
      const { buyer, seller, token, amount, hashlock, timelock, rtcOrderId } = r.created;
      const value: SwapState = {
        buyer, seller, token, amount, hashlock, timelock, rtcOrderId,
        claimed: r.claimedAt !== null && r.claimedAt <= blockNumber,
        refunded: r.refundedAt !== null && r.refundedAt <= blockNumber,
      };
      return { kind: 'ok', value };
    });
  }

  private logsIn(range: BlockRange, keep: (log: HtlcLog) => boolean): ChainOutcome<HtlcLogPage> {
    if (range.toBlock - range.fromBlock + 1n > this.maxBlockRange) return { kind: 'rejected', reason: 'range_capped', detail: 'over the limit' };
    // An RPC that caps eth_getLogs at fewer blocks than it advertises, now and then.
    if (this.options.faultRate > 0 && range.toBlock > range.fromBlock && this.options.prng.chance(this.options.faultRate)) {
      this.options.onFault('chain_logs_capped', `eth_getLogs ${range.fromBlock}..${range.toBlock} refused as too wide`);
      return { kind: 'rejected', reason: 'range_capped', detail: 'simulated cap' };
    }
    const logs: HtlcLog[] = [];
    for (let n = range.fromBlock; n <= range.toBlock && n < BigInt(this.blocks.length); n++) logs.push(...(this.logsByBlock[Number(n)] ?? []).filter(keep));
    return { kind: 'ok', value: { logs, undecodable: 0 } };
  }

  htlcLogs(range: BlockRange): Promise<ChainOutcome<HtlcLogPage>> {
    return this.fault('eth_getLogs', () => this.logsIn(range, () => true));
  }

  swapsCreatedForSeller(range: BlockRange, seller: Address): Promise<ChainOutcome<HtlcLogPage>> {
    return this.fault('eth_getLogs by seller', () => this.logsIn(range, (l) => l.event === 'SwapCreated' && l.seller.toLowerCase() === seller.toLowerCase()));
  }

  transferLogs(txHash: Hash, token: Address): Promise<ChainOutcome<readonly TransferLog[] | null>> {
    return this.fault('receipt', () => {
      const outcome = this.txOutcome.get(txHash);
      if (outcome === undefined) return { kind: 'ok', value: null };
      const created = outcome.logs.find((l): l is SwapCreatedLog => l.event === 'SwapCreated');
      if (created === undefined || created.token.toLowerCase() !== token.toLowerCase() || token === ETH) return { kind: 'ok', value: [] };
      return { kind: 'ok', value: [{ token, from: created.buyer, to: SIM_HTLC, value: created.amount, logIndex: created.logIndex + 1 }] };
    });
  }

  ethBalance(): Promise<ChainOutcome<bigint>> {
    return this.fault('balance', () => ({ kind: 'ok', value: 10n ** 24n }));
  }

  tokenBalance(): Promise<ChainOutcome<bigint>> {
    return this.fault('token balance', () => ({ kind: 'ok', value: 10n ** 15n }));
  }

  codeHash(): Promise<ChainOutcome<Hash | null>> {
    return this.fault('code', () => ({ kind: 'ok', value: digest('htlc code') }));
  }

  tokenDecimals(token: Address): Promise<ChainOutcome<number>> {
    return this.fault('decimals', () =>
      token.toLowerCase() === SIM_USDC.toLowerCase() ? { kind: 'ok', value: 6 } : { kind: 'rejected', reason: 'rpc_error', detail: 'no decimals()' });
  }
}

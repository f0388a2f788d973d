/**
 * The EVM adapter of the QuoteChain port, on viem over JSON-RPC/HTTP. Every call is bounded by a
 * timeout, retried a bounded number of times while its outcome is unknown, classified (quoteChain.ts)
 * and counted in Prometheus by call and outcome. It reads only the configured HTLC contract's logs.
 */
import { Counter, type Registry } from 'prom-client';
import { createPublicClient, decodeEventLog, encodeEventTopics, getAddress, http, keccak256, numberToHex, parseAbi } from 'viem';
import type { Address, Hash, Hex, Log } from 'viem';
import { htlcArtifact } from '../contracts/artifacts.js';
import { classifyChainError } from './quoteChainErrors.js';
import { chainOk } from './quoteChain.js';
import type { BlockRange, BlockRef, ChainOutcome, Finality, HtlcLog, HtlcLogPage, QuoteChain, SwapState, TransferLog } from './quoteChain.js';

const ERC20_ABI = parseAbi([
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'function decimals() view returns (uint8)',
  'function balanceOf(address owner) view returns (uint256)',
]);
const HTLC_EVENTS = ['SwapCreated', 'SwapClaimed', 'SwapRefunded'] as const;
const htlcTopics = HTLC_EVENTS.map((eventName) => encodeEventTopics({ abi: htlcArtifact.abi, eventName })[0] as Hex);
const transferTopic = encodeEventTopics({ abi: ERC20_ABI, eventName: 'Transfer' })[0] as Hex;

export interface EvmQuoteChainOptions {
  /** LEDGER_EVM_RPC_URL. */
  readonly rpcUrl: string;
  /** LEDGER_HTLC_CONTRACT: the only address whose logs are read. */
  readonly htlcAddress: Address;
  /** LEDGER_EVM_FINALITY. */
  readonly finality: Finality;
  readonly registry: Registry;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
  /** Further attempts while the outcome is unknown (default 2). */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** The longest eth_getLogs range asked for (default 2,000 blocks). */
  readonly maxBlockRange?: bigint;
  /** A page with this many logs is taken as capped by the RPC node and refused (default 10,000). */
  readonly maxLogsPerRange?: number;
}

export function createEvmQuoteChain(options: EvmQuoteChainOptions): QuoteChain {
  const client = createPublicClient({ transport: http(options.rpcUrl, { timeout: options.timeoutMs ?? 10_000, retryCount: 0 }) });
  const calls = quoteChainCallCounter(options.registry);
  const retries = Math.max(0, options.retries ?? 2);
  const retryDelayMs = options.retryDelayMs ?? 200;
  const maxBlockRange = options.maxBlockRange ?? 2_000n;
  const maxLogs = options.maxLogsPerRange ?? 10_000;
  const htlc = getAddress(options.htlcAddress);

  /** One classified call: bounded retries while unknown, one metric count for the final outcome. */
  async function run<T>(call: string, read: () => Promise<T>, isLogCall = false): Promise<ChainOutcome<T>> {
    let outcome: ChainOutcome<T> = { kind: 'unknown', reason: 'network', detail: 'not attempted' };
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0) await sleep(retryDelayMs * attempt);
      try {
        outcome = chainOk(await read());
      } catch (error) {
        outcome = classifyChainError(error, isLogCall);
      }
      if (outcome.kind !== 'unknown') break;
    }
    calls.inc({ call, outcome: outcome.kind, reason: outcome.kind === 'ok' ? '' : outcome.reason });
    return outcome;
  }

  const block = async (tag: 'latest' | 'finalized' | bigint): Promise<BlockRef | null> => {
    const raw = typeof tag === 'bigint' ? await client.getBlock({ blockNumber: tag }).catch(noBlock) : await client.getBlock({ blockTag: tag });
    return raw === null ? null : toBlockRef(raw);
  };

  const logs = (call: string, range: BlockRange, topics: (Hex | Hex[] | null)[]): Promise<ChainOutcome<HtlcLogPage>> => {
    const size = range.toBlock - range.fromBlock + 1n;
    if (size < 1n || size > maxBlockRange) {
      calls.inc({ call, outcome: 'rejected', reason: 'range_capped' });
      return Promise.resolve({ kind: 'rejected', reason: 'range_capped', detail: `range of ${size} blocks, at most ${maxBlockRange}` });
    }
    return run(call, async () => {
      const raw = (await client.request({
        method: 'eth_getLogs',
        params: [{ address: htlc, fromBlock: numberToHex(range.fromBlock), toBlock: numberToHex(range.toBlock), topics }],
      })) as Log[];
      // A full page may be a page the RPC node cut short: never treat it as the whole range.
      if (raw.length >= maxLogs) throw new RangeCappedError(raw.length);
      return decodeHtlcLogs(raw, htlc);
    }, true);
  };

  return {
    maxBlockRange,
    chainId: () => run('chain_id', () => client.getChainId()),
    headBlock: () => run('head_block', async () => (await block('latest')) as BlockRef),
    finalizedBlock: () =>
      run('finalized_block', async () => {
        if (options.finality.kind === 'tag') return (await block('finalized')) as BlockRef;
        const head = await client.getBlockNumber({ cacheTime: 0 });
        const target = head - BigInt(options.finality.count - 1);
        const found = await block(target < 0n ? 0n : target);
        if (found === null) throw new Error('finalized block vanished between two reads');
        return found;
      }),
    blockByNumber: (blockNumber) => run('block', () => block(blockNumber)),
    getSwap: (swapId, blockNumber) =>
      run('get_swap', async () =>
        toSwapState(await client.readContract({ address: htlc, abi: htlcArtifact.abi, functionName: 'getSwap', args: [swapId], blockNumber })),
      ),
    htlcLogs: (range) => logs('htlc_logs', range, [htlcTopics]),
    swapsCreatedForSeller: (range, seller) =>
      logs('seller_swaps', range, encodeEventTopics({ abi: htlcArtifact.abi, eventName: 'SwapCreated', args: { seller } }) as Hex[]),
    transferLogs: (txHash, token) =>
      run('transfer_logs', async () => {
        const receipt = await client.getTransactionReceipt({ hash: txHash }).catch(noReceipt);
        return receipt === null ? null : decodeTransfers(receipt.logs, getAddress(token));
      }),
    ethBalance: (address, blockNumber) => run('eth_balance', () => client.getBalance({ address, blockNumber })),
    tokenBalance: (token, address, blockNumber) =>
      run('token_balance', () => client.readContract({ address: token, abi: ERC20_ABI, functionName: 'balanceOf', args: [address], blockNumber })),
    codeHash: (address, blockNumber) =>
      run('code_hash', async () => {
        const code = await client.getCode(blockNumber === undefined ? { address } : { address, blockNumber });
        return code === undefined || code === '0x' ? null : keccak256(code);
      }),
    tokenDecimals: (token) => run('token_decimals', () => client.readContract({ address: token, abi: ERC20_ABI, functionName: 'decimals' })),
  };
}

export class RangeCappedError extends Error {
  override name = 'RangeCappedError';
  constructor(readonly count: number) {
    super(`eth_getLogs returned ${count} logs, the cap: the range may be incomplete`);
  }
}

export function quoteChainCallCounter(registry: Registry): Counter<'call' | 'outcome' | 'reason'> {
  const existing = registry.getSingleMetric('otc_ledger_quote_chain_calls_total');
  if (existing) return existing as Counter<'call' | 'outcome' | 'reason'>;
  return new Counter({
    name: 'otc_ledger_quote_chain_calls_total',
    help: 'Quote-chain RPC reads, by call and outcome (ok, rejected, unknown) with the failure reason',
    labelNames: ['call', 'outcome', 'reason'] as const,
    registers: [registry],
  });
}

/** Decodes the contract's three events; anything else at the address is counted, not trusted. */
export function decodeHtlcLogs(raw: readonly Log[], htlc: Address): HtlcLogPage {
  const out: HtlcLog[] = [];
  let undecodable = 0;
  for (const log of raw) {
    const decoded = decodeHtlcLog(log, htlc);
    if (decoded === null) undecodable += 1;
    else out.push(decoded);
  }
  out.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
  return { logs: out, undecodable };
}

function decodeHtlcLog(log: Log, htlc: Address): HtlcLog | null {
  if (log.removed || log.blockNumber === null || log.blockHash === null || log.transactionHash === null || log.logIndex === null) return null;
  if (getAddress(log.address) !== htlc) return null;
  const position = {
    address: htlc,
    blockNumber: BigInt(log.blockNumber),
    blockHash: log.blockHash,
    txHash: log.transactionHash,
    logIndex: Number(log.logIndex),
  };
  let decoded;
  try {
    decoded = decodeEventLog({ abi: htlcArtifact.abi, data: log.data, topics: log.topics as [Hex, ...Hex[]], strict: true });
  } catch {
    return null;
  }
  switch (decoded.eventName) {
    case 'SwapCreated':
      return { event: 'SwapCreated', ...position, ...decoded.args };
    case 'SwapClaimed':
      return { event: 'SwapClaimed', ...position, ...decoded.args };
    case 'SwapRefunded':
      return { event: 'SwapRefunded', ...position, ...decoded.args };
  }
}

function decodeTransfers(logs: readonly Log[], token: Address): TransferLog[] {
  const out: TransferLog[] = [];
  for (const log of logs) {
    if (getAddress(log.address) !== token || log.topics[0] !== transferTopic || log.logIndex === null) continue;
    try {
      const { args } = decodeEventLog({ abi: ERC20_ABI, eventName: 'Transfer', data: log.data, topics: log.topics as [Hex, ...Hex[]], strict: true });
      out.push({ token, from: args.from, to: args.to, value: args.value, logIndex: Number(log.logIndex) });
    } catch {
      // A log that claims the Transfer topic but does not decode moves nothing the ledger can count.
    }
  }
  return out;
}

function toBlockRef(raw: { number: bigint | null; hash: Hash | null; parentHash: Hash; timestamp: bigint }): BlockRef {
  if (raw.number === null || raw.hash === null) throw new Error('pending block where a mined one was asked for');
  return { number: raw.number, hash: raw.hash, parentHash: raw.parentHash, timestampSeconds: raw.timestamp };
}

function toSwapState(raw: readonly [Address, Address, Address, bigint, Hex, bigint, boolean, boolean, string]): SwapState | null {
  const [buyer, seller, token, amount, hashlock, timelock, claimed, refunded, rtcOrderId] = raw;
  if (BigInt(buyer) === 0n) return null;
  return { buyer, seller, token, amount, hashlock, timelock, claimed, refunded, rtcOrderId };
}

/** viem throws BlockNotFoundError / TransactionReceiptNotFoundError for "none": that is an answer, not a failure. */
const noBlock = (error: unknown): null => {
  if (error instanceof Error && error.name === 'BlockNotFoundError') return null;
  throw error;
};
const noReceipt = (error: unknown): null => {
  if (error instanceof Error && error.name === 'TransactionReceiptNotFoundError') return null;
  throw error;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * End-to-end helpers for the quote leg with orders: a ledger started through the real composition
 * root in `evm` mode, following an anvil the test owns (through the fault proxy, so RPC faults reach
 * the ledger's real gateway), and the parties' moves over real HTTP (place, match, confirm) and on the
 * real chain (lock, claim, refund) with viem. The chain outlives the ledger, so a test can restart the
 * ledger, run two on one data dir, or point it at a lagging node.
 */
import type { Address, Hex } from 'viem';
import { htlcArtifact } from '../../src/contracts/artifacts.js';
import type { RunningLedger, StartOptions } from '../../src/main.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY } from '../../src/sandbox/index.js';
import {
  baseEnv, confirmBody, fundViaLedger, generateWallet, get, matchBody, placeBuyBody, placeSellBody, post, startFromEnv, until,
  type ClientWallet, type TestPair,
} from './support.js';

export interface ChainLedgerSettings {
  /** The RPC URL the ledger reads (the fault proxy's). */
  readonly rpcUrl: string;
  readonly chain: SandboxChain;
  /** Another HTLC deployment (address and runtime code hash) than the sandbox chain's. */
  readonly htlc?: { readonly address: Address; readonly codeHash: Hex };
  /** Another 6-decimal token as the pair's USDC. */
  readonly usdcToken?: Address;
  /** A sandbox node that outlives the ledger (a restart, two ledgers); default: the embedded one. */
  readonly nodeUrl?: string;
  readonly env?: Record<string, string>;
  readonly start?: Omit<StartOptions, 'quoteChain'>;
}

/** A ledger in evm mode on the test's chain, finality 1 confirmation, sandbox node paying at once. */
export async function startChainLedger(dataDir: string, s: ChainLedgerSettings): Promise<RunningLedger> {
  const ledger = await startFromEnv(baseEnv(dataDir, {
    LEDGER_QUOTE_CHAIN: 'evm', LEDGER_EVM_RPC_URL: s.rpcUrl, LEDGER_EVM_CHAIN_ID: String(s.chain.chainId),
    LEDGER_HTLC_CONTRACT: s.htlc?.address ?? s.chain.htlcAddress, LEDGER_HTLC_CODE_HASH: s.htlc?.codeHash ?? s.chain.htlcCodeHash,
    LEDGER_USDC_TOKEN: s.usdcToken ?? s.chain.usdcAddress, LEDGER_EVM_FINALITY: '1',
    ...(s.nodeUrl === undefined ? {} : { RUSTCHAIN_NODE: s.nodeUrl, RC_ADMIN_KEY: DEFAULT_SANDBOX_ADMIN_KEY }), ...s.env,
  }), s.start);
  ledger.sandbox?.setAutoConfirm('immediate');
  return ledger;
}

export type Asset = 'usdc' | 'eth';
export type Side = 'sell' | 'buy';

export interface Trade {
  readonly orderId: string;
  readonly side: Side;
  readonly asset: Asset;
  /** The preimage, 64 hex without 0x (shown once to the seller). */
  readonly secret: string;
  readonly htlcHash: string;
  readonly seller: ClientWallet;
  readonly buyer: ClientWallet;
  readonly sellerQuote: Address;
  readonly buyerQuote: Address;
  /** What the buyer must lock, in the asset's base units. */
  readonly amount: bigint;
  /** The order resource's quote_leg at match. */
  readonly quoteLeg: Record<string, any>;
}

/** 10 RTC: at 0.1 USDC a unit that is 1 USDC (10^6 base units); at 0.001 ETH it is 0.01 ETH (10^16 wei). */
const PRICE: Record<Asset, { pair: TestPair; price: string; amount: bigint }> = {
  usdc: { pair: 'RTC/USDC', price: '0.1', amount: 1_000_000n },
  eth: { pair: 'RTC/ETH', price: '0.001', amount: 10n ** 16n },
};

export interface LockOverrides {
  readonly hashlock?: Hex;
  readonly amount?: bigint;
  readonly seller?: Address;
  readonly buyer?: Address;
  /** T relative to the chain head's time (default 2 h). */
  readonly timelockAfterSeconds?: bigint;
  /** Lock ETH on a USDC order or USDC on an ETH order. */
  readonly asset?: Asset;
}

/**
 * A ledger and a chain, and the moves of the two parties of a trade on each. `htlcAddress`: another
 * deployment the ledger follows; `nodeUrl`: where wallets are funded when the node is not embedded.
 */
/** Gives the buyer's quote address what a match checks it holds (quote_funds_missing): test USDC, or ETH. */
export type FundBuyer = (address: Address, amount: bigint, asset: Asset) => Promise<void>;

export function swapDesk(
  ledger: () => RunningLedger, chain: () => SandboxChain, htlcAddress: () => Address = () => chain().htlcAddress, nodeUrl?: () => string,
  fundBuyer: FundBuyer = (address, amount, asset) => (asset === 'eth' ? chain().fundEth(address, amount + 10n ** 18n) : chain().fundUsdc(address, amount)),
) {
  const url = (): string => ledger().url;
  const historyOf = async (orderId: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> =>
    (await get(url(), `/api/orders/${orderId}/history`)).body.events;
  const orderOf = async (orderId: string): Promise<Record<string, any>> => (await get(url(), `/api/orders/${orderId}`)).body.order;
  const typesOf = async (orderId: string): Promise<string[]> => (await historyOf(orderId)).map((e) => e.type);
  const untilEvent = (orderId: string, type: string, timeoutMs = 20_000) =>
    until(async () => (await typesOf(orderId)).includes(type), `${type} on ${orderId}`, timeoutMs);
  const untilRejections = (orderId: string, count: number, timeoutMs = 20_000) =>
    until(async () => (await typesOf(orderId)).filter((t) => t === 'QuoteLockRejected').length >= count, `${count} QuoteLockRejected on ${orderId}`, timeoutMs);
  const buyerQuote = (): Address => chain().devAddresses[1]!;
  const sellerQuote = (): Address => chain().devAddresses[2]!;

  /** Places an order of 10 RTC and matches it: a sell order (the maker sells) or a buy order (the maker buys). */
  async function matched(side: Side = 'sell', asset: Asset = 'usdc'): Promise<Trade> {
    const { pair, price, amount } = PRICE[asset];
    const [seller, buyer] = [generateWallet(), generateWallet()];
    await fundViaLedger(nodeUrl?.() ?? url(), seller);
    const [maker, makerQuote, taker, takerQuote] = side === 'sell'
      ? [seller, sellerQuote(), buyer, buyerQuote()] : [buyer, buyerQuote(), seller, sellerQuote()];
    const body = side === 'sell' ? placeSellBody(maker, '10', price, makerQuote, pair) : placeBuyBody(maker, '10', price, makerQuote, pair);
    const placed = await post(url(), '/api/orders', body);
    if (placed.status !== 201) throw new Error(`placing answered ${placed.status}: ${JSON.stringify(placed.body)}`);
    const orderId = placed.body.order.order_id as string;
    // At match the buyer's quote address must hold the amount at the finalized block (one confirmation).
    await fundBuyer(buyerQuote(), amount, asset);
    await chain().mine();
    const match = await post(url(), `/api/orders/${orderId}/match`, matchBody(taker, orderId, takerQuote));
    if (match.status !== 200) throw new Error(`matching answered ${match.status}: ${JSON.stringify(match.body)}`);
    const secret = (side === 'sell' ? placed.body.htlc_secret : match.body.htlc_secret) as string;
    return {
      orderId, side, asset, secret, htlcHash: match.body.order.htlc_hash as string, seller, buyer,
      sellerQuote: sellerQuote(), buyerQuote: buyerQuote(), amount, quoteLeg: match.body.order.quote_leg,
    };
  }

  /** The buyer locks the order's amount for the seller under the order's hashlock, T = head + 2 h, unless told otherwise. */
  async function lock(trade: Trade, o: LockOverrides = {}) {
    const amount = o.amount ?? trade.amount;
    const buyer = o.buyer ?? trade.buyerQuote;
    const asset = o.asset ?? trade.asset;
    const head = await chain().latestBlock();
    const request = {
      buyer, seller: o.seller ?? trade.sellerQuote, hashlock: o.hashlock ?? (`0x${trade.htlcHash}` as Hex),
      timelock: head.timestamp + (o.timelockAfterSeconds ?? 7_200n), orderId: trade.orderId, amount,
    };
    if (asset === 'eth') {
      await chain().fundEth(buyer, amount + 10n ** 18n);
      return lockEthAt(chain(), htlcAddress(), request);
    }
    await chain().fundUsdc(buyer, amount);
    return chain().lockUsdc(request);
  }

  const claim = (trade: Trade, swapId: Hex) => chain().claim(trade.sellerQuote, swapId, `0x${trade.secret}`);
  const confirm = (trade: Trade, by: ClientWallet, secret: string = trade.secret) =>
    post(url(), `/api/orders/${trade.orderId}/confirm`, confirmBody(by, trade.orderId, secret));

  return { historyOf, orderOf, typesOf, untilEvent, untilRejections, matched, lock, claim, confirm };
}

/** An ETH lock at a given HTLC (the sandbox's own lockEth knows only its deployment). */
async function lockEthAt(chain: SandboxChain, htlc: Address, r: { buyer: Address; seller: Address; hashlock: Hex; timelock: bigint; orderId: string; amount: bigint }) {
  if (htlc.toLowerCase() === chain.htlcAddress.toLowerCase()) return chain.lockEth(r);
  const client = chain.client;
  await client.impersonateAccount({ address: r.buyer });
  try {
    const hash = await client.writeContract({
      address: htlc, abi: htlcArtifact.abi, functionName: 'createSwapETH', args: [r.seller, r.hashlock, r.timelock, r.orderId],
      value: r.amount, account: r.buyer, chain: client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n,
    });
    const receipt = await client.waitForTransactionReceipt({ hash });
    return { txHash: hash, blockNumber: receipt.blockNumber, swapId: receipt.logs[0]!.topics[1] as Hex };
  } finally {
    await client.stopImpersonatingAccount({ address: r.buyer });
  }
}

export type SwapDesk = ReturnType<typeof swapDesk>;

/** The value of one series of a Prometheus text exposition, or null when absent. */
export async function metricValue(ledgerUrl: string, series: string): Promise<number | null> {
  const text = (await get(ledgerUrl, '/metrics')).body.raw as string;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Address } from 'viem';
import { facts } from '../support/orderFixtures.js';
import { createSecretBox } from '../../src/crypto/preimage.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import { createLedger, type Ledger } from '../../src/app/ledger.js';
import type { QuoteLegDeps } from '../../src/app/quoteLeg.js';
import { buyerFundsFrom } from '../../src/app/quoteFunds.js';
import { OrderRefused, type Pair } from '../../src/aggregates/order/index.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { startSandboxChain, type SandboxChain } from '../../src/sandbox/chain.js';
import { createMemoryLeases } from '../../src/settlement/leases.js';
import { statusOfCode } from '../../src/http/errorMap.js';
import { startFaultProxy, type FaultProxy } from './faultProxy.js';

/**
 * 409 quote_funds_missing (quote-chain.md, "Griefing"), on a real anvil: at match the buyer's quote
 * address must hold the order's amount at the finalized block; a chain that does not answer is 503
 * quote_chain_unavailable, never a guess. Nothing is written on a refusal.
 */
let chain: SandboxChain;
let proxy: FaultProxy;
let sandbox: SandboxServer;
let gateway: RustchainGateway;
let store: SqliteEventStore;
let ledger: Ledger;
let seller: ClientWallet;
let buyer: ClientWallet;
let makerEth: Address;
let funded: Address;
let empty: Address;
let seq = 0;

// 10 RTC at 0.1 USDC: 1 USDC = 1,000,000 base units; in ETH, 10^18 wei.
const AMOUNT = 10_000_000n;
const PRICE = 100_000_000n;

beforeAll(async () => {
  chain = await startSandboxChain();
  proxy = await startFaultProxy(chain.rpcUrl);
  [, makerEth, funded] = chain.devAddresses as [Address, Address, Address];
  empty = `0x${'e7'.repeat(20)}` as Address;
  await chain.fundUsdc(funded, 1_000_000n);
  const port = createEvmQuoteChain({
    rpcUrl: proxy.url, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry(),
    timeoutMs: 500, retries: 1, retryDelayMs: 10,
  });
  await chain.mine(1);
  const quoteLeg: QuoteLegDeps = {
    mode: 'sandbox', chainId: chain.chainId, htlcAddress: chain.htlcAddress, usdcToken: chain.usdcAddress,
    lockWindowSeconds: 1800, claimWindowMaxSeconds: 14_400, claimGuardSeconds: 1800, escrowReleaseSlackSeconds: 172_800,
    buyerFunds: buyerFundsFrom(port), finalizedTimeSeconds: () => null,
  };
  sandbox = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1000 }) });
  gateway = createRustchainGateway({ baseUrl: sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 2000 });
  store = new SqliteEventStore({ path: ':memory:' });
  ledger = createLedger({
    store, node: gateway, leases: createMemoryLeases(), settleWindowSeconds: 86_400, leaseTtlMs: 60_000,
    secretBox: createSecretBox('5e'.repeat(32)), now: () => new Date(), quoteLeg,
  });
  [seller, buyer] = [generateWallet(), generateWallet()];
  for (const w of [seller, buyer]) sandbox.node.fund(w.wallet, 1_000_000_000_000n);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
  await store?.close();
  await proxy?.close();
  await chain?.stop();
});
beforeEach(() => proxy.clear());

// A distinct timestamp per signature: the same message signed twice is the same signature, a replay.
let tick = 0;
const BASE_SECONDS = Math.floor(Date.now() / 1000) + 120;
const ts = () => BASE_SECONDS - ++tick;
const req = () => ({ requestId: `funds-${++seq}` });

async function placeSell(pair: Pair = 'RTC/USDC'): Promise<string> {
  const bound = { side: 'sell', pair, amount_micro_rtc: Number(AMOUNT), price_per_rtc_nano_quote: Number(PRICE), ttl_seconds: 86_400, eth_address: makerEth, htlc_hash: '' };
  const placed = await ledger.placeOrder({
    side: 'sell', pair, wallet: seller.wallet, amountMicroRtc: AMOUNT, pricePerRtcNanoQuote: PRICE, ttlSeconds: 86_400,
    ethAddress: makerEth, htlcHash: null, walletAuth: seller.sign('create_order', 'create_order', bound, ts()),
  }, req());
  return facts(placed.state).orderId as string;
}

function match(orderId: string, ethAddress: Address) {
  const auth = buyer.sign('match_order', orderId, { eth_address: ethAddress, htlc_hash: '' }, ts());
  return ledger.matchOrder(orderId, { wallet: buyer.wallet, ethAddress, htlcHash: null, walletAuth: auth }, req());
}

async function refusal(run: Promise<unknown>): Promise<string> {
  const error = await run.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(OrderRefused);
  return (error as OrderRefused).code;
}

describe('quote_funds_missing at match', () => {
  it('maps to 409, and an unanswered read to 503 quote_chain_unavailable', () => {
    expect(statusOfCode('quote_funds_missing')).toBe(409);
    expect(statusOfCode('quote_chain_unavailable')).toBe(503);
  });

  it('allows a buyer whose quote address holds the USDC amount at the finalized block', async () => {
    const orderId = await placeSell();
    expect((await match(orderId, funded)).state.status).toBe('matched');
  });

  it('refuses a buyer whose address holds less (409 quote_funds_missing), writing nothing', async () => {
    const orderId = await placeSell();
    const before = (await loadOrder(store, orderId)).version;
    expect(await refusal(match(orderId, empty))).toBe('quote_funds_missing');
    const after = await loadOrder(store, orderId);
    expect(after.state.status).toBe('open');
    expect(after.version).toBe(before);
  });

  it('checks the ETH balance for RTC/ETH: a dev account holds it, an empty address does not', async () => {
    const first = await placeSell('RTC/ETH');
    expect(await refusal(match(first, empty))).toBe('quote_funds_missing');
    expect((await match(first, funded)).state.status).toBe('matched');
  });

  it('answers 503 quote_chain_unavailable when the chain does not answer, and matches nothing', async () => {
    const orderId = await placeSell();
    proxy.inject('eth_call', 'http500', 10);
    expect(await refusal(match(orderId, funded))).toBe('quote_chain_unavailable');
    expect((await loadOrder(store, orderId)).state.status).toBe('open');
    proxy.clear();
    proxy.inject('eth_getBlockByNumber', 'hang', 10);
    expect(await refusal(match(orderId, funded))).toBe('quote_chain_unavailable');
    proxy.clear();
    expect((await match(orderId, funded)).state.status).toBe('matched');
  });

  it('a refusal the decider makes anyway comes first: no chain read for a self-match', async () => {
    const orderId = await placeSell();
    const calls = proxy.count('eth_call');
    const auth = seller.sign('match_order', orderId, { eth_address: funded, htlc_hash: '' }, ts());
    const run = ledger.matchOrder(orderId, { wallet: seller.wallet, ethAddress: funded, htlcHash: null, walletAuth: auth }, req());
    expect(await refusal(run)).toBe('self_match');
    expect(proxy.count('eth_call')).toBe(calls);
  });
});

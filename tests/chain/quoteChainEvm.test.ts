import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { zeroAddress } from 'viem';
import type { Address } from 'viem';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import type { ChainOutcome, QuoteChain } from '../../src/gateways/quoteChain.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import type { FaultProxy } from './faultProxy.js';
import { startFaultProxy } from './faultProxy.js';
import { freshOrderId, freshSecret, HOUR, useChainAndProxy } from './support.js';

let chain: SandboxChain;
let proxy: FaultProxy;
let buyer: Address;
let seller: Address;
let other: Address;

const env = useChainAndProxy();
beforeAll(() => {
  ({ chain, proxy, buyer, seller, stranger: other } = env);
});

function gateway(overrides: Partial<Parameters<typeof createEvmQuoteChain>[0]> = {}) {
  const registry = new Registry();
  const port = createEvmQuoteChain({
    rpcUrl: proxy.url, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 },
    registry, timeoutMs: 500, retries: 1, retryDelayMs: 10, ...overrides,
  });
  const counted = async (labels: string): Promise<boolean> => (await registry.metrics()).includes(labels);
  return { port, registry, counted };
}

const value = <T>(outcome: ChainOutcome<T>): T => {
  if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${outcome.kind} ${outcome.reason}: ${outcome.detail}`);
  return outcome.value;
};

async function lockUsdc(amount = 1_000_000n) {
  const secret = freshSecret();
  await chain.fundUsdc(buyer, amount);
  const timelock = (await chain.latestBlock()).timestamp + 2n * HOUR;
  const lock = await chain.lockUsdc({ buyer, seller, hashlock: secret.hashlock, timelock, orderId: freshOrderId(), amount });
  return { ...secret, ...lock, amount, timelock };
}

describe('the EVM quote-chain gateway against anvil', () => {
  it('reads the chain id, the head, a finalized block by confirmations, and no block past the head', async () => {
    const { port } = gateway({ finality: { kind: 'confirmations', count: 3 } });
    expect(value(await port.chainId())).toBe(chain.chainId);
    await chain.mine(3);
    const head = value(await port.headBlock());
    const finalized = value(await port.finalizedBlock());
    expect(finalized.number).toBe(head.number - 2n);
    const again = value(await port.blockByNumber(finalized.number));
    expect(again).toEqual(finalized);
    expect(value(await port.blockByNumber(head.number + 100n))).toBeNull();
  });

  it('reads the finalized tag when the finality is the tag', async () => {
    const { port } = gateway({ finality: { kind: 'tag' } });
    const finalized = value(await port.finalizedBlock());
    expect(finalized.number).toBeLessThanOrEqual(value(await port.headBlock()).number);
  });

  it('reads a swap at its lock block, not before it, and its logs, transfers, balances and code', async () => {
    const { port } = gateway();
    const lock = await lockUsdc();
    const swap = value(await port.getSwap(lock.swapId, lock.blockNumber));
    expect(swap).toMatchObject({ buyer, seller, token: chain.usdcAddress, amount: lock.amount, hashlock: lock.hashlock, timelock: lock.timelock, claimed: false, refunded: false });
    expect(value(await port.getSwap(lock.swapId, lock.blockNumber - 1n))).toBeNull();
    const claimTx = await chain.claim(seller, lock.swapId, lock.preimage);
    const head = value(await port.headBlock()).number;
    const page = value(await port.htlcLogs({ fromBlock: lock.blockNumber, toBlock: head }));
    expect(page.undecodable).toBe(0);
    expect(page.logs.map((l) => [l.event, l.swapId])).toEqual([['SwapCreated', lock.swapId], ['SwapClaimed', lock.swapId]]);
    expect(page.logs[1]).toMatchObject({ event: 'SwapClaimed', preimage: lock.preimage, txHash: claimTx, address: chain.htlcAddress });
    expect(value(await port.transferLogs(lock.txHash, chain.usdcAddress))).toEqual([
      expect.objectContaining({ from: buyer, to: chain.htlcAddress, value: lock.amount }),
    ]);
    expect(value(await port.transferLogs(lock.swapId, chain.usdcAddress))).toBeNull();
    expect(value(await port.tokenBalance(chain.usdcAddress, chain.htlcAddress, lock.blockNumber))).toBeGreaterThanOrEqual(lock.amount);
    expect(value(await port.ethBalance(other, head))).toBeGreaterThan(0n);
    expect(value(await port.codeHash(chain.htlcAddress))).toBe(chain.htlcCodeHash);
    expect(value(await port.codeHash(other))).toBeNull();
    expect(value(await port.tokenDecimals(chain.usdcAddress))).toBe(6);
  });

  it('finds SwapCreated logs by the seller topic only', async () => {
    const { port } = gateway();
    const lock = await lockUsdc();
    const head = value(await port.headBlock()).number;
    const mine = value(await port.swapsCreatedForSeller({ fromBlock: lock.blockNumber, toBlock: head }, seller));
    expect(mine.logs.map((l) => l.swapId)).toEqual([lock.swapId]);
    const none = value(await port.swapsCreatedForSeller({ fromBlock: lock.blockNumber, toBlock: head }, other));
    expect(none.logs).toEqual([]);
  });

  it('refuses decimals from an address that is no token (rejected, not unknown)', async () => {
    const { port } = gateway();
    expect(await port.tokenDecimals(chain.htlcAddress)).toMatchObject({ kind: 'rejected', reason: 'reverted' });
    expect(await port.tokenDecimals(zeroAddress)).toMatchObject({ kind: 'rejected' });
  });
});

describe('the EVM quote-chain gateway through faults', () => {
  it('answers unknown (timeout) for an RPC that never answers, after its bounded retries, and counts it', async () => {
    const { port, counted } = gateway();
    proxy.inject('eth_blockNumber', 'hang', 2);
    const outcome = await port.finalizedBlock();
    expect(outcome).toMatchObject({ kind: 'unknown', reason: 'timeout' });
    expect(proxy.count('eth_blockNumber')).toBe(2);
    expect(await counted('otc_ledger_quote_chain_calls_total{call="finalized_block",outcome="unknown",reason="timeout"} 1')).toBe(true);
  });

  it('retries a 5xx and answers ok when the retry succeeds', async () => {
    const { port, counted } = gateway();
    proxy.inject('eth_chainId', 'http500', 1);
    expect(await port.chainId()).toEqual({ kind: 'ok', value: chain.chainId });
    expect(proxy.count('eth_chainId')).toBe(2);
    expect(await counted('otc_ledger_quote_chain_calls_total{call="chain_id",outcome="ok",reason=""} 1')).toBe(true);
  });

  it('answers unknown (http_5xx) when every attempt gets a 5xx, and unknown (malformed) for an unreadable answer', async () => {
    const { port } = gateway();
    proxy.inject('eth_getBlockByNumber', 'http500', 2);
    expect(await port.headBlock()).toMatchObject({ kind: 'unknown', reason: 'http_5xx' });
    proxy.inject('eth_getBlockByNumber', 'garbage', 2);
    expect(await port.headBlock()).toMatchObject({ kind: 'unknown' });
  });

  it('answers rejected (range_capped) for a capped eth_getLogs, a full page, or a range wider than its limit', async () => {
    const { port } = gateway({ maxBlockRange: 50n, maxLogsPerRange: 2 });
    const first = await lockUsdc();
    await lockUsdc();
    const head = value(await port.headBlock()).number;
    const range = { fromBlock: first.blockNumber, toBlock: head };
    proxy.inject('eth_getLogs', 'cap_logs', 1);
    expect(await port.htlcLogs(range)).toMatchObject({ kind: 'rejected', reason: 'range_capped' });
    expect(proxy.count('eth_getLogs')).toBe(1);
    expect(await port.htlcLogs(range)).toMatchObject({ kind: 'rejected', reason: 'range_capped' });
    const before = proxy.count('eth_getLogs');
    expect(await port.htlcLogs({ fromBlock: 0n, toBlock: 50n })).toMatchObject({ kind: 'rejected', reason: 'range_capped' });
    expect(proxy.count('eth_getLogs')).toBe(before);
  });

  it('answers rejected (never_connected) when nothing listens, and reports the chain id the RPC gives', async () => {
    const closed = await startFaultProxy(chain.rpcUrl);
    const url = closed.url;
    await closed.close();
    const { port } = gateway({ rpcUrl: url });
    expect(await port.chainId()).toMatchObject({ kind: 'rejected', reason: 'never_connected' });
    proxy.inject('eth_chainId', 'chain_id_1', 1);
    expect(await gateway().port.chainId()).toEqual({ kind: 'ok', value: 1 });
  });
});

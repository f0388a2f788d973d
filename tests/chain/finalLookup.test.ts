import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Address, Hex } from 'viem';
import { decideQuoteLeg, swapsWithHashlock } from '../../src/chain/finalLookup.js';
import type { HashlockSwap } from '../../src/chain/finalLookup.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import type { QuoteChain } from '../../src/gateways/quoteChain.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import type { FaultProxy } from './faultProxy.js';
import { freshOrderId, freshSecret, HOUR, useChainAndProxy } from './support.js';

const swap = (id: number, timelockSeconds: bigint, state: Partial<HashlockSwap> = {}): HashlockSwap => ({
  swapId: `0x${id.toString(16).padStart(64, '0')}` as Hex, timelockSeconds, claimed: false, refunded: false, ...state,
});

describe('the quote-leg decision at a finalized block', () => {
  it('a claim of any swap under the hashlock means the buyer is owed, whatever else holds', () => {
    expect(decideQuoteLeg([swap(1, 100n, { refunded: true }), swap(2, 200n, { claimed: true })], 10_000n)).toEqual({ kind: 'claimed', swapId: swap(2, 0n).swapId });
  });

  it('no swap at all is no_swap', () => {
    expect(decideQuoteLeg([], 10_000n)).toEqual({ kind: 'no_swap' });
  });

  it('allows the refund once every swap is refunded, even before its T', () => {
    expect(decideQuoteLeg([swap(1, 500n, { refunded: true }), swap(2, 900n, { refunded: true })], 100n)).toEqual({ kind: 'refund_allowed', because: 'all_refunded' });
  });

  it('waits until T of the latest live swap (T - 1), and allows the refund at T exactly', () => {
    const swaps = [swap(1, 500n), swap(2, 900n), swap(3, 2_000n, { refunded: true })];
    expect(decideQuoteLeg(swaps, 899n)).toEqual({ kind: 'wait', untilSeconds: 900n });
    expect(decideQuoteLeg(swaps, 900n)).toEqual({ kind: 'refund_allowed', because: 'all_timelocks_passed' });
  });
});

describe('the final look-up on the chain', () => {
  let chain: SandboxChain;
  let proxy: FaultProxy;
  let port: QuoteChain;
  let buyer: Address;
  let seller: Address;
  let other: Address;

  const env = useChainAndProxy();
  beforeAll(() => {
    ({ chain, proxy, buyer, seller, stranger: other } = env);
    port = createEvmQuoteChain({ rpcUrl: proxy.url, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry(), maxBlockRange: 3n, timeoutMs: 300, retries: 0 });
  });

  it("finds every swap for the seller under the hashlock, across ranges, and none of another seller's or another hash", async () => {
    const from = (await chain.latestBlock()).number + 1n;
    const secret = freshSecret();
    await chain.fundEth(buyer, 10n ** 18n);
    const lock = async (forSeller: Address, hashlock: Hex) =>
      chain.lockEth({ buyer, seller: forSeller, hashlock, timelock: (await chain.latestBlock()).timestamp + 2n * HOUR, orderId: freshOrderId(), amount: 1n });
    const first = await lock(seller, secret.hashlock);
    await lock(other, secret.hashlock);
    await lock(seller, freshSecret().hashlock);
    await chain.mine(4);
    const second = await lock(seller, secret.hashlock);
    await chain.claim(seller, second.swapId, secret.preimage);
    const finalized = (await port.finalizedBlock()) as { kind: 'ok'; value: Parameters<typeof swapsWithHashlock>[1]['finalized'] };
    const found = await swapsWithHashlock(port, { seller, hashlock: secret.hashlock, fromBlock: from, finalized: finalized.value });
    expect(found).toEqual({
      kind: 'ok',
      value: [expect.objectContaining({ swapId: first.swapId, claimed: false }), expect.objectContaining({ swapId: second.swapId, claimed: true })],
    });
    expect(decideQuoteLeg(found.kind === 'ok' ? found.value : [], finalized.value.timestampSeconds)).toEqual({ kind: 'claimed', swapId: second.swapId });
    proxy.inject('eth_getLogs', 'hang');
    expect(await swapsWithHashlock(port, { seller, hashlock: secret.hashlock, fromBlock: from, finalized: finalized.value })).toMatchObject({ kind: 'unknown', reason: 'timeout' });
  });
});

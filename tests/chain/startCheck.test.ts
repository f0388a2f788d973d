import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { checkQuoteChainAtStart } from '../../src/chain/startCheck.js';
import type { QuoteChainExpectation } from '../../src/chain/startCheck.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import { useChainAndProxy } from './support.js';
import type { FaultProxy } from './faultProxy.js';

let chain: SandboxChain;
let proxy: FaultProxy;
let expected: QuoteChainExpectation;

const env = useChainAndProxy({ chainId: 31_338 });
beforeAll(() => {
  ({ chain, proxy } = env);
  expected = { chainId: 31_338, htlcAddress: chain.htlcAddress, htlcCodeHash: chain.htlcCodeHash, sixDecimalTokens: [chain.usdcAddress] };
});

const port = () =>
  createEvmQuoteChain({ rpcUrl: proxy.url, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry(), timeoutMs: 300, retries: 0 });

describe('the quote chain check at start', () => {
  it('passes the chain it was configured for', async () => {
    expect(await checkQuoteChainAtStart(port(), expected)).toEqual({ ok: true });
  });

  it('refuses an RPC that answers for another chain id', async () => {
    proxy.inject('eth_chainId', 'chain_id_1');
    expect(await checkQuoteChainAtStart(port(), expected)).toMatchObject({ ok: false, code: 'chain_id_mismatch' });
  });

  it('refuses other code at the HTLC address, and no code at all', async () => {
    expect(await checkQuoteChainAtStart(port(), { ...expected, htlcCodeHash: `0x${'ab'.repeat(32)}` })).toMatchObject({ ok: false, code: 'htlc_code_hash_mismatch' });
    expect(await checkQuoteChainAtStart(port(), { ...expected, htlcAddress: chain.devAddresses[4]! })).toMatchObject({ ok: false, code: 'htlc_code_missing' });
  });

  it('refuses a token that does not report 6 decimals', async () => {
    expect(await checkQuoteChainAtStart(port(), { ...expected, sixDecimalTokens: [chain.htlcAddress] })).toMatchObject({ ok: false, code: 'token_decimals_mismatch' });
  });

  it('fails, never passes, when the chain cannot be read', async () => {
    proxy.inject('eth_chainId', 'hang');
    expect(await checkQuoteChainAtStart(port(), expected)).toMatchObject({ ok: false, code: 'chain_unreachable' });
  });
});

import { describe, expect, it } from 'vitest';
import { loadQuoteChainConfig } from '../../src/config.js';
import { refusalOf } from '../support/configRefusal.js';

const errorOf = (env: Record<string, string>): string => refusalOf(() => loadQuoteChainConfig(env));

const EVM = {
  LEDGER_QUOTE_CHAIN: 'evm', LEDGER_EVM_RPC_URL: 'https://rpc.example', LEDGER_EVM_CHAIN_ID: '8453',
  LEDGER_HTLC_CONTRACT: `0x${'ab'.repeat(20)}`, LEDGER_HTLC_CODE_HASH: `0x${'CD'.repeat(32)}`,
};

describe('quote-chain configuration', () => {
  it('defaults to the sandbox with one confirmation and the documented windows', () => {
    expect(loadQuoteChainConfig({})).toEqual({
      mode: 'sandbox', evm: null, sandboxFinality: { kind: 'confirmations', count: 1 },
      lockWindowSeconds: 1800, claimWindowMaxSeconds: 14_400, claimGuardSeconds: 1800, escrowReleaseSlackSeconds: 172_800, observeMarginSeconds: 7200,
    });
  });

  it('reads an evm chain, with the finalized tag by default or a confirmation count', () => {
    expect(loadQuoteChainConfig(EVM).evm).toEqual({
      rpcUrl: 'https://rpc.example', chainId: 8453, htlcContract: EVM.LEDGER_HTLC_CONTRACT, htlcCodeHash: `0x${'cd'.repeat(32)}`, usdcToken: null, finality: { kind: 'tag' }, startBlock: 0n,
    });
    expect(loadQuoteChainConfig({ ...EVM, LEDGER_EVM_START_BLOCK: '19000123' }).evm?.startBlock).toBe(19_000_123n);
    expect(loadQuoteChainConfig({ ...EVM, LEDGER_EVM_FINALITY: '12', LEDGER_USDC_TOKEN: `0x${'12'.repeat(20)}` }).evm).toMatchObject({ finality: { kind: 'confirmations', count: 12 }, usdcToken: `0x${'12'.repeat(20)}` });
    expect(loadQuoteChainConfig({ LEDGER_QUOTE_CHAIN: 'manual' })).toMatchObject({ mode: 'manual', evm: null });
  });

  it('refuses an evm chain missing any of its addresses, and bad values, naming the variable', () => {
    expect(errorOf({ ...EVM, LEDGER_HTLC_CODE_HASH: '' })).toBe('invalid configuration: LEDGER_HTLC_CODE_HASH is required when LEDGER_QUOTE_CHAIN=evm');
    expect(errorOf({ ...EVM, LEDGER_HTLC_CONTRACT: '0x12' })).toMatch(/^invalid configuration: LEDGER_HTLC_CONTRACT /);
    expect(errorOf({ LEDGER_EVM_FINALITY: '0' })).toMatch(/^invalid configuration: LEDGER_EVM_FINALITY /);
    expect(errorOf({ ...EVM, LEDGER_EVM_START_BLOCK: '-1' })).toMatch(/^invalid configuration: LEDGER_EVM_START_BLOCK /);
    expect(errorOf({ ...EVM, LEDGER_EVM_START_BLOCK: '12.5' })).toMatch(/^invalid configuration: LEDGER_EVM_START_BLOCK /);
    expect(errorOf({ LEDGER_QUOTE_CHAIN: 'ropsten' })).toMatch(/^invalid configuration: LEDGER_QUOTE_CHAIN /);
    expect(errorOf({ LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS: '3599' })).toMatch(/^invalid configuration: LEDGER_QUOTE_CLAIM_WINDOW_MAX_SECONDS /);
    expect(errorOf({ LEDGER_QUOTE_CLAIM_GUARD_SECONDS: '14400' })).toMatch(/CLAIM_GUARD_SECONDS must be shorter/);
  });
});

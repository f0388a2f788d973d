/**
 * What the ledger checks of a quote chain before it reads anything from it (quote-chain.md): the RPC
 * speaks for the configured chain, the HTLC address holds exactly the configured runtime code (no
 * proxy whose logic could change), and each configured token reports 6 decimals. Any failure stops
 * start-up with a stable code; an unreachable chain is a failure too, never a pass.
 */
import type { Address, Hash } from 'viem';
import type { QuoteChain } from '../gateways/quoteChain.js';

export interface QuoteChainExpectation {
  readonly chainId: number;
  readonly htlcAddress: Address;
  /** keccak256 of the runtime code (LEDGER_HTLC_CODE_HASH). */
  readonly htlcCodeHash: Hash;
  /** Tokens that must report 6 decimals (LEDGER_USDC_TOKEN). */
  readonly sixDecimalTokens: readonly Address[];
}

export type StartCheckProblem = 'chain_unreachable' | 'chain_id_mismatch' | 'htlc_code_missing' | 'htlc_code_hash_mismatch' | 'token_decimals_mismatch';

export type StartCheckResult = { readonly ok: true } | { readonly ok: false; readonly code: StartCheckProblem; readonly message: string };

export async function checkQuoteChainAtStart(chain: QuoteChain, expected: QuoteChainExpectation): Promise<StartCheckResult> {
  const problem = (code: StartCheckProblem, message: string): StartCheckResult => ({ ok: false, code, message });
  const chainId = await chain.chainId();
  if (chainId.kind !== 'ok') return problem('chain_unreachable', `chain id not readable: ${chainId.reason}`);
  if (chainId.value !== expected.chainId) {
    return problem('chain_id_mismatch', `the RPC reports chain ${chainId.value}, configured ${expected.chainId}`);
  }
  const code = await chain.codeHash(expected.htlcAddress);
  if (code.kind !== 'ok') return problem('chain_unreachable', `HTLC code not readable: ${code.reason}`);
  if (code.value === null) return problem('htlc_code_missing', `no contract code at ${expected.htlcAddress}`);
  if (code.value.toLowerCase() !== expected.htlcCodeHash.toLowerCase()) {
    return problem('htlc_code_hash_mismatch', `code at ${expected.htlcAddress} hashes to ${code.value}, configured ${expected.htlcCodeHash}`);
  }
  for (const token of expected.sixDecimalTokens) {
    const decimals = await chain.tokenDecimals(token);
    if (decimals.kind === 'unknown') return problem('chain_unreachable', `decimals of ${token} not readable: ${decimals.reason}`);
    if (decimals.kind === 'rejected' || decimals.value !== 6) {
      return problem('token_decimals_mismatch', `token ${token} does not report 6 decimals`);
    }
  }
  return { ok: true };
}

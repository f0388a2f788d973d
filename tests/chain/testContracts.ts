/**
 * Test-only contracts, compiled with the project's pinned solc and settings (scripts/contracts.ts)
 * when a test needs them and deployed on its anvil; none enters the committed artifact:
 *  - FeeOnTransferUSDC: a 6-decimal token that keeps 1% of each transfer, so a lock records more than
 *    the HTLC receives (transfer_short);
 *  - the project's HTLC with a one-minute MIN_TIMELOCK, a deployment of the interface that accepts a
 *    timelock shorter than the ledger's hour (timelock_too_short).
 */
import { readFileSync } from 'node:fs';
import { keccak256 } from 'viem';
import type { Abi, Address, Hash, Hex, TransactionReceipt } from 'viem';
import { compileSources } from '../../scripts/contracts.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';

const HTLC_SOURCE = 'contracts/RustChainHTLC.sol';
const FEE_TOKEN_SOURCE = 'tests/chain/contracts/FeeOnTransferUSDC.sol';

function compileTestContracts() {
  const htlc = readFileSync(HTLC_SOURCE, 'utf8');
  const shortened = htlc.replace('uint256 public constant MIN_TIMELOCK = 1 hours;', 'uint256 public constant MIN_TIMELOCK = 1 minutes;');
  if (shortened === htlc) throw new Error('the HTLC source no longer declares MIN_TIMELOCK = 1 hours');
  const compiled = compileSources({ [FEE_TOKEN_SOURCE]: readFileSync(FEE_TOKEN_SOURCE, 'utf8'), 'tests/chain/contracts/ShortTimelockHTLC.sol': shortened });
  const pick = (name: string) => {
    const c = compiled[name];
    if (!c) throw new Error(`${name} missing from the compiler output`);
    return { abi: c.abi as Abi, bytecode: `0x${c.evm.bytecode.object}` as Hex };
  };
  return { feeToken: pick('FeeOnTransferUSDC'), shortHtlc: pick('RustChainHTLC') };
}

export interface TestContracts {
  readonly feeToken: Address;
  readonly feeTokenAbi: Abi;
  /** The one-minute HTLC and the keccak256 of its runtime code (LEDGER_HTLC_CODE_HASH). */
  readonly shortHtlc: { readonly address: Address; readonly codeHash: Hash };
}

export async function deployTestContracts(chain: SandboxChain): Promise<TestContracts> {
  const { feeToken, shortHtlc } = compileTestContracts();
  const deploy = async (artifact: { abi: Abi; bytecode: Hex }): Promise<Address> => {
    const hash = await chain.client.deployContract({ ...artifact, account: chain.devAddresses[0]!, chain: chain.client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    return receipt.contractAddress!;
  };
  const tokenAddress = await deploy(feeToken);
  const htlcAddress = await deploy(shortHtlc);
  const code = await chain.client.getCode({ address: htlcAddress });
  return { feeToken: tokenAddress, feeTokenAbi: feeToken.abi, shortHtlc: { address: htlcAddress, codeHash: keccak256(code ?? '0x') } };
}

/** One transaction as `from` (impersonated, zero fees), waited for; a revert throws. */
export async function sendAs(
  chain: SandboxChain, from: Address, call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[]; value?: bigint },
): Promise<TransactionReceipt> {
  const client = chain.client;
  await client.impersonateAccount({ address: from });
  try {
    const params = { ...call, account: from, chain: client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n } as unknown as Parameters<typeof client.writeContract>[0];
    const hash = await client.writeContract(params);
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${call.functionName} reverted`);
    return receipt;
  } finally {
    await client.stopImpersonatingAccount({ address: from });
  }
}

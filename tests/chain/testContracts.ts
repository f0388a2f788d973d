/**
 * Test-only contracts, compiled with the project's pinned solc and settings (scripts/contracts.ts)
 * when a test needs them and deployed on its anvil; none enters the committed artifact:
 *  - FeeOnTransferUSDC: the sandbox's TestUSDC (contracts/TestUSDC.sol) keeping 1% of each transfer,
 *    so a lock records more than the HTLC receives (transfer_short);
 *  - the project's HTLC with a one-minute MIN_TIMELOCK, a deployment of the interface that accepts a
 *    timelock shorter than the ledger's hour (timelock_too_short).
 */
import { readFileSync } from 'node:fs';
import { keccak256 } from 'viem';
import type { Abi, Address, Hash, Hex, TransactionReceipt } from 'viem';
import { compileSources } from '../../scripts/contracts.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';

const HTLC_SOURCE = 'contracts/RustChainHTLC.sol';
const TOKEN_SOURCE = 'contracts/TestUSDC.sol';

/** `source` with each [from, to] replaced once; a `from` the source no longer holds is an error, never a silent no-op. */
function derived(source: string, path: string, edits: ReadonlyArray<readonly [string, string]>): string {
  return edits.reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`${path} no longer contains: ${from}`);
    return text.replace(from, to);
  }, source);
}

/** TestUSDC with a 1% fee on every move, kept by 0xdEaD; everything else (mint, approve, allowance) is TestUSDC's own. */
const FEE_ON_TRANSFER: ReadonlyArray<readonly [string, string]> = [
  ['contract TestUSDC {', 'contract FeeOnTransferUSDC {\n    address public constant FEE_COLLECTOR = address(0xdEaD);'],
  ['"Test USDC (sandbox)"', '"Fee-on-transfer USDC (tests)"'],
  ['"tUSDC"', '"feeUSDC"'],
  [
    '        balanceOf[to] += value;\n        emit Transfer(from, to, value);\n    }',
    '        uint256 fee = value / 100;\n        balanceOf[to] += value - fee;\n        balanceOf[FEE_COLLECTOR] += fee;\n'
      + '        emit Transfer(from, to, value - fee);\n        emit Transfer(from, FEE_COLLECTOR, fee);\n    }',
  ],
];

function compileTestContracts() {
  const shortened = derived(readFileSync(HTLC_SOURCE, 'utf8'), HTLC_SOURCE, [['uint256 public constant MIN_TIMELOCK = 1 hours;', 'uint256 public constant MIN_TIMELOCK = 1 minutes;']]);
  const feeToken = derived(readFileSync(TOKEN_SOURCE, 'utf8').replace(/\r\n/g, '\n'), TOKEN_SOURCE, FEE_ON_TRANSFER);
  const compiled = compileSources({ 'tests/chain/FeeOnTransferUSDC.sol': feeToken, 'tests/chain/ShortTimelockHTLC.sol': shortened });
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

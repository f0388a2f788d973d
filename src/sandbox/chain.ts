/**
 * The sandbox quote chain: anvil (with zero gas fees, so a party needs no ETH to act) on a free loopback port with the project's HTLC and a 6-decimal test
 * USDC deployed, and controls that play a party's part (fund an address, lock, claim, refund) and move
 * chain time. Parties act through anvil's account impersonation, so any quote address a person typed
 * can lock or claim without a wallet. Nothing here is a real chain: it says so loudly when it starts.
 */
import { createTestClient, defineChain, getAddress, http, keccak256, parseEventLogs, publicActions, walletActions } from 'viem';
import type { Abi, Address, Chain, Hash, Hex, TransactionReceipt } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil } from '../chain/anvil.js';
import type { Finality } from '../gateways/quoteChain.js';
import { htlcArtifact, testUsdcArtifact } from '../contracts/artifacts.js';

/** anvil's published development mnemonic: its keys are public, so these accounts only ever hold test value. */
const ANVIL_DEV_MNEMONIC = 'test test test test test test test test test test test junk';
const DEV_ACCOUNT_COUNT = 10;
/** anvil runs with zero fees; viem would otherwise add a 1 gwei tip above the zero fee cap. */
const ZERO_FEES = { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n } as const;

export interface SandboxChainOptions {
  readonly chainId?: number;
  readonly genesisTimestampSeconds?: number;
  /** Receives the loud SANDBOX line (a pino logger fits); default: none. */
  readonly log?: { warn(details: object, message: string): void };
}

export interface SwapReceipt {
  readonly swapId: Hex;
  readonly txHash: Hash;
  readonly blockNumber: bigint;
}

export interface LockRequest {
  readonly buyer: Address;
  readonly seller: Address;
  readonly hashlock: Hex;
  /** Absolute Unix seconds. */
  readonly timelock: bigint;
  readonly orderId: string;
  readonly amount: bigint;
}

export type SandboxChain = Awaited<ReturnType<typeof startSandboxChain>>;

export async function startSandboxChain(options: SandboxChainOptions = {}) {
  const anvil = await startAnvil({ chainId: options.chainId, genesisTimestampSeconds: options.genesisTimestampSeconds, zeroFees: true });
  try {
    const chain = defineChain({
      id: anvil.chainId,
      name: 'sandbox',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const client = buildClient(anvil.rpcUrl, chain);
    const devAccounts = Array.from({ length: DEV_ACCOUNT_COUNT }, (_, i) => mnemonicToAccount(ANVIL_DEV_MNEMONIC, { addressIndex: i }));
    const deployer = devAccounts[0]!;
    const deploy = async (artifact: { abi: typeof htlcArtifact.abi | typeof testUsdcArtifact.abi; bytecode: Hex }) => {
      const hash = await client.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, account: deployer, ...ZERO_FEES });
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (!receipt.contractAddress) throw new Error('sandbox chain: deployment produced no contract');
      return { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber };
    };
    const htlc = await deploy(htlcArtifact);
    const htlcAddress = htlc.address;
    const usdcAddress = (await deploy(testUsdcArtifact)).address;
    const htlcCode = await client.getCode({ address: htlcAddress });
    options.log?.warn(
      { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, htlc: htlcAddress, usdc: usdcAddress },
      'SANDBOX: quote chain is a local anvil with a test USDC; nothing on it has value',
    );
    return {
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      htlcAddress,
      usdcAddress,
      /** keccak256 of the HTLC's runtime code, as LEDGER_HTLC_CODE_HASH would name it. */
      htlcCodeHash: keccak256(htlcCode ?? '0x'),
      /** What an EVM adapter, the start check and a follower need, as `evm` mode would configure them. */
      settings: {
        rpcUrl: anvil.rpcUrl,
        chainId: anvil.chainId,
        htlcAddress,
        htlcCodeHash: keccak256(htlcCode ?? '0x'),
        usdcToken: usdcAddress,
        finality: { kind: 'confirmations', count: 1 } satisfies Finality as Finality,
        /** The follower's first block: the HTLC's deployment. */
        startBlock: htlc.blockNumber,
      },
      devAddresses: devAccounts.map((a) => a.address),
      client,
      ...controls(client, { htlcAddress, usdcAddress, deployer }),
      stop: () => anvil.stop(),
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

/** Where a running sandbox chain is, as the ledger tells a client (`GET /__sandbox/chain`). */
export interface SandboxChainAddress {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly htlcAddress: Address;
  readonly usdcAddress: Address;
}

/**
 * The party controls of a sandbox chain some other process started (the demo, against `npm start`):
 * the same lock, claim, fund and time controls, on a client of that chain's RPC URL. The deployer is
 * anvil's first development account, as in startSandboxChain.
 */
export function connectSandboxChain(at: SandboxChainAddress) {
  const chain = defineChain({
    id: at.chainId, name: 'sandbox', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [at.rpcUrl] } },
  });
  const client = buildClient(at.rpcUrl, chain);
  const deployer = mnemonicToAccount(ANVIL_DEV_MNEMONIC, { addressIndex: 0 });
  return { ...at, client, ...controls(client, { htlcAddress: getAddress(at.htlcAddress), usdcAddress: getAddress(at.usdcAddress), deployer }) };
}

/** Reads, writes and anvil's test methods on one client; receipts are polled every 50 ms on a local chain. */
const buildClient = (rpcUrl: string, chain: Chain) =>
  createTestClient({ chain, mode: 'anvil', transport: http(rpcUrl), pollingInterval: 50 }).extend(publicActions).extend(walletActions);
type SandboxClient = ReturnType<typeof buildClient>;

/** One contract call a party makes; the ABI is the artifact's, so the function name and args are checked at the call site. */
interface PartyCall {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
  readonly value?: bigint;
}

function controls(
  client: SandboxClient,
  { htlcAddress, usdcAddress, deployer }: { htlcAddress: Address; usdcAddress: Address; deployer: ReturnType<typeof mnemonicToAccount> },
) {
  /**
   * Sends one transaction as `from` (impersonated, or the deployer's dev key) and waits for its block.
   * anvil mines a reverting transaction; the same call is then replayed at that block, where it fails
   * the same way, so the error names the contract's reason (NotSeller, Expired, ...).
   */
  const send = async (from: Address | typeof deployer, call: PartyCall): Promise<TransactionReceipt> => {
    const address = typeof from === 'string' ? from : from.address;
    const params = { ...call, account: from, chain: client.chain ?? null, ...ZERO_FEES } as unknown as Parameters<SandboxClient['writeContract']>[0];
    const impersonate = typeof from === 'string';
    if (impersonate) await client.impersonateAccount({ address });
    try {
      const hash = await client.writeContract(params);
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status === 'success') return receipt;
      await client.simulateContract({ ...params, blockNumber: receipt.blockNumber } as unknown as Parameters<SandboxClient['simulateContract']>[0]);
      throw new Error(`sandbox chain: transaction ${hash} reverted`);
    } finally {
      if (impersonate) await client.stopImpersonatingAccount({ address });
    }
  };
  const swapOf = (receipt: TransactionReceipt): SwapReceipt => {
    const [created] = parseEventLogs({ abi: htlcArtifact.abi, eventName: 'SwapCreated', logs: receipt.logs });
    if (!created) throw new Error('sandbox chain: no SwapCreated in the lock transaction');
    return { swapId: created.args.swapId, txHash: receipt.transactionHash, blockNumber: receipt.blockNumber };
  };
  const htlc = (functionName: string, args: readonly unknown[], value?: bigint): PartyCall => ({ address: htlcAddress, abi: htlcArtifact.abi, functionName, args, value });
  const usdc = (functionName: string, args: readonly unknown[]): PartyCall => ({ address: usdcAddress, abi: testUsdcArtifact.abi, functionName, args });
  return {
    /** Sets an address's ETH balance (wei). */
    fundEth: (address: Address, wei: bigint) => client.setBalance({ address, value: wei }),
    /** Mints test USDC (base units, 6 decimals) to an address. */
    fundUsdc: async (address: Address, baseUnits: bigint): Promise<void> => {
      await send(deployer, usdc('mint', [address, baseUnits]));
    },
    usdcBalance: (address: Address) =>
      client.readContract({ address: usdcAddress, abi: testUsdcArtifact.abi, functionName: 'balanceOf', args: [address] }),
    /** The buyer locks ETH (`amount` in wei) for the seller. */
    lockEth: async (r: LockRequest): Promise<SwapReceipt> =>
      swapOf(await send(r.buyer, htlc('createSwapETH', [r.seller, r.hashlock, r.timelock, r.orderId], r.amount))),
    /** The buyer approves the HTLC for exactly the amount (base units), then locks test USDC for the seller. */
    lockUsdc: async (r: LockRequest): Promise<SwapReceipt> => {
      await send(r.buyer, usdc('approve', [htlcAddress, r.amount]));
      return swapOf(await send(r.buyer, htlc('createSwapERC20', [r.seller, usdcAddress, r.amount, r.hashlock, r.timelock, r.orderId])));
    },
    /** The seller claims with the preimage (which the chain then shows to everyone). */
    claim: async (seller: Address, swapId: Hex, preimage: Hex): Promise<Hash> =>
      (await send(seller, htlc('claim', [swapId, preimage]))).transactionHash,
    refund: async (buyer: Address, swapId: Hex): Promise<Hash> => (await send(buyer, htlc('refund', [swapId]))).transactionHash,
    /** Moves chain time forward and mines one block carrying the new time. */
    advanceTime: async (seconds: number): Promise<void> => {
      await client.increaseTime({ seconds });
      await client.mine({ blocks: 1 });
    },
    /** The next transaction's block gets exactly this timestamp (Unix seconds): for T-1 / T boundaries. */
    nextBlockAt: (timestampSeconds: bigint) => client.setNextBlockTimestamp({ timestamp: timestampSeconds }),
    mine: (blocks = 1) => client.mine({ blocks }),
    latestBlock: () => client.getBlock({ blockTag: 'latest' }),
    snapshot: () => client.snapshot(),
    revert: (id: Hex) => client.revert({ id }),
  };
}

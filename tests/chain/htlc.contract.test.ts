import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs, zeroAddress, zeroHash } from 'viem';
import type { Address, Hex } from 'viem';
import { htlcArtifact, testUsdcArtifact } from '../../src/contracts/artifacts.js';
import { startSandboxChain } from '../../src/sandbox/chain.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import { DAY, freshOrderId, freshSecret, HOUR } from './support.js';

let chain: SandboxChain;
let buyer: Address;
let seller: Address;
let stranger: Address;

beforeAll(async () => {
  chain = await startSandboxChain();
  [, buyer, seller, stranger] = chain.devAddresses as [Address, Address, Address, Address];
});
afterAll(async () => {
  await chain?.stop();
});

const now = async (): Promise<bigint> => (await chain.latestBlock()).timestamp;
const swapOf = (swapId: Hex) =>
  chain.client.readContract({ address: chain.htlcAddress, abi: htlcArtifact.abi, functionName: 'getSwap', args: [swapId] });
const ethOf = (address: Address) => chain.client.getBalance({ address });

/** An ETH lock with T = lock block time + `lockSeconds`; the lock block's time is fixed so T is exact. */
async function lockEth(lockSeconds = 2n * HOUR, amount = 10n ** 15n) {
  const secret = freshSecret();
  const lockAt = (await now()) + 10n;
  const timelock = lockAt + lockSeconds;
  await chain.nextBlockAt(lockAt);
  const receipt = await chain.lockEth({ buyer, seller, hashlock: secret.hashlock, timelock, orderId: freshOrderId(), amount });
  return { ...secret, ...receipt, timelock, amount };
}

describe('RustChainHTLC with ETH', () => {
  it('pays the seller who claims with the preimage before T, and publishes the preimage', async () => {
    const lock = await lockEth();
    const before = await ethOf(seller);
    const txHash = await chain.claim(seller, lock.swapId, lock.preimage);
    expect(await ethOf(seller)).toBe(before + lock.amount);
    const receipt = await chain.client.getTransactionReceipt({ hash: txHash });
    const [claimed] = parseEventLogs({ abi: htlcArtifact.abi, eventName: 'SwapClaimed', logs: receipt.logs });
    expect(claimed?.args).toEqual({ swapId: lock.swapId, preimage: lock.preimage });
    const swap = await swapOf(lock.swapId);
    expect(swap[6]).toBe(true);
    expect(swap[7]).toBe(false);
    expect(await chain.client.readContract({ address: chain.htlcAddress, abi: htlcArtifact.abi, functionName: 'getPreimage', args: [lock.swapId] })).toBe(lock.preimage);
  });

  it('records the swap exactly as created, and emits SwapCreated with every field', async () => {
    const lock = await lockEth();
    const swap = await swapOf(lock.swapId);
    expect(swap.slice(0, 8)).toEqual([buyer, seller, zeroAddress, lock.amount, lock.hashlock, lock.timelock, false, false]);
    const receipt = await chain.client.getTransactionReceipt({ hash: lock.txHash });
    const [created] = parseEventLogs({ abi: htlcArtifact.abi, eventName: 'SwapCreated', logs: receipt.logs });
    expect(created?.args).toMatchObject({ swapId: lock.swapId, buyer, seller, token: zeroAddress, amount: lock.amount, hashlock: lock.hashlock, timelock: lock.timelock, rtcOrderId: swap[8] });
    expect(await chain.client.readContract({ address: chain.htlcAddress, abi: htlcArtifact.abi, functionName: 'getPreimage', args: [lock.swapId] })).toBe(zeroHash);
  });

  it('allows the claim at T - 1 and refuses it at T (Expired)', async () => {
    const early = await lockEth();
    await chain.nextBlockAt(early.timelock - 1n);
    await chain.claim(seller, early.swapId, early.preimage);
    const late = await lockEth();
    await chain.nextBlockAt(late.timelock);
    await expect(chain.claim(seller, late.swapId, late.preimage)).rejects.toThrow(/Expired/);
  });

  it('refuses the refund at T - 1 (NotExpired) and returns the ETH to the buyer at T', async () => {
    const lock = await lockEth();
    await chain.nextBlockAt(lock.timelock - 1n);
    await expect(chain.refund(buyer, lock.swapId)).rejects.toThrow(/NotExpired/);
    const before = await ethOf(buyer);
    await chain.nextBlockAt(lock.timelock);
    await chain.refund(buyer, lock.swapId);
    expect(await ethOf(buyer)).toBe(before + lock.amount);
    expect((await swapOf(lock.swapId))[7]).toBe(true);
  });

  it('refuses a wrong preimage (InvalidPreimage) and anyone but the seller (NotSeller)', async () => {
    const lock = await lockEth();
    await expect(chain.claim(seller, lock.swapId, freshSecret().preimage)).rejects.toThrow(/InvalidPreimage/);
    await expect(chain.claim(stranger, lock.swapId, lock.preimage)).rejects.toThrow(/NotSeller/);
    await expect(chain.claim(buyer, lock.swapId, lock.preimage)).rejects.toThrow(/NotSeller/);
    expect((await swapOf(lock.swapId))[6]).toBe(false);
  });

  it('refuses a second claim (AlreadyClaimed) and a refund after the claim, even past T', async () => {
    const lock = await lockEth();
    await chain.claim(seller, lock.swapId, lock.preimage);
    await expect(chain.claim(seller, lock.swapId, lock.preimage)).rejects.toThrow(/AlreadyClaimed/);
    await chain.nextBlockAt(lock.timelock);
    await expect(chain.refund(buyer, lock.swapId)).rejects.toThrow(/AlreadyClaimed/);
  });

  it('refuses a claim after the refund (AlreadyRefunded), a second refund, and a refund by anyone but the buyer (NotBuyer)', async () => {
    const lock = await lockEth();
    await chain.nextBlockAt(lock.timelock);
    await expect(chain.refund(seller, lock.swapId)).rejects.toThrow(/NotBuyer/);
    await expect(chain.refund(stranger, lock.swapId)).rejects.toThrow(/NotBuyer/);
    await chain.refund(buyer, lock.swapId);
    await expect(chain.claim(seller, lock.swapId, lock.preimage)).rejects.toThrow(/AlreadyRefunded/);
    await expect(chain.refund(buyer, lock.swapId)).rejects.toThrow(/AlreadyRefunded/);
  });

  it('accepts timelocks of exactly 1 h and 7 days from the lock block and refuses one second outside (TimelockOutOfRange)', async () => {
    await expect(lockEth(HOUR - 1n)).rejects.toThrow(/TimelockOutOfRange/);
    await expect(lockEth(7n * DAY + 1n)).rejects.toThrow(/TimelockOutOfRange/);
    expect((await swapOf((await lockEth(HOUR)).swapId))[6]).toBe(false);
    expect((await swapOf((await lockEth(7n * DAY)).swapId))[6]).toBe(false);
  });

  it('refuses a lock of nothing (ZeroAmount) and names no swap for an unknown id (SwapNotFound)', async () => {
    await expect(lockEth(2n * HOUR, 0n)).rejects.toThrow(/ZeroAmount/);
    await expect(chain.claim(seller, freshSecret().hashlock, freshSecret().preimage)).rejects.toThrow(/SwapNotFound/);
    expect((await swapOf(zeroHash))[0]).toBe(zeroAddress);
  });

  it('gives two identical locks two different swap ids', async () => {
    const secret = freshSecret();
    const request = { buyer, seller, hashlock: secret.hashlock, timelock: (await now()) + 2n * HOUR, orderId: 'otc_same', amount: 1n };
    const first = await chain.lockEth(request);
    const second = await chain.lockEth(request);
    expect(first.swapId).not.toBe(second.swapId);
  });
});

describe('RustChainHTLC with the 6-decimal test USDC', () => {
  const usdc = (functionName: 'decimals') =>
    chain.client.readContract({ address: chain.usdcAddress, abi: testUsdcArtifact.abi, functionName });

  async function lockUsdc(amount = 2_500_000n) {
    const secret = freshSecret();
    await chain.fundUsdc(buyer, amount);
    const timelock = (await now()) + 2n * HOUR;
    const receipt = await chain.lockUsdc({ buyer, seller, hashlock: secret.hashlock, timelock, orderId: freshOrderId(), amount });
    return { ...secret, ...receipt, timelock, amount };
  }

  it('reports 6 decimals', async () => {
    expect(await usdc('decimals')).toBe(6);
  });

  it('moves exactly the amount into the contract in the lock transaction and pays it to the seller on claim', async () => {
    const lock = await lockUsdc();
    const receipt = await chain.client.getTransactionReceipt({ hash: lock.txHash });
    const transfers = parseEventLogs({ abi: testUsdcArtifact.abi, eventName: 'Transfer', logs: receipt.logs });
    expect(transfers.map((t) => t.args)).toEqual([{ from: buyer, to: chain.htlcAddress, value: lock.amount }]);
    expect((await swapOf(lock.swapId))[2]).toBe(chain.usdcAddress);
    const before = await chain.usdcBalance(seller);
    await chain.claim(seller, lock.swapId, lock.preimage);
    expect(await chain.usdcBalance(seller)).toBe(before + lock.amount);
  });

  it('returns the tokens to the buyer at T, not before', async () => {
    const lock = await lockUsdc();
    const before = await chain.usdcBalance(buyer);
    await chain.nextBlockAt(lock.timelock - 1n);
    await expect(chain.refund(buyer, lock.swapId)).rejects.toThrow(/NotExpired/);
    await chain.nextBlockAt(lock.timelock);
    await chain.refund(buyer, lock.swapId);
    expect(await chain.usdcBalance(buyer)).toBe(before + lock.amount);
  });

  it('refuses a lock the buyer cannot pay for (the token call fails: TransferFailed)', async () => {
    const secret = freshSecret();
    const poor = chain.devAddresses[5] as Address;
    const timelock = (await now()) + 2n * HOUR;
    await expect(chain.lockUsdc({ buyer: poor, seller, hashlock: secret.hashlock, timelock, orderId: freshOrderId(), amount: 1n })).rejects.toThrow(/TransferFailed/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { htlcArtifact, testUsdcArtifact } from '../../src/contracts/artifacts.js';
import type { RunningLedger } from '../../src/main.js';
import { freshSecret, useChainAndProxy } from '../chain/support.js';
import { deployTestContracts, sendAs } from '../chain/testContracts.js';
import type { TestContracts } from '../chain/testContracts.js';
import { startChainLedger, swapDesk } from './quoteChainLedger.js';
import type { LockOverrides, SwapDesk, Trade } from './quoteChainLedger.js';
import { tempDir } from './support.js';

/**
 * Every reason a lock is rejected, reached through an order on a real anvil: each is recorded with its
 * reason in the order's quote_leg, and the order stays matched, awaiting a valid lock (which then
 * counts). A second valid lock is recorded as rejected, yet its claim pays the buyer. Not reachable on
 * a chain: `already_refunded` at the lock's own block (a refund needs T, at least an hour after the
 * lock) — verifyLock's unit tests hold it.
 */

const env = useChainAndProxy();
const dirs = [tempDir('swap-rejections'), tempDir('swap-rejections-odd')];
let ledger: RunningLedger;
beforeAll(async () => {
  ledger = await startChainLedger(dirs[0]!.path, { rpcUrl: env.proxy.url, chain: env.chain });
}, 60_000);
afterAll(async () => {
  await ledger?.close();
  for (const d of dirs) d.remove();
});
const desk = swapDesk(() => ledger, () => env.chain);

/** The rejection is in the history and the quote_leg; the order is matched, awaiting a lock; the seller cannot confirm yet. */
async function expectAwaitingAfter(d: SwapDesk, trade: Trade, reason: string, swapId: Hex): Promise<void> {
  await d.untilRejections(trade.orderId, 1);
  const rejected = (await d.historyOf(trade.orderId)).find((e) => e.type === 'QuoteLockRejected');
  expect(rejected?.data).toMatchObject({ reason, swap_id: swapId });
  const order = await d.orderOf(trade.orderId);
  expect(order.status).toBe('matched');
  expect(order.quote_leg).toMatchObject({ status: 'awaiting_lock', swap_id: null, rejected_locks: [{ reason, swap_id: swapId, timelock: expect.any(String) }] });
  const early = await d.confirm(trade, trade.seller);
  expect(early.status).toBe(409);
  expect(early.body.error).toBe('quote_lock_missing');
}

const stranger = (): Address => env.chain.devAddresses[3]!;
const rejections: Array<[string, 'usdc' | 'eth', () => LockOverrides]> = [
  ['wrong_hashlock', 'usdc', () => ({ hashlock: freshSecret().hashlock })],
  ['wrong_seller', 'usdc', () => ({ seller: stranger() })],
  ['wrong_buyer', 'eth', () => ({ buyer: stranger() })],
  ['wrong_token', 'usdc', () => ({ asset: 'eth' })],
  ['wrong_token', 'eth', () => ({ asset: 'usdc' })],
  ['amount_short', 'eth', () => ({ amount: 10n ** 16n - 1n })],
  ['timelock_too_long', 'usdc', () => ({ timelockAfterSeconds: 4n * 3600n + 120n })],
];

describe('a rejected lock leaves the order awaiting a valid one', () => {
  it.each(rejections)('%s (%s order): recorded with its reason, then a valid lock counts', async (reason, asset, overrides) => {
    const trade = await desk.matched('sell', asset);
    const bad = await desk.lock(trade, overrides());
    await expectAwaitingAfter(desk, trade, reason, bad.swapId);
    const good = await desk.lock(trade);
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
    expect((await desk.orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'locked', swap_id: good.swapId, rejected_locks: [{ reason }] });
  }, 60_000);

  it('already_claimed: a lock claimed in its own block is rejected, and its claim, a reveal, pays the buyer', async () => {
    const trade = await desk.matched('sell', 'usdc');
    const { swapId } = await lockAndClaimInOneBlock(trade);
    await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    const events = await desk.historyOf(trade.orderId);
    expect(events.find((e) => e.type === 'QuoteLockRejected')?.data).toMatchObject({ reason: 'already_claimed', swap_id: swapId });
    expect(events.map((e) => e.type)).not.toContain('QuoteLockObserved');
    expect(events.find((e) => e.type === 'PayoutQueued')?.data.to).toBe(trade.buyer.wallet);
  }, 60_000);

  it('records a second valid lock as rejected (duplicate_lock), and the seller\'s claim of that second lock pays the buyer', async () => {
    const trade = await desk.matched('buy', 'usdc');
    const first = await desk.lock(trade);
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
    const second = await desk.lock(trade);
    await desk.untilRejections(trade.orderId, 1);
    expect((await desk.orderOf(trade.orderId)).quote_leg).toMatchObject({
      status: 'locked', swap_id: first.swapId, rejected_locks: [{ reason: 'duplicate_lock', swap_id: second.swapId }],
    });
    const claimTx = await desk.claim(trade, second.swapId);
    await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    const events = await desk.historyOf(trade.orderId);
    expect(events.filter((e) => e.type === 'PayoutQueued').map((e) => e.data.to)).toEqual([trade.buyer.wallet]);
    const order = await desk.orderOf(trade.orderId);
    expect(order.status).toBe('completed');
    expect(order.quote_leg).toMatchObject({ status: 'claimed', claim_tx: claimTx });
  }, 60_000);
});

describe('against another deployment of the interface and an altered token', () => {
  let odd: RunningLedger;
  let contracts: TestContracts;
  let oddDesk: SwapDesk;
  beforeAll(async () => {
    contracts = await deployTestContracts(env.chain);
    odd = await startChainLedger(dirs[1]!.path, { rpcUrl: env.proxy.url, chain: env.chain, htlc: contracts.shortHtlc, usdcToken: contracts.feeToken });
    // This ledger's token is the fee-on-transfer one: the buyer's balance is checked in it.
    const mintFee = async (address: Address, amount: bigint): Promise<void> => {
      await sendAs(env.chain, env.chain.devAddresses[0]!, { address: contracts.feeToken, abi: contracts.feeTokenAbi, functionName: 'mint', args: [address, amount] });
    };
    oddDesk = swapDesk(() => odd, () => env.chain, () => contracts.shortHtlc.address, undefined,
      (address, amount, asset) => (asset === 'eth' ? env.chain.fundEth(address, amount + 10n ** 18n) : mintFee(address, amount)));
  }, 60_000);
  afterAll(async () => {
    await odd?.close();
  });

  it('timelock_too_short: a contract that accepts T half an hour after the lock does not make it count', async () => {
    const trade = await oddDesk.matched('sell', 'eth');
    const bad = await oddDesk.lock(trade, { timelockAfterSeconds: 1_800n });
    await expectAwaitingAfter(oddDesk, trade, 'timelock_too_short', bad.swapId);
    const good = await oddDesk.lock(trade);
    await oddDesk.untilEvent(trade.orderId, 'QuoteLockObserved');
    expect((await oddDesk.orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'locked', swap_id: good.swapId });
  }, 60_000);

  it('transfer_short: a fee-on-transfer token records the full amount, the Transfer to the HTLC is less', async () => {
    const trade = await oddDesk.matched('sell', 'usdc');
    const token = { address: contracts.feeToken, abi: contracts.feeTokenAbi };
    await sendAs(env.chain, env.chain.devAddresses[0]!, { ...token, functionName: 'mint', args: [trade.buyerQuote, trade.amount] });
    await sendAs(env.chain, trade.buyerQuote, { ...token, functionName: 'approve', args: [contracts.shortHtlc.address, trade.amount] });
    const timelock = (await env.chain.latestBlock()).timestamp + 7_200n;
    const receipt = await sendAs(env.chain, trade.buyerQuote, {
      address: contracts.shortHtlc.address, abi: htlcArtifact.abi, functionName: 'createSwapERC20',
      args: [trade.sellerQuote, contracts.feeToken, trade.amount, `0x${trade.htlcHash}`, timelock, trade.orderId],
    });
    const swapId = receipt.logs.find((l) => l.address.toLowerCase() === contracts.shortHtlc.address.toLowerCase())!.topics[1] as Hex;
    await expectAwaitingAfter(oddDesk, trade, 'transfer_short', swapId);
  }, 60_000);
});

// Last: it moves chain time past lock_by, which the ledger computed from its own clock at match.
describe('a lock in a block after lock_by', () => {
  it('locked_after_lock_by: recorded, and the order stays awaiting a lock', async () => {
    const trade = await desk.matched('sell', 'usdc');
    const lockBySeconds = Math.floor(Date.parse(trade.quoteLeg.lock_by as string) / 1000);
    const head = await env.chain.latestBlock();
    await env.chain.advanceTime(lockBySeconds - Number(head.timestamp) + 5);
    const late = await desk.lock(trade);
    await expectAwaitingAfter(desk, trade, 'locked_after_lock_by', late.swapId);
  }, 60_000);
});

/** The buyer's lock and the seller's claim of it mined in one block (automine paused), so getSwap at the lock's block shows it claimed. */
async function lockAndClaimInOneBlock(trade: Trade): Promise<{ swapId: Hex }> {
  const { chain } = env;
  const client = chain.client;
  await chain.fundUsdc(trade.buyerQuote, trade.amount);
  await sendAs(chain, trade.buyerQuote, { address: chain.usdcAddress, abi: testUsdcArtifact.abi, functionName: 'approve', args: [chain.htlcAddress, trade.amount] });
  const timelock = (await chain.latestBlock()).timestamp + 7_200n;
  const create = {
    address: chain.htlcAddress, abi: htlcArtifact.abi, functionName: 'createSwapERC20' as const,
    args: [trade.sellerQuote, chain.usdcAddress, trade.amount, `0x${trade.htlcHash}` as Hex, timelock, trade.orderId] as const,
  };
  const { result: swapId } = await client.simulateContract({ ...create, account: trade.buyerQuote });
  await client.impersonateAccount({ address: trade.buyerQuote });
  await client.impersonateAccount({ address: trade.sellerQuote });
  await client.setAutomine(false);
  try {
    const fees = { chain: client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n, gas: 1_000_000n };
    const lockTx = await client.writeContract({ ...create, account: trade.buyerQuote, ...fees });
    const claimTx = await client.writeContract({
      address: chain.htlcAddress, abi: htlcArtifact.abi, functionName: 'claim', args: [swapId, `0x${trade.secret}`], account: trade.sellerQuote, ...fees,
    });
    await client.mine({ blocks: 1 });
    const [lock, claim] = await Promise.all([client.getTransactionReceipt({ hash: lockTx }), client.getTransactionReceipt({ hash: claimTx })]);
    expect([lock.status, claim.status]).toEqual(['success', 'success']);
    expect(claim.blockNumber).toBe(lock.blockNumber);
  } finally {
    await client.setAutomine(true);
    await client.stopImpersonatingAccount({ address: trade.buyerQuote });
    await client.stopImpersonatingAccount({ address: trade.sellerQuote });
  }
  return { swapId };
}

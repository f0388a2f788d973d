import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs } from 'viem';
import type { Hash, Hex } from 'viem';
import { htlcArtifact } from '../../src/contracts/artifacts.js';
import type { RunningLedger } from '../../src/main.js';
import { useChainAndProxy } from '../chain/support.js';
import { metricValue, startChainLedger, swapDesk } from './quoteChainLedger.js';
import type { Asset, Side, Trade } from './quoteChainLedger.js';
import { tempDir, until } from './support.js';

/**
 * Issue 11's whole swap, for every kind of order: sell and buy orders, paid in USDC and in ETH, on a
 * real anvil the ledger follows in evm mode, every ledger call real HTTP. Three ways to end it: the
 * seller claims on chain and never confirms (the buyer is paid on the chain's word); the seller
 * confirms with the preimage (the fast path); the buyer confirms with the preimage read from the
 * chain after the seller's claim, before the ledger saw that claim.
 * (tests/e2e/quoteSwap.test.ts plays the sell/USDC swap in sandbox mode, where the ledger owns anvil.)
 */

const dir = tempDir('swap-matrix');
const env = useChainAndProxy();
let ledger: RunningLedger;
beforeAll(async () => {
  ledger = await startChainLedger(dir.path, { rpcUrl: env.proxy.url, chain: env.chain });
}, 60_000);
afterAll(async () => {
  await ledger?.close();
  dir.remove();
});
const desk = swapDesk(() => ledger, () => env.chain);

/** Locks, and waits for the ledger to verify the lock. */
async function locked(trade: Trade) {
  const lock = await desk.lock(trade);
  await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
  expect((await desk.orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'locked', swap_id: lock.swapId, lock_tx: lock.txHash, rejected_locks: [] });
  return lock;
}

async function expectPaidToBuyer(trade: Trade): Promise<string[]> {
  const events = await desk.historyOf(trade.orderId);
  const payouts = events.filter((e) => e.type === 'PayoutQueued');
  expect(payouts).toHaveLength(1);
  expect(payouts[0]!.data.to).toBe(trade.buyer.wallet);
  const types = events.map((e) => e.type);
  expect(types).toContain('PayoutConfirmed');
  expect(types).not.toContain('RefundIssued');
  expect((await desk.orderOf(trade.orderId)).status).toBe('completed');
  // The preimage is in no event, nor its ciphertext in plain sight.
  expect(JSON.stringify(events)).not.toContain(trade.secret);
  return types;
}

const cases: Array<[Side, Asset]> = [['sell', 'usdc'], ['sell', 'eth'], ['buy', 'usdc'], ['buy', 'eth']];

describe.each(cases)('a %s order paid in %s', (side, asset) => {
  it('tells the buyer what to lock at match: the contract, the token, the amount in base units, the hashlock, lock_by and the timelock window', async () => {
    const trade = await desk.matched(side, asset);
    expect(trade.quoteLeg).toMatchObject({
      mode: 'evm', chain_id: env.chain.chainId, contract: env.chain.htlcAddress,
      token: asset === 'eth' ? '0x0000000000000000000000000000000000000000' : env.chain.usdcAddress,
      amount_base_units: trade.amount.toString(), status: 'awaiting_lock', swap_id: null, rejected_locks: [],
    });
    // Whole seconds, as a block time is: the earliest T is an hour after the last second a lock may land in.
    const lockBySeconds = Math.floor(Date.parse(trade.quoteLeg.lock_by as string) / 1000);
    expect(Date.parse(trade.quoteLeg.timelock_min as string) / 1000).toBe(lockBySeconds + 3_600);
    expect(Date.parse(trade.quoteLeg.timelock_max as string)).toBeGreaterThan(Date.parse(trade.quoteLeg.timelock_min as string));
  }, 30_000);

  it('releases the RTC to the buyer on the seller\'s claim on chain, with no confirm from anyone', async () => {
    const trade = await desk.matched(side, asset);
    const lock = await locked(trade);
    const claimTx = await desk.claim(trade, lock.swapId);
    await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    const types = await expectPaidToBuyer(trade);
    expect(types).toContain('QuoteClaimObserved');
    expect(types).not.toContain('SettlementClaimed');
    const order = await desk.orderOf(trade.orderId);
    expect(order.quote_leg).toMatchObject({ status: 'claimed', claim_tx: claimTx });
    expect(order.quote_tx).toBe(claimTx);
  }, 60_000);

  it('settles on the seller\'s confirm with the preimage once the lock is verified (the fast path)', async () => {
    const trade = await desk.matched(side, asset);
    await locked(trade);
    const confirmed = await desk.confirm(trade, trade.seller);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ settled: true, order: { status: 'completed' } });
    const types = await expectPaidToBuyer(trade);
    expect(types).toContain('SettlementClaimed');
    expect(types).not.toContain('QuoteClaimObserved');
  }, 60_000);

  it('settles on the buyer\'s confirm with the preimage read from the chain after the seller claimed, and pays once when the ledger then sees the claim', async () => {
    const trade = await desk.matched(side, asset);
    const lock = await locked(trade);
    // The ledger does not see the claim yet: its log reads fail until the proxy heals.
    env.proxy.inject('eth_getLogs', 'http500', 10_000);
    const claimTx = await desk.claim(trade, lock.swapId);
    const preimage = await readPreimage(lock.swapId, claimTx);
    expect(preimage.slice(2)).toBe(trade.secret);
    const confirmed = await desk.confirm(trade, trade.buyer, preimage.slice(2));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.order.status).toBe('completed');
    env.proxy.clear();
    const claimBlock = (await env.chain.client.getTransactionReceipt({ hash: claimTx })).blockNumber;
    await until(async () => ((await metricValue(ledger.url, `otc_ledger_quote_follower_block{chain_id="${env.chain.chainId}",which="checkpoint"}`)) ?? 0) >= Number(claimBlock), 'the follower past the claim', 20_000);
    const types = await expectPaidToBuyer(trade);
    expect(types).toContain('SettlementClaimed');
    // The claim reached a completed order: nothing more is recorded or paid.
    expect(types).not.toContain('QuoteClaimObserved');
  }, 60_000);
});

/** What anyone can read once the seller claimed: getPreimage, and the SwapClaimed log of the claim. */
async function readPreimage(swapId: Hex, claimTx: Hash): Promise<Hex> {
  const client = env.chain.client;
  const stored = await client.readContract({ address: env.chain.htlcAddress, abi: htlcArtifact.abi, functionName: 'getPreimage', args: [swapId] });
  const receipt = await client.getTransactionReceipt({ hash: claimTx });
  const [claimed] = parseEventLogs({ abi: htlcArtifact.abi, eventName: 'SwapClaimed', logs: receipt.logs });
  expect(claimed?.args.preimage).toBe(stored);
  return stored;
}

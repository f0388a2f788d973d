import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFunctionSelector } from 'viem';
import { Registry } from 'prom-client';
import { orderStream } from '../../src/aggregates/order/index.js';
import { verifyLedger } from '../../src/audit/verify.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import type { Hex } from 'viem';
import { startAnvil } from '../../src/chain/anvil.js';
import type { RunningLedger } from '../../src/main.js';
import { SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { useChainAndProxy } from '../chain/support.js';
import { metricValue, startChainLedger, swapDesk } from './quoteChainLedger.js';
import type { Trade } from './quoteChainLedger.js';
import { tempDir, until } from './support.js';

/**
 * The quote leg with orders through what goes wrong on the chain side: RPC faults through the port
 * (5xx, a timeout, a node's error, a capped eth_getLogs, a lagging node), reorganisations deeper than
 * the one confirmation the ledger waits for (anvil snapshot and revert), a restart of the ledger, and
 * two ledgers on one data dir. An outcome the RPC leaves unknown is asked again, never guessed, and
 * the order moves on once the RPC heals; nothing is acted on twice.
 */

const env = useChainAndProxy();
const dir = tempDir('swap-faults');
let ledger: RunningLedger;
// One node that outlives the ledgers, as a real node does (the embedded one would start afresh).
let node: SandboxServer;
const start = () => startChainLedger(dir.path, { rpcUrl: env.proxy.url, chain: env.chain, nodeUrl: node.url });
beforeAll(async () => {
  node = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1000 }) });
  ledger = await start();
}, 60_000);
afterAll(async () => {
  await ledger?.close();
  await node?.close();
  dir.remove();
});
const desk = swapDesk(() => ledger, () => env.chain, () => env.chain.htlcAddress, () => node.url);

const GET_SWAP = toFunctionSelector('getSwap(bytes32)');
const DECIMALS = toFunctionSelector('decimals()');
const series = (name: string, labels: string) => `${name}{chain_id="${env.chain.chainId}"${labels}}`;
const checkpointOf = async (l: RunningLedger = ledger) => (await metricValue(l.url, series('otc_ledger_quote_follower_block', ',which="checkpoint"'))) ?? -1;
const alertsOf = async (code: string, l: RunningLedger = ledger) => (await metricValue(l.url, series('otc_ledger_quote_follower_alerts_total', `,code="${code}"`))) ?? 0;
const callsMatching = (method: string, text: string) => env.proxy.requests(method).filter((b) => b.includes(text.slice(2))).length;

/** Waits until the follower caught up with the chain head as it is now. */
async function untilCaughtUp(l: RunningLedger = ledger): Promise<void> {
  const head = Number((await env.chain.latestBlock()).number);
  await until(async () => (await checkpointOf(l)) >= head, `the follower at block ${head}`, 20_000);
}

/** Nothing was recorded of any lock: the order is matched and awaits one. */
async function expectNothingRecorded(trade: Trade): Promise<void> {
  const types = await desk.typesOf(trade.orderId);
  expect(types).not.toContain('QuoteLockObserved');
  expect(types).not.toContain('QuoteLockRejected');
  expect((await desk.orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'awaiting_lock', rejected_locks: [] });
}

async function lockedTrade(): Promise<{ trade: Trade; swapId: Hex }> {
  const trade = await desk.matched('sell', 'usdc');
  const { swapId } = await desk.lock(trade);
  await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
  return { trade, swapId };
}

describe('RPC faults through the port', () => {
  it('a 5xx on every read of the swap leaves the lock unrecorded (never swap_missing), and it is verified once the RPC heals', async () => {
    const trade = await desk.matched('sell', 'usdc');
    env.proxy.inject('eth_call', 'http500', 10_000, GET_SWAP);
    await desk.lock(trade);
    await until(async () => callsMatching('eth_call', GET_SWAP) >= 6, 'two passes asking for the swap', 20_000);
    await expectNothingRecorded(trade);
    env.proxy.clear();
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
    expect(await desk.typesOf(trade.orderId)).not.toContain('QuoteLockRejected');
  }, 60_000);

  it('a node\'s error on the token\'s decimals is no answer about the token: no wrong_decimals, and the lock counts once it answers', async () => {
    const trade = await desk.matched('sell', 'usdc');
    env.proxy.inject('eth_call', 'rpc_error', 10_000, DECIMALS);
    await desk.lock(trade);
    await until(async () => callsMatching('eth_call', DECIMALS) >= 2, 'two passes asking for the decimals', 20_000);
    await expectNothingRecorded(trade);
    env.proxy.clear();
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
    expect(await desk.typesOf(trade.orderId)).not.toContain('QuoteLockRejected');
  }, 60_000);

  it('a read that timed out is asked again, and the lock is verified', async () => {
    const trade = await desk.matched('sell', 'eth');
    env.proxy.inject('eth_call', 'hang', 1, GET_SWAP);
    await desk.lock(trade);
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved', 40_000);
    expect(callsMatching('eth_call', GET_SWAP)).toBeGreaterThanOrEqual(3);
    expect(await desk.typesOf(trade.orderId)).not.toContain('QuoteLockRejected');
  }, 60_000);

  it('a capped eth_getLogs down to one block stalls the follower with an alert, recording nothing, until the RPC reads again', async () => {
    const trade = await desk.matched('sell', 'usdc');
    const before = await alertsOf('range_capped');
    env.proxy.inject('eth_getLogs', 'cap_logs', 10_000);
    await desk.lock(trade);
    await until(async () => (await alertsOf('range_capped')) > before, 'the range_capped alert', 20_000);
    await expectNothingRecorded(trade);
    env.proxy.clear();
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
  }, 60_000);

  it('a lagging node holds the claim back (no reorg declared, no refund); pointed back at the chain, the buyer is paid', async () => {
    const { trade, swapId } = await lockedTrade();
    const reorgsBefore = await alertsOf('reorg_detected');
    const lagging = await startAnvil({ chainId: env.chain.chainId });
    try {
      env.proxy.retarget(lagging.rpcUrl);
      await desk.claim(trade, swapId);
      const asked = env.proxy.count('eth_chainId');
      await until(async () => env.proxy.count('eth_chainId') >= asked + 2, 'two passes on the lagging node', 20_000);
      expect(await desk.typesOf(trade.orderId)).not.toContain('QuoteClaimObserved');
      expect((await desk.orderOf(trade.orderId)).status).toBe('matched');
      expect(await alertsOf('reorg_detected')).toBe(reorgsBefore);
      env.proxy.retarget();
      await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    } finally {
      env.proxy.retarget();
      await lagging.stop();
    }
    expect((await desk.historyOf(trade.orderId)).filter((e) => e.type === 'PayoutQueued').map((e) => e.data.to)).toEqual([trade.buyer.wallet]);
  }, 60_000);
});

describe('reorganisations deeper than the confirmations', () => {
  it('a claim reorganised away and claimed again in another block pays the buyer once (an alert, never undone)', async () => {
    const { trade, swapId } = await lockedTrade();
    const reorgsBefore = await alertsOf('reorg_detected');
    const actedOnBefore = await alertsOf('reorged_observation_acted_on');
    const snapshot = await env.chain.snapshot();
    await desk.claim(trade, swapId);
    await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    await env.chain.mine(2);
    await untilCaughtUp();
    await env.chain.revert(snapshot);
    await env.chain.mine(1);
    await desk.claim(trade, swapId);
    await env.chain.mine(4);
    await until(async () => (await alertsOf('reorg_detected')) === reorgsBefore + 1, 'the reorg alert', 20_000);
    await untilCaughtUp();
    const types = await desk.typesOf(trade.orderId);
    expect(types.filter((t) => t === 'QuoteClaimObserved')).toHaveLength(1);
    expect(types.filter((t) => t === 'PayoutQueued')).toHaveLength(1);
    expect(types.filter((t) => t === 'QuoteLockObserved')).toHaveLength(1);
    expect(types).not.toContain('RefundIssued');
    expect(types).not.toContain('QuoteObservationReorged');
    expect((await desk.orderOf(trade.orderId)).status).toBe('completed');
    expect(await alertsOf('reorged_observation_acted_on')).toBe(actedOnBefore + 1);
  }, 60_000);

  it('a verified lock reorganised away is forgotten (awaiting_lock, the seller\'s confirm 409 quote_lock_missing); made again, it is verified afresh and its claim pays the buyer once', async () => {
    const trade = await desk.matched('buy', 'usdc');
    const reorgsBefore = await alertsOf('reorg_detected');
    const snapshot = await env.chain.snapshot();
    const first = await desk.lock(trade);
    await desk.untilEvent(trade.orderId, 'QuoteLockObserved');
    await env.chain.mine(2);
    await untilCaughtUp();
    await env.chain.revert(snapshot);
    await env.chain.mine(5);
    await until(async () => (await alertsOf('reorg_detected')) === reorgsBefore + 1, 'the reorg alert', 20_000);
    await desk.untilEvent(trade.orderId, 'QuoteObservationReorged');
    expect((await desk.historyOf(trade.orderId)).find((e) => e.type === 'QuoteObservationReorged')?.data).toMatchObject({ kind: 'lock', swap_id: first.swapId, tx_hash: first.txHash });
    expect((await desk.orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'awaiting_lock' });
    const refused = await desk.confirm(trade, trade.seller);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('quote_lock_missing');
    const again = await desk.lock(trade);
    await until(async () => (await desk.typesOf(trade.orderId)).filter((t) => t === 'QuoteLockObserved').length === 2, 'the lock made again verified', 20_000);
    expect((await desk.orderOf(trade.orderId)).quote_leg).toMatchObject({ status: 'locked' });
    await desk.claim(trade, again.swapId);
    await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    await env.chain.mine(2);
    await untilCaughtUp();
    const history = await desk.historyOf(trade.orderId);
    expect(history.filter((e) => e.type === 'QuoteLockObserved').map((e) => e.data.swap_id)).toEqual([first.swapId, again.swapId]);
    expect(history.filter((e) => e.type === 'QuoteObservationReorged')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'QuoteLockRejected')).toHaveLength(0);
    expect(history.filter((e) => e.type === 'PayoutQueued').map((e) => e.data.to)).toEqual([trade.buyer.wallet]);
    // verify accepts the vanished lock, since the order recorded its QuoteObservationReorged.
    const quoteChain = { chainId: env.chain.chainId, chain: createEvmQuoteChain({ rpcUrl: env.chain.rpcUrl, htlcAddress: env.chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry() }) };
    const findings = (await verifyLedger({ store: ledger.store, readDb: null, quoteChain })).findings;
    expect(findings.filter((f) => f.stream === orderStream(trade.orderId))).toEqual([]);
  }, 60_000);
});

describe('restarts and a second ledger', () => {
  it('a restarted ledger resumes the follower from its checkpoint and acts on what happened while it was down', async () => {
    const { trade, swapId } = await lockedTrade();
    await untilCaughtUp();
    await ledger.close();
    const checkpoint = BigInt((await env.chain.latestBlock()).number);
    await desk.claim(trade, swapId);
    env.proxy.clear();
    ledger = await start();
    await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
    const firstRead = JSON.parse(env.proxy.requests('eth_getLogs')[0]!) as { params: [{ fromBlock: Hex }] };
    expect(BigInt(firstRead.params[0].fromBlock)).toBe(checkpoint + 1n);
    const types = await desk.typesOf(trade.orderId);
    expect(types.filter((t) => t === 'QuoteLockObserved')).toHaveLength(1);
    expect(types.filter((t) => t === 'PayoutQueued')).toHaveLength(1);
  }, 60_000);

  it('two ledgers on one data dir: one follower leads, every observation and the payout happen once', async () => {
    const second = await start();
    try {
      const { trade, swapId } = await lockedTrade();
      await desk.claim(trade, swapId);
      await desk.untilEvent(trade.orderId, 'PayoutConfirmed');
      await env.chain.mine(2);
      const head = Number((await env.chain.latestBlock()).number);
      await until(async () => Math.max(await checkpointOf(ledger), await checkpointOf(second)) >= head, 'a follower at the head', 20_000);
      const types = await desk.typesOf(trade.orderId);
      for (const type of ['QuoteLockObserved', 'QuoteClaimObserved', 'EscrowReleased', 'PayoutQueued']) expect(types.filter((t) => t === type)).toHaveLength(1);
      const standingBy = async (l: RunningLedger) => (await metricValue(l.url, series('otc_ledger_quote_follower_passes_total', ',outcome="not_leader"'))) ?? 0;
      expect((await standingBy(ledger)) + (await standingBy(second))).toBeGreaterThan(0);
    } finally {
      await second.close();
    }
  }, 60_000);
});

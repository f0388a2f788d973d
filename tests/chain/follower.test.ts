import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { startAnvil } from '../../src/chain/anvil.js';
import { htlcArtifact } from '../../src/contracts/artifacts.js';
import { createChainFollower } from '../../src/chain/follower.js';
import type { ChainFollowerOptions } from '../../src/chain/follower.js';
import { createFollowerStore } from '../../src/chain/followerStore.js';
import type { ChainObservation, FollowerAlert, OrderDirectory, ReorgedObservation } from '../../src/chain/observations.js';
import type { ExpectedLock } from '../../src/chain/verifyLock.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import { createMemoryLeases, createSqliteLeases } from '../../src/settlement/leases.js';
import type { SandboxChain } from '../../src/sandbox/chain.js';
import type { FaultProxy } from './faultProxy.js';
import { freshOrderId, freshSecret, HOUR, useChainAndProxy } from './support.js';

let chain: SandboxChain;
let proxy: FaultProxy;
let buyer: Address;
let seller: Address;
let stranger: Address;
let dir: string;

const env = useChainAndProxy();
beforeAll(() => {
  ({ chain, proxy, buyer, seller, stranger } = env);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'otc-follower-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The ledger's side, as the follower sees it: orders with a chain-verified USDC quote leg. */
function orderBook() {
  const orders = new Map<string, ExpectedLock>();
  const byHash = new Map<string, string>();
  const directory: OrderDirectory = {
    expectedLock: async (orderId) => orders.get(orderId) ?? null,
    orderByHashlock: async (hashlock) => byHash.get(hashlock.toLowerCase()) ?? null,
  };
  const place = (totalQuoteNano = 1_000_000_000n) => {
    const orderId = freshOrderId();
    const secret = freshSecret();
    orders.set(orderId, {
      orderId, htlcHash: secret.hashlock, sellerQuoteAddress: seller, buyerQuoteAddress: buyer, htlcAddress: chain.htlcAddress,
      asset: 'usdc', token: chain.usdcAddress, totalQuoteNano, lockBySeconds: 10n ** 12n,
      timelockMinSeconds: HOUR, timelockMaxSeconds: 4n * HOUR, latestTimelockSeconds: null,
    });
    byHash.set(secret.hashlock.toLowerCase(), orderId);
    return { orderId, ...secret, amount: (totalQuoteNano + 999n) / 1000n };
  };
  return { directory, place };
}

type Order = ReturnType<ReturnType<typeof orderBook>['place']>;

async function lock(order: Order, change: { seller?: Address; orderId?: string } = {}) {
  await chain.fundUsdc(buyer, order.amount);
  const timelock = (await chain.latestBlock()).timestamp + 2n * HOUR;
  return chain.lockUsdc({ buyer, seller: change.seller ?? seller, hashlock: order.hashlock, timelock, orderId: change.orderId ?? order.orderId, amount: order.amount });
}

async function setUp(overrides: Partial<ChainFollowerOptions> = {}) {
  const book = orderBook();
  const seen: ChainObservation[] = [];
  const alerts: FollowerAlert[] = [];
  const registry = new Registry();
  const db = new Database(join(dir, 'chain.db'));
  const port = createEvmQuoteChain({ rpcUrl: proxy.url, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry, timeoutMs: 300, retries: 0 });
  const options: ChainFollowerOptions = {
    chain: port, chainId: chain.chainId, db, directory: book.directory,
    sink: { onObservation: (o) => void seen.push(o) }, leases: createMemoryLeases(), owner: 'test', registry,
    startBlock: (await chain.latestBlock()).number + 1n, onAlert: (a) => void alerts.push(a), ...overrides,
  };
  return { book, seen, alerts, registry, db, options, follower: createChainFollower(options) };
}

const metric = async (registry: Registry, text: string): Promise<boolean> => (await registry.metrics()).includes(text);

describe('the chain follower', () => {
  it('delivers a verified lock, a rejected lock, a claim with its preimage and a refund, once each', async () => {
    const { book, seen, follower } = await setUp();
    const paid = book.place();
    const refunded = book.place();
    const paidLock = await lock(paid);
    const wrongSeller = await lock(refunded, { seller: stranger });
    const refundedLock = await lock(refunded);
    await chain.claim(seller, paidLock.swapId, paid.preimage);
    const report = await follower.pollOnce();
    expect(report).toMatchObject({ outcome: 'advanced', delivered: 4 });
    await chain.advanceTime(3 * 3600);
    await chain.refund(buyer, refundedLock.swapId);
    await chain.refund(buyer, wrongSeller.swapId);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 2 });
    expect(seen.map((o) => [o.kind, o.orderId, o.swapId])).toEqual([
      ['lock_seen', paid.orderId, paidLock.swapId],
      ['lock_seen', refunded.orderId, wrongSeller.swapId],
      ['lock_seen', refunded.orderId, refundedLock.swapId],
      ['claim_seen', paid.orderId, paidLock.swapId],
      ['refund_seen', refunded.orderId, refundedLock.swapId],
      ['refund_seen', refunded.orderId, wrongSeller.swapId],
    ]);
    expect(seen[0]).toMatchObject({ verdict: { ok: true, lock: { amountBaseUnits: paid.amount } } });
    expect(seen[1]).toMatchObject({ verdict: { ok: false, reason: 'wrong_seller' } });
    expect(seen[3]).toMatchObject({ kind: 'claim_seen', preimage: paid.preimage, hashlock: paid.hashlock.toLowerCase() });
    expect(seen[0]!.key).toBe(`${chain.chainId}:${paidLock.txHash.toLowerCase()}:${seen[0]!.logIndex}`);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'caught_up', delivered: 0 });
    expect(seen).toHaveLength(6);
  });

  it('counts and sets aside logs for no known order, a malformed order id, a duplicate swap id and claims of unknown hashes', async () => {
    const { book, seen, follower, registry, db, options } = await setUp();
    const unknown = freshSecret();
    await chain.fundUsdc(buyer, 5n);
    const timelock = (await chain.latestBlock()).timestamp + 2n * HOUR;
    const stray = await chain.lockUsdc({ buyer, seller, hashlock: unknown.hashlock, timelock, orderId: freshOrderId(), amount: 1n });
    await chain.lockUsdc({ buyer, seller, hashlock: unknown.hashlock, timelock, orderId: 'otc_NOT-AN-ID; DROP TABLE', amount: 1n });
    await chain.claim(seller, stray.swapId, unknown.preimage);
    const order = book.place();
    const duplicate = await lock(order);
    createFollowerStore(db).rememberSwap(options.chainId, duplicate.swapId, order.orderId, order.hashlock, 'another:log:0');
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 0 });
    expect(seen).toEqual([]);
    expect(await metric(registry, `otc_ledger_quote_follower_bad_logs_total{chain_id="${chain.chainId}",reason="unknown_order"} 2`)).toBe(true);
    expect(await metric(registry, `otc_ledger_quote_follower_bad_logs_total{chain_id="${chain.chainId}",reason="malformed_order_id"} 1`)).toBe(true);
    expect(await metric(registry, `otc_ledger_quote_follower_bad_logs_total{chain_id="${chain.chainId}",reason="duplicate_swap_id"} 1`)).toBe(true);
  });

  it("records a lock naming no order for the order whose hashlock it carries, rejected as wrong_order_id, and counts the bad id", async () => {
    const { book, seen, follower, registry } = await setUp();
    const order = book.place();
    const malformed = await lock(order, { orderId: 'not an order id' });
    const unknownId = await lock(order, { orderId: freshOrderId() });
    expect(await follower.pollOnce()).toMatchObject({ delivered: 2 });
    expect(seen.map((o) => [o.kind, o.orderId, o.swapId, o.kind === 'lock_seen' && !o.verdict.ok ? o.verdict.reason : null])).toEqual([
      ['lock_seen', order.orderId, malformed.swapId, 'wrong_order_id'],
      ['lock_seen', order.orderId, unknownId.swapId, 'wrong_order_id'],
    ]);
    expect(await metric(registry, `otc_ledger_quote_follower_bad_logs_total{chain_id="${chain.chainId}",reason="malformed_order_id"} 1`)).toBe(true);
    expect(await metric(registry, `otc_ledger_quote_follower_bad_logs_total{chain_id="${chain.chainId}",reason="unknown_order"} 1`)).toBe(true);
  });

  it('never reads a lock made at another contract', async () => {
    const { book, seen, follower } = await setUp();
    const other = await chain.client.deployContract({ abi: htlcArtifact.abi, bytecode: htlcArtifact.bytecode, account: chain.devAddresses[0]!, chain: chain.client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
    const receipt = await chain.client.waitForTransactionReceipt({ hash: other });
    const order = book.place();
    const timelock = (await chain.latestBlock()).timestamp + 2n * HOUR;
    await chain.fundEth(buyer, 10n ** 18n);
    await chain.client.writeContract({
      address: receipt.contractAddress!, abi: htlcArtifact.abi, functionName: 'createSwapETH', args: [seller, order.hashlock, timelock, order.orderId],
      value: 1n, account: chain.devAddresses[1]!, chain: chain.client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n,
    });
    await chain.mine();
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 0 });
    expect(seen).toEqual([]);
  });

  it('resumes from its checkpoint after a restart and delivers nothing twice', async () => {
    const first = await setUp();
    const order = first.book.place();
    await lock(order);
    expect(await first.follower.pollOnce()).toMatchObject({ delivered: 1 });
    const checkpoint = first.follower.status().checkpoint;
    first.db.close();
    const db = new Database(join(dir, 'chain.db'));
    const seen: ChainObservation[] = [];
    const restarted = createChainFollower({ ...first.options, db, sink: { onObservation: (o) => void seen.push(o) } });
    expect(restarted.status().checkpoint).toEqual(checkpoint);
    expect(await restarted.pollOnce()).toMatchObject({ delivered: 0 });
    const lockTx = await lock(order);
    expect(await restarted.pollOnce()).toMatchObject({ delivered: 1 });
    expect(seen.map((o) => o.txHash)).toEqual([lockTx.txHash]);
    db.close();
  });

  it('delivers again, next pass, an observation the sink refused, and only that one', async () => {
    let refuse = true;
    const accepted: ChainObservation[] = [];
    const { book, follower } = await setUp({
      sink: {
        onObservation: (o) => {
          if (o.kind === 'claim_seen' && refuse) throw new Error('store unavailable');
          accepted.push(o);
        },
      },
    });
    const order = book.place();
    const locked = await lock(order);
    await chain.claim(seller, locked.swapId, order.preimage);
    const before = follower.status().checkpoint;
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'stalled', delivered: 0, reason: 'store unavailable' });
    expect(follower.status().checkpoint).toEqual(before);
    refuse = false;
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    expect(accepted.map((o) => o.kind)).toEqual(['lock_seen', 'claim_seen']);
  });
});

describe('the chain follower running on its own', () => {
  it('polls on a timer, reports each finalized block it has caught up to, and stops when asked, leaving the lease', async () => {
    const finalized: bigint[] = [];
    const seen: ChainObservation[] = [];
    const leases = createMemoryLeases();
    const { book, follower, options } = await setUp({ leases, sink: { onObservation: (o) => void seen.push(o), onFinalized: (b) => void finalized.push(b.number) } });
    await lock(book.place());
    const head = (await chain.latestBlock()).number;
    const stop = follower.start(20);
    await expect.poll(() => finalized.at(-1), { timeout: 5_000, interval: 20 }).toBe(head);
    await stop();
    expect(seen).toHaveLength(1);
    expect(leases.acquire(`quote-chain-follower:${options.chainId}`, 'someone-else', 1000, Date.now())).toBe(true);
  });
});

describe('the clock-drift alert', () => {
  it("alerts once, by metric and alert, when the ledger's clock is hours off a fresh chain head, and changes nothing else", async () => {
    // Earlier tests moved chain time; the ledger's clock here is the chain's plus three hours.
    const chainNowMs = Number((await chain.latestBlock()).timestamp) * 1000;
    const drifts: number[] = [];
    const { book, seen, alerts, follower, registry } = await setUp({ clockDriftLimitSeconds: 60, now: () => chainNowMs + 3 * 3600 * 1000, onClockDrift: (d) => void drifts.push(d) });
    expect(await follower.pollOnce()).toMatchObject({ delivered: 0 });
    await lock(book.place());
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    expect(alerts).toEqual([expect.objectContaining({ code: 'clock_drift', chainId: chain.chainId })]);
    const drift = (alerts[0] as { driftSeconds: number }).driftSeconds;
    expect(drift).toBeGreaterThan(3 * 3600 - 60);
    expect(drift).toBeLessThanOrEqual(3 * 3600);
    expect(drifts).toEqual([drift]);
    expect(await metric(registry, `otc_ledger_quote_chain_clock_drift_seconds{chain_id="${chain.chainId}"} ${drift}`)).toBe(true);
    expect(await metric(registry, `otc_ledger_quote_follower_alerts_total{chain_id="${chain.chainId}",code="clock_drift"} 1`)).toBe(true);
    expect(seen).toHaveLength(1);
    // Still adrift on the next fresh head: measured again, not alerted again.
    await lock(book.place());
    expect(await follower.pollOnce()).toMatchObject({ delivered: 1 });
    expect(drifts).toHaveLength(2);
    expect(alerts).toHaveLength(1);
  });

  it('stays quiet while the clocks agree', async () => {
    const chainNowMs = Number((await chain.latestBlock()).timestamp) * 1000;
    const { book, alerts, follower } = await setUp({ clockDriftLimitSeconds: 60, now: () => chainNowMs + 30_000 });
    await follower.pollOnce();
    await lock(book.place());
    await follower.pollOnce();
    expect(alerts).toEqual([]);
  });

  it('measures nothing on a head that stands still (an idle chain), nor on one read too long after the last', async () => {
    let clockMs = Number((await chain.latestBlock()).timestamp) * 1000;
    const drifts: number[] = [];
    const { book, alerts, follower } = await setUp({ clockDriftLimitSeconds: 60, now: () => clockMs, onClockDrift: (d) => void drifts.push(d) });
    await follower.pollOnce();
    clockMs += 3 * 3600 * 1000;
    await follower.pollOnce();
    expect(drifts).toEqual([]);
    await lock(book.place());
    clockMs += 3 * 3600 * 1000;
    await follower.pollOnce();
    expect(drifts).toEqual([]);
    expect(alerts).toEqual([]);
  });
});

describe('the chain follower through RPC faults', () => {
  it('never moves past a range whose eth_getLogs timed out', async () => {
    const { book, seen, follower } = await setUp();
    await lock(book.place());
    proxy.inject('eth_getLogs', 'hang');
    const stalled = await follower.pollOnce();
    expect(stalled).toMatchObject({ outcome: 'stalled', checkpoint: null, delivered: 0 });
    expect(follower.status().checkpoint).toBeNull();
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    expect(seen).toHaveLength(1);
  });

  it('halves a capped range and still reads every block; a cap on a single block stalls it with an alert', async () => {
    const { book, seen, follower, alerts, options } = await setUp({ maxRangeBlocks: 8n });
    await lock(book.place());
    await chain.mine(6);
    proxy.inject('eth_getLogs', 'cap_logs', 1);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    expect(proxy.count('eth_getLogs')).toBeGreaterThanOrEqual(3);
    expect(seen).toHaveLength(1);
    await lock(book.place());
    const checkpoint = follower.status().checkpoint;
    proxy.inject('eth_getLogs', 'cap_logs', 10);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'stalled', delivered: 0 });
    expect(follower.status().checkpoint).toEqual(checkpoint);
    expect(alerts).toEqual([expect.objectContaining({ code: 'range_capped', chainId: options.chainId })]);
    proxy.clear();
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
  });

  it('stalls, declaring no reorg and never moving chain time back, on an RPC node that lags behind its checkpoint', async () => {
    const finalized: bigint[] = [];
    const { book, follower, alerts, options } = await setUp({ sink: { onObservation: () => undefined, onFinalized: (b) => void finalized.push(b.number) } });
    await lock(book.place());
    await chain.mine(3);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    const checkpoint = follower.status().checkpoint;
    // The same chain id served by a node that has seen only its first blocks.
    const lagging = await startAnvil({ chainId: chain.chainId });
    try {
      const behind = createChainFollower({
        ...options,
        chain: createEvmQuoteChain({ rpcUrl: lagging.rpcUrl, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry: new Registry(), timeoutMs: 300, retries: 0 }),
      });
      const report = await behind.pollOnce();
      expect(report).toMatchObject({ outcome: 'stalled', delivered: 0 });
      expect(report.reason).toMatch(/behind the checkpoint/);
    } finally {
      await lagging.stop();
    }
    expect(follower.status()).toMatchObject({ checkpoint, lastReorg: null });
    expect(alerts).toEqual([]);
    expect(finalized).toEqual([checkpoint!.blockNumber]);
  });

  it('stops acting, with an alert, when the RPC answers for another chain', async () => {
    const { book, follower, alerts, seen } = await setUp();
    await lock(book.place());
    proxy.inject('eth_chainId', 'chain_id_1');
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'stalled', delivered: 0 });
    expect(alerts).toEqual([{ code: 'wrong_chain_id', chainId: chain.chainId, reported: 1 }]);
    expect(seen).toEqual([]);
  });
});

describe('the chain follower and reorganisations', () => {
  it('detects a replaced checkpoint block, rescans from earlier, and delivers the new chain without repeating anything', async () => {
    const gone: ReorgedObservation[] = [];
    const seen: ChainObservation[] = [];
    const { book, follower, alerts, registry } = await setUp({
      rescanDepthBlocks: 16n, sink: { onObservation: (o) => void seen.push(o), onReorged: async (g) => (gone.push(g), 'recorded') },
    });
    const kept = book.place();
    await lock(kept);
    const snapshot = await chain.snapshot();
    const dropped = book.place();
    await lock(dropped);
    await chain.mine(2);
    expect(await follower.pollOnce()).toMatchObject({ delivered: 2 });
    const before = follower.status().checkpoint!;
    await chain.revert(snapshot);
    const replacement = book.place();
    await lock(replacement);
    await chain.mine(4);
    const reorg = await follower.pollOnce();
    expect(reorg).toMatchObject({ outcome: 'reorg', delivered: 0 });
    expect(alerts).toEqual([expect.objectContaining({ code: 'reorg_detected', blockNumber: before.blockNumber, checkpointHash: before.blockHash })]);
    expect(follower.status().lastReorg).toMatchObject({ blockNumber: before.blockNumber, checkpointHash: before.blockHash });
    expect(await metric(registry, `otc_ledger_quote_follower_reorgs_total{chain_id="${chain.chainId}"} 1`)).toBe(true);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    expect(seen.map((o) => o.orderId)).toEqual([kept.orderId, dropped.orderId, replacement.orderId]);
    expect(new Set(seen.map((o) => o.key)).size).toBe(seen.length);
    // The dropped lock's log is gone from the rescanned blocks: handed to the sink once; the kept one is not.
    expect(gone).toEqual([expect.objectContaining({ key: seen[1]!.key, orderId: dropped.orderId, kind: 'lock_seen', swapId: seen[1]!.swapId.toLowerCase() })]);
    expect(alerts.map((a) => a.code)).toEqual(['reorg_detected']);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'caught_up', delivered: 0 });
    expect(gone).toHaveLength(1);
  });

  it('alerts reorged_observation_acted_on when the sink says the ledger already acted on what vanished', async () => {
    const { book, follower, alerts } = await setUp({
      rescanDepthBlocks: 16n, sink: { onObservation: () => undefined, onReorged: async () => 'acted_on' },
    });
    const snapshot = await chain.snapshot();
    const dropped = book.place();
    await lock(dropped);
    await chain.mine(2);
    expect(await follower.pollOnce()).toMatchObject({ delivered: 1 });
    await chain.revert(snapshot);
    await chain.mine(5);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'reorg' });
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 0 });
    expect(alerts.map((a) => a.code)).toEqual(['reorg_detected', 'reorged_observation_acted_on']);
    expect(alerts[1]).toMatchObject({ orderId: dropped.orderId });
  });
});

describe('two followers on one data dir', () => {
  it('a follower whose lease expired mid-pass and passed to another delivers nothing more', async () => {
    const leases = createMemoryLeases();
    let clock = 1_000_000;
    const seen: ChainObservation[] = [];
    const { book, follower, options } = await setUp({
      leases, owner: 'slow', leaseTtlMs: 1_000, now: () => clock, maxRangeBlocks: 1n,
      sink: { onObservation: (o) => void seen.push(o) },
    });
    await lock(book.place());
    await chain.mine(2);
    await lock(book.place());
    // Its first delivery outlasts the lease, which another follower then takes over.
    const paused = createChainFollower({
      ...options,
      sink: {
        onObservation: (o) => {
          seen.push(o);
          clock += 5_000;
          leases.acquire(`quote-chain-follower:${options.chainId}`, 'fast', 60_000, clock);
        },
      },
    });
    const report = await paused.pollOnce();
    expect(report).toMatchObject({ outcome: 'stalled', delivered: 1, reason: 'the lease passed to another follower' });
    expect(seen).toHaveLength(1);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'not_leader' });
  });

  it('deliver each observation once: one holds the lease, the other stands by', async () => {
    const leases = createSqliteLeases(join(dir, 'leases.db'));
    const otherLeases = createSqliteLeases(join(dir, 'leases.db'));
    const seen: ChainObservation[] = [];
    const sink = { onObservation: (o: ChainObservation) => void seen.push(o) };
    const a = await setUp({ leases, owner: 'process-a', sink });
    const b = createChainFollower({ ...a.options, db: new Database(join(dir, 'chain.db')), leases: otherLeases, owner: 'process-b', sink });
    const order = a.book.place();
    const locked = await lock(order);
    await chain.claim(seller, locked.swapId, order.preimage);
    const reports = await Promise.all([a.follower.pollOnce(), b.pollOnce(), a.follower.pollOnce(), b.pollOnce()]);
    expect(reports.filter((r) => r.outcome === 'not_leader')).toHaveLength(2);
    expect(seen.map((o) => o.kind)).toEqual(['lock_seen', 'claim_seen']);
    leases.close();
    otherLeases.close();
  });
});

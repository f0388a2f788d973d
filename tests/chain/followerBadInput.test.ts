import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeEventTopics, type Address, type Hex } from 'viem';
import { createChainFollower } from '../../src/chain/follower.js';
import type { ChainObservation, FollowerAlert, OrderDirectory } from '../../src/chain/observations.js';
import type { ExpectedLock } from '../../src/chain/verifyLock.js';
import { htlcArtifact } from '../../src/contracts/artifacts.js';
import { createEvmQuoteChain } from '../../src/gateways/quoteChainEvm.js';
import { startSandboxChain, type SandboxChain } from '../../src/sandbox/chain.js';
import { createMemoryLeases } from '../../src/settlement/leases.js';
import { startFaultProxy, type FaultProxy } from './faultProxy.js';
import { freshOrderId, freshSecret, HOUR } from './support.js';

/**
 * Bad input from the chain (issue 11, item 9) never crashes or stalls the follower: logs at the HTLC
 * address that do not decode as its events, then a valid lock in the same pass, are counted and
 * skipped, and the lock is still delivered; an RPC answering for another chain at run time stops
 * acting with an alert that /metrics counts, and the follower goes on once the RPC is right again.
 */

let chain: SandboxChain;
let proxy: FaultProxy;
let buyer: Address;
let seller: Address;
let dir: string;

beforeAll(async () => {
  chain = await startSandboxChain();
  proxy = await startFaultProxy(chain.rpcUrl);
  [, buyer, seller] = chain.devAddresses as [Address, Address, Address];
});
afterAll(async () => {
  await proxy?.close();
  await chain?.stop();
});
beforeEach(() => {
  proxy.clear();
  dir = mkdtempSync(join(tmpdir(), 'otc-follower-bad-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function setUp() {
  const orders = new Map<string, ExpectedLock>();
  const byHash = new Map<string, string>();
  const directory: OrderDirectory = {
    expectedLock: async (orderId) => orders.get(orderId) ?? null,
    orderByHashlock: async (hashlock) => byHash.get(hashlock.toLowerCase()) ?? null,
  };
  const place = () => {
    const orderId = freshOrderId();
    const secret = freshSecret();
    orders.set(orderId, {
      orderId, htlcHash: secret.hashlock, sellerQuoteAddress: seller, buyerQuoteAddress: buyer, htlcAddress: chain.htlcAddress,
      asset: 'usdc', token: chain.usdcAddress, totalQuoteNano: 1_000_000_000n, lockBySeconds: 10n ** 12n,
      timelockMinSeconds: HOUR, timelockMaxSeconds: 4n * HOUR, latestTimelockSeconds: null,
    });
    byHash.set(secret.hashlock.toLowerCase(), orderId);
    return { orderId, ...secret, amount: 1_000_000n };
  };
  const seen: ChainObservation[] = [];
  const alerts: FollowerAlert[] = [];
  const registry = new Registry();
  const port = createEvmQuoteChain({ rpcUrl: proxy.url, htlcAddress: chain.htlcAddress, finality: { kind: 'confirmations', count: 1 }, registry, timeoutMs: 1_000, retries: 0 });
  const follower = createChainFollower({
    chain: port, chainId: chain.chainId, db: new Database(join(dir, 'chain.db')), directory, sink: { onObservation: (o) => void seen.push(o) },
    leases: createMemoryLeases(), owner: 'test', registry, startBlock: (await chain.latestBlock()).number + 1n, onAlert: (a) => void alerts.push(a),
  });
  return { place, seen, alerts, registry, follower };
}

const metric = async (registry: Registry, line: string): Promise<boolean> => (await registry.metrics()).split('\n').includes(line);

/**
 * Runtime code that emits, at the HTLC's own address, a SwapCreated and a SwapClaimed carrying only
 * their event topic (no indexed swap id, no data: neither decodes) and an event of another contract.
 */
function emitterCode(): Hex {
  const [created] = encodeEventTopics({ abi: htlcArtifact.abi, eventName: 'SwapCreated' }) as Hex[];
  const [claimed] = encodeEventTopics({ abi: htlcArtifact.abi, eventName: 'SwapClaimed' }) as Hex[];
  const log1 = (topic: Hex) => `7f${topic.slice(2)}60006000a1`;
  return `0x${log1(created!)}${log1(claimed!)}${log1(`0x${'42'.repeat(32)}`)}00`;
}

async function emitBadLogsAtTheHtlc(): Promise<void> {
  const real = await chain.client.getCode({ address: chain.htlcAddress });
  await chain.client.setCode({ address: chain.htlcAddress, bytecode: emitterCode() });
  try {
    const hash = await chain.client.sendTransaction({
      account: chain.devAddresses[0]!, to: chain.htlcAddress, chain: chain.client.chain ?? null, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n,
    });
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    expect(receipt.logs).toHaveLength(3);
  } finally {
    // The HTLC's code back (its storage never left), so later locks are real ones.
    await chain.client.setCode({ address: chain.htlcAddress, bytecode: real! });
  }
}

describe('the follower and bad input from the chain', () => {
  it('counts logs at the HTLC address that do not decode, ignores another event, and still delivers a valid lock of the same pass', async () => {
    const { place, seen, registry, follower } = await setUp();
    await emitBadLogsAtTheHtlc();
    const order = place();
    await chain.fundUsdc(buyer, order.amount);
    const timelock = (await chain.latestBlock()).timestamp + 2n * HOUR;
    const locked = await chain.lockUsdc({ buyer, seller, hashlock: order.hashlock, timelock, orderId: order.orderId, amount: order.amount });
    const report = await follower.pollOnce();
    expect(report).toMatchObject({ outcome: 'advanced', delivered: 1, checkpoint: { blockNumber: (await chain.latestBlock()).number } });
    expect(seen.map((o) => [o.kind, o.orderId, o.swapId])).toEqual([['lock_seen', order.orderId, locked.swapId]]);
    expect(await metric(registry, `otc_ledger_quote_follower_bad_logs_total{chain_id="${chain.chainId}",reason="undecodable_log"} 2`)).toBe(true);
    // Nothing left to read: the next pass is caught up, delivering nothing twice.
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'caught_up', delivered: 0 });
  });

  it('stops acting on an RPC that answers for another chain at run time, counts the alert, and resumes once it is right again', async () => {
    const { place, seen, alerts, registry, follower } = await setUp();
    const order = place();
    await chain.fundUsdc(buyer, order.amount);
    const timelock = (await chain.latestBlock()).timestamp + 2n * HOUR;
    await chain.lockUsdc({ buyer, seller, hashlock: order.hashlock, timelock, orderId: order.orderId, amount: order.amount });
    proxy.inject('eth_chainId', 'chain_id_1', 2);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'stalled', delivered: 0, checkpoint: null });
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'stalled', delivered: 0, checkpoint: null });
    expect(alerts.map((a) => a.code)).toEqual(['wrong_chain_id', 'wrong_chain_id']);
    expect(await metric(registry, `otc_ledger_quote_follower_alerts_total{chain_id="${chain.chainId}",code="wrong_chain_id"} 2`)).toBe(true);
    expect(seen).toEqual([]);
    expect(await follower.pollOnce()).toMatchObject({ outcome: 'advanced', delivered: 1 });
    expect(seen.map((o) => o.orderId)).toEqual([order.orderId]);
  });
});

import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import type { Address, Hex } from 'viem';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { heldEscrow, orderStream } from '../../src/aggregates/order/index.js';
import type { LedgerDeps } from '../../src/app/deps.js';
import { createLedger, type Ledger } from '../../src/app/ledger.js';
import { createObservationSink, createOrderDirectory } from '../../src/app/observeQuoteChain.js';
import { createFinalLookUp, type FinalLookUp } from '../../src/app/finalLookUp.js';
import type { QuoteLegDeps } from '../../src/app/quoteLeg.js';
import { createChainFollower, type ChainFollower } from '../../src/chain/follower.js';
import { quoteBaseUnits } from '../../src/chain/verifyLock.js';
import { createSecretBox, htlcHashOf } from '../../src/crypto/preimage.js';
import type { BlockRef, QuoteChain } from '../../src/gateways/quoteChain.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import type { StepReport } from '../../src/settlement/driver.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';
import { Prng } from '../../src/sim/prng.js';
import { SIM_CHAIN_ID, SIM_HTLC, SIM_USDC, SimChain } from '../../src/sim/simChain.js';
import { facts } from '../support/orderFixtures.js';
import { NODE_TIMEOUT_MS, req, startSettlementHarness, type SettlementHarness } from '../support/settlementHarness.js';

/**
 * A bug the simulator found on the quote leg (seed 41, docs/RELIABILITY.md), pinned with the real
 * ledger, sink, directory and follower over the simulated chain and the sandbox node over HTTP:
 * the final look-up after a refund read the chain at the refund's own block, so a second lock made
 * after it (final by the time the follower delivered the refund, and claimable by the seller) was
 * missed, and the seller's RTC went back while the seller could still take the quote.
 *
 * Since custody, the ledger's worker holds the escrow job from the match on (EscrowHeld), and the
 * refund of a held job waits for the job's expiry at the node: the seller's refund is decided
 * (OrderExpired, refund_pending) once every swap is refunded, and issued once the node's job has
 * expired. The node here runs on the test's clock, so that expiry can be reached.
 */
const SELLER_Q = '0x1111111111111111111111111111111111111111' as Address;
const BUYER_Q = '0x2222222222222222222222222222222222222222' as Address;
const ETH = '0x0000000000000000000000000000000000000000' as Address;

let h: SettlementHarness;
let db: Database.Database;
let ledger: Ledger;
let follower: ChainFollower;
let chain: SimChain;
let failSellerLogs = 0;
let node: SandboxNode;
let nodeServer: SandboxServer;
let gateway: RustchainGateway;
let deps: LedgerDeps & { quoteLeg: QuoteLegDeps };
/** The last finalized block the follower processed, and the final look-up the reconciler's chain-time step uses, as quoteChainFromConfig wires them. */
let finalized: BlockRef | null = null;
let finalLookUp: FinalLookUp;
/** Every step a driver ran, with its outcome (node_calls by step and outcome in src/main.ts). */
let steps: StepReport[] = [];

beforeEach(async () => {
  h = await startSettlementHarness();
  // The sandbox node over HTTP, on the test's clock: a held job's expiry is the node's to reach.
  node = new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1000, now: () => h.clock.nowMs });
  nodeServer = await startSandboxServer({ node });
  gateway = createRustchainGateway({ baseUrl: nodeServer.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: NODE_TIMEOUT_MS });
  for (const w of [h.seller, h.buyer]) node.fund(w.wallet, 1_000_000_000_000n);
  db = new Database(':memory:');
  chain = new SimChain({ prng: new Prng(1), genesisSeconds: BigInt(Math.floor(h.clock.nowMs / 1000)), confirmations: 1, faultRate: 0, onFault: () => undefined });
  // A look-up read that fails, when a test asks for it; every other read is the simulated chain's.
  const reads: QuoteChain = Object.create(chain) as QuoteChain;
  reads.swapsCreatedForSeller = (range, seller) =>
    failSellerLogs-- > 0 ? Promise.resolve({ kind: 'unknown', reason: 'timeout', detail: 'test' }) : chain.swapsCreatedForSeller(range, seller);
  const quoteLeg: QuoteLegDeps = {
    mode: 'sandbox', chainId: SIM_CHAIN_ID, htlcAddress: SIM_HTLC, usdcToken: SIM_USDC,
    lockWindowSeconds: 1_800, claimWindowMaxSeconds: 14_400, claimGuardSeconds: 600, finalizedTimeSeconds: () => null,
  };
  finalized = null;
  steps = [];
  failSellerLogs = 0;
  // As src/main.ts wires it: the refund step of a chain-verified order runs this look-up right before its node call.
  finalLookUp = createFinalLookUp({ store: h.store, quoteLeg }, { chain: reads, fromBlock: 0n, finalizedBlock: () => finalized });
  deps = {
    store: h.store, node: gateway, leases: h.leases, secretBox: createSecretBox('5e'.repeat(32)),
    settleWindowSeconds: 86_400, leaseTtlMs: 60_000, now: () => new Date(h.clock.nowMs), quoteLeg, finalLookUp,
    onStep: (report) => steps.push(report),
  };
  ledger = createLedger(deps);
  const byHash = new Map<string, string>();
  const directory = createOrderDirectory(deps, { orderByHtlcHash: async (hash) => byHash.get(hash) ?? null });
  const sink = createObservationSink(deps, { finalLookup: { chain: reads, fromBlock: 0n, directory }, onFinalized: (block) => { finalized = block; } });
  follower = createChainFollower({
    chain: reads, chainId: SIM_CHAIN_ID, db, directory, sink, leases: h.leases, owner: 'test', registry: new Registry(), startBlock: 0n,
    now: () => h.clock.nowMs,
  });
  remember = (hash, orderId) => byHash.set(hash, orderId);
});
afterEach(async () => {
  db.close();
  await gateway.close();
  await nodeServer.close();
  await h.close();
});
let remember: (hash: string, orderId: string) => void;

const ts = () => Math.floor(h.clock.nowMs / 1000);
const tick = (seconds: number) => {
  h.clock.nowMs += seconds * 1000;
  chain.mine(BigInt(ts()));
};

async function matchedChainOrder(ttlSeconds = 86_400): Promise<{ orderId: string; hashlock: Hex; amount: bigint }> {
  const secret = 'ab'.repeat(32);
  const htlcHash = htlcHashOf(secret);
  const o = { side: 'sell' as const, pair: 'RTC/ETH' as const, amount_micro_rtc: 10_000_000, price_per_rtc_nano_quote: 100_000_000, ttl_seconds: ttlSeconds };
  const placeAuth = h.seller.sign('create_order', 'create_order', { ...o, eth_address: SELLER_Q, htlc_hash: htlcHash }, ts());
  const placed = await ledger.placeOrder({
    side: 'sell', pair: 'RTC/ETH', wallet: h.seller.wallet, amountMicroRtc: 10_000_000n, pricePerRtcNanoQuote: 100_000_000n, ttlSeconds,
    ethAddress: SELLER_Q, htlcHash, walletAuth: placeAuth,
  }, req());
  const orderId = facts(placed.state).orderId as string;
  remember(htlcHash, orderId);
  const matchAuth = h.buyer.sign('match_order', orderId, { eth_address: BUYER_Q, htlc_hash: '' }, ts());
  const matched = await ledger.matchOrder(orderId, { wallet: h.buyer.wallet, ethAddress: BUYER_Q, htlcHash: null, walletAuth: matchAuth }, req());
  expect(matched.state.status).toBe('matched');
  return { orderId, hashlock: `0x${htlcHash}`, amount: quoteBaseUnits(matched.state.status === 'matched' ? matched.state.totalQuoteNano : 0n, 'eth') };
}

const lock = (o: { orderId: string; hashlock: Hex; amount: bigint }, timelockAfterSeconds: number, token = ETH) =>
  chain.submit(BUYER_Q, { kind: 'lock', terms: { buyer: BUYER_Q, seller: SELLER_Q, token, amount: o.amount, hashlock: o.hashlock, timelock: BigInt(ts() + timelockAfterSeconds), rtcOrderId: o.orderId } });
const swapIds = () => chain.allSwaps().map((s) => s.swapId);
const types = async (orderId: string) => (await h.store.readStream(orderStream(orderId))).map((e) => e.type);
const status = async (orderId: string) => (await ledger.getOrder(orderId))?.state.status;
const reconcile = () => reconcilePass({ ...deps, stuckMs: 0, candidates: scanAllOrders({ store: h.store }) });

/** The order's escrow job, held by the ledger's worker since the match. */
async function heldJob(orderId: string) {
  const state = (await ledger.getOrder(orderId))?.state;
  const escrow = state ? heldEscrow(state) : null;
  expect(escrow?.hold).toBeDefined();
  const job = node.job(escrow?.jobId ?? '');
  expect(job?.status).toBe('claimed');
  return job as NonNullable<typeof job>;
}

/** The buyer locks on a matched chain order, lets T pass and refunds that swap on the chain. */
async function lockedThenRefunded() {
  const order = await matchedChainOrder();
  lock(order, 3_700);
  tick(5);
  tick(3_700);
  chain.submit(BUYER_Q, { kind: 'refund', swapId: swapIds()[0] as Hex });
  tick(5);
  return order;
}

/** The buyer locks, lets T pass, refunds; then locks again (wrong token) after the refund's block. */
async function refundThenSecondLock() {
  const order = await lockedThenRefunded();
  lock(order, 7_200, SIM_USDC);
  tick(5);
  tick(5);
  return order;
}

describe('the final look-up after a refund reads the chain as it is now (simulator seed 41)', () => {
  it('a second swap made after the refund, and still claimable, keeps the RTC in escrow', async () => {
    const order = await refundThenSecondLock();
    expect((await follower.pollOnce()).outcome).toBe('advanced');
    expect(await status(order.orderId)).toBe('matched');
    expect(await types(order.orderId)).toEqual(['OrderPlaced', 'EscrowLocked', 'Matched', 'EscrowHeld', 'QuoteLockObserved', 'QuoteRefundObserved', 'QuoteLockRejected']);
    expect((await heldJob(order.orderId)).status).toBe('claimed');
  });

  it('once that swap is refunded too, the seller\'s refund is decided, and issued once the held job has expired at the node', async () => {
    const order = await refundThenSecondLock();
    await follower.pollOnce();
    tick(7_200);
    chain.submit(BUYER_Q, { kind: 'refund', swapId: swapIds()[1] as Hex });
    tick(5);
    await follower.pollOnce();
    expect(await status(order.orderId)).toBe('refund_pending');
    expect((await types(order.orderId)).slice(-2)).toEqual(['QuoteRefundObserved', 'OrderExpired']);
    const job = await heldJob(order.orderId);
    const sellerBefore = node.balanceMicroRtc(h.seller.wallet);
    // Before the job's expiry the node refuses to cancel a claimed job: a pass waits and writes nothing.
    h.clock.nowMs = job.expiresAt * 1000 - 1_000;
    await reconcile();
    expect(await status(order.orderId)).toBe('refund_pending');
    expect((await types(order.orderId)).at(-1)).toBe('OrderExpired');
    expect(node.job(job.jobId)?.status).toBe('claimed');
    // Past it, the next pass cancels the job: reward and fee back to the seller in full.
    h.clock.nowMs = job.expiresAt * 1000 + 1_000;
    await reconcile();
    expect(await status(order.orderId)).toBe('expired');
    expect((await types(order.orderId)).slice(-3)).toEqual(['QuoteRefundObserved', 'OrderExpired', 'RefundIssued']);
    expect(node.job(job.jobId)?.status).toBe('cancelled');
    expect(node.balanceMicroRtc(h.seller.wallet) - sellerBefore).toBe(job.rewardMicroRtc + job.feeMicroRtc);
  });

  it('a look-up that fails stalls the follower, and the next pass delivers the refund again and decides', async () => {
    const order = await lockedThenRefunded();
    failSellerLogs = 1;
    const stalled = await follower.pollOnce();
    expect(stalled.outcome).toBe('stalled');
    expect(stalled.reason).toContain('final look-up failed');
    expect(await status(order.orderId)).toBe('matched');
    await follower.pollOnce();
    expect(await status(order.orderId)).toBe('refund_pending');
    expect((await types(order.orderId)).slice(-2)).toEqual(['QuoteRefundObserved', 'OrderExpired']);
  });
});

/**
 * The same flaw in the reconciler's chain-time look-up (simulator seed 13, docs/RELIABILITY.md): it
 * read the chain at the last finalized block the follower had processed, so a late lock by the
 * lapsed buyer, final on the chain but not yet delivered, was missed, and the lapsed order's RTC went
 * back to the seller at expires_at while the seller could still claim that lock. It now reads at the
 * chain's finalized block (never older than the follower's).
 */
/** A reconciler pass with the chain-time watch over one order, as src/main.ts runs it. */
const reconcileOnChainTime = (orderId: string) => reconcilePass({
  ...deps, stuckMs: 0, candidates: scanAllOrders({ store: h.store }),
  chainTime: { candidates: async () => [orderId], finalizedTimeSeconds: () => finalized?.timestampSeconds ?? null, lookUp: finalLookUp },
});

/** A match with no lock lapses past lock_by (the order is then lapsed: off the book, its escrow held). */
async function lapsedOrder() {
  const order = await matchedChainOrder(3_600);
  tick(1_900);
  tick(5);
  await follower.pollOnce();
  expect((await reconcileOnChainTime(order.orderId)).lapsed).toBe(1);
  expect(await status(order.orderId)).toBe('lapsed');
  return order;
}

describe('the chain-time look-up reads the chain as it is now, not as the follower last saw it (simulator seed 13)', () => {
  /** A match with no lock lapses past lock_by; then its buyer locks late, final on the chain, while the follower is behind. */
  async function lapsedThenLateLock() {
    const order = await lapsedOrder();
    lock(order, 7_200);
    tick(5);
    tick(5);
    expect(swapIds()).toHaveLength(1);
    return order;
  }

  it('past expires_at, a late lock final on the chain keeps the lapsed order\'s RTC in escrow, though the follower has not delivered it', async () => {
    const order = await lapsedThenLateLock();
    tick(1_800);
    expect(await finalLookUp(order.orderId)).toMatchObject({ decision: 'wait' });
    await reconcileOnChainTime(order.orderId);
    expect(await status(order.orderId)).toBe('lapsed');
    expect((await types(order.orderId)).at(-1)).toBe('MatchLapsed');
  });

  it('once that lock\'s timelock has passed on the chain, the seller\'s refund is decided', async () => {
    const order = await lapsedThenLateLock();
    tick(7_300);
    tick(5);
    expect(await finalLookUp(order.orderId)).toMatchObject({ decision: 'refund_allowed' });
    await reconcileOnChainTime(order.orderId);
    expect(await status(order.orderId)).toBe('refund_pending');
    expect((await types(order.orderId)).slice(-2)).toEqual(['MatchLapsed', 'OrderExpired']);
  });

  it('before the follower has processed any finalized block, nothing is looked up', async () => {
    const order = await matchedChainOrder(3_600);
    tick(1_900);
    expect(await finalLookUp(order.orderId)).toBeNull();
  });
});

/**
 * A refund decided on chain time goes out later, on that earlier decision (simulator seeds 2249,
 * 2450, 3168, docs/RELIABILITY.md): here a lapsed order's expiry decided the seller's refund, but the
 * held job's refund waits for the job's expiry at the node; meanwhile the lapsed buyer locks again
 * under the same hashlock, final on the chain and not yet delivered by the follower. The refund step
 * now runs the final look-up right before its node call and holds back (quote_lock_before_refund),
 * and the reconciler releases the hold on the look-up's word (RefundHoldReleased, seed 2127's hold
 * too). A look-up that cannot answer holds back as well, and a claim seen meanwhile pays the buyer.
 */
describe('the refund step looks the chain up again right before its node call (simulator seeds 2249, 2450, 3168, 2127)', () => {
  /** The lapsed order past its expires_at: the seller's refund is decided (refund_pending), the held job not yet expired. */
  async function refundDecided() {
    const order = await lapsedOrder();
    tick(1_800);
    await follower.pollOnce();
    await reconcileOnChainTime(order.orderId);
    expect(await status(order.orderId)).toBe('refund_pending');
    expect((await types(order.orderId)).slice(-2)).toEqual(['MatchLapsed', 'OrderExpired']);
    return { order, job: await heldJob(order.orderId) };
  }

  /** The lapsed buyer's late lock, T two hours past the held job's expiry, final on the chain but not delivered. */
  async function lateLockBeforeExpiry() {
    const { order, job } = await refundDecided();
    lock(order, job.expiresAt - ts() + 7_200);
    tick(5);
    tick(5);
    return { order, job, timelockMs: (job.expiresAt + 7_200) * 1000 };
  }

  const pastExpiry = (job: { expiresAt: number }) => {
    h.clock.nowMs = job.expiresAt * 1000 + 1_000;
    chain.mine(BigInt(ts()));
  };
  const refundSteps = () => steps.filter((s) => s.step === 'refund').map((s) => s.outcome);

  it('holds the refund back at the job\'s expiry while the late lock can be claimed: no cancel at the node, the order parked visibly', async () => {
    const { order, job } = await lateLockBeforeExpiry();
    const sellerBefore = node.balanceMicroRtc(h.seller.wallet);
    pastExpiry(job);
    steps = [];
    await reconcile();
    expect(await ledger.getOrder(order.orderId)).toMatchObject({ state: { status: 'settlement_recovery', reason: 'quote_lock_before_refund', parked: { status: 'refund_pending' } } });
    expect((await types(order.orderId)).slice(-2)).toEqual(['OrderExpired', 'SettlementRecoveryRequired']);
    expect(refundSteps()).toEqual(['held_back']);
    expect(node.job(job.jobId)?.status).toBe('claimed');
    expect(node.balanceMicroRtc(h.seller.wallet)).toBe(sellerBefore);
    // Later passes before the lock's T keep it held (the look-up still says wait), writing nothing.
    const written = (await types(order.orderId)).length;
    tick(60);
    await follower.pollOnce();
    await reconcileOnChainTime(order.orderId);
    expect(await status(order.orderId)).toBe('settlement_recovery');
    expect((await types(order.orderId)).slice(written)).toEqual(['QuoteLockRejected']);
  });

  it('the reconciler releases the hold once the lock\'s T has passed unclaimed, and the refund goes out', async () => {
    const { order, job, timelockMs } = await lateLockBeforeExpiry();
    pastExpiry(job);
    await reconcile();
    expect(await status(order.orderId)).toBe('settlement_recovery');
    const sellerBefore = node.balanceMicroRtc(h.seller.wallet);
    h.clock.nowMs = timelockMs;
    tick(5);
    tick(5);
    await follower.pollOnce();
    await reconcileOnChainTime(order.orderId);
    expect(await status(order.orderId)).toBe('expired');
    expect((await types(order.orderId)).slice(-4)).toEqual(['SettlementRecoveryRequired', 'QuoteLockRejected', 'RefundHoldReleased', 'RefundIssued']);
    expect(node.job(job.jobId)?.status).toBe('cancelled');
    expect(node.balanceMicroRtc(h.seller.wallet) - sellerBefore).toBe(job.rewardMicroRtc + job.feeMicroRtc);
  });

  it('a hold the follower made (the late lock delivered while the refund waits, seed 2127) is released the same way', async () => {
    const { order, job, timelockMs } = await lateLockBeforeExpiry();
    await follower.pollOnce();
    expect(await ledger.getOrder(order.orderId)).toMatchObject({ state: { status: 'settlement_recovery', reason: 'quote_lock_before_refund' } });
    // Before T the reconciler does not release it (nor even read the chain for it).
    await reconcileOnChainTime(order.orderId);
    expect((await types(order.orderId)).at(-1)).toBe('QuoteLockRejected');
    h.clock.nowMs = Math.max(timelockMs, job.expiresAt * 1000 + 1_000);
    tick(5);
    tick(5);
    await follower.pollOnce();
    await reconcileOnChainTime(order.orderId);
    expect(await status(order.orderId)).toBe('expired');
    expect((await types(order.orderId)).slice(-3)).toEqual(['QuoteLockRejected', 'RefundHoldReleased', 'RefundIssued']);
    expect(node.job(job.jobId)?.status).toBe('cancelled');
  });

  it('a claim of the late lock seen while the refund is held pays the buyer instead', async () => {
    const { order, job } = await lateLockBeforeExpiry();
    pastExpiry(job);
    await reconcile();
    expect(await status(order.orderId)).toBe('settlement_recovery');
    const buyerBefore = node.balanceMicroRtc(h.buyer.wallet);
    chain.submit(SELLER_Q, { kind: 'claim', swapId: swapIds()[0] as Hex, preimage: `0x${'ab'.repeat(32)}` });
    tick(5);
    tick(5);
    await follower.pollOnce();
    expect(await status(order.orderId)).toBe('completed');
    expect(await types(order.orderId)).toContain('QuoteClaimObserved');
    expect(await types(order.orderId)).not.toContain('RefundIssued');
    expect(node.job(job.jobId)?.status).toBe('completed');
    expect(node.balanceMicroRtc(h.buyer.wallet)).toBeGreaterThan(buyerBefore);
  });

  it('a look-up that cannot answer holds the refund back too (never guessed), and the next pass sends it', async () => {
    const { order, job } = await refundDecided();
    pastExpiry(job);
    failSellerLogs = 1;
    steps = [];
    await reconcile();
    expect(await status(order.orderId)).toBe('refund_pending');
    expect(await ledger.getOrder(order.orderId)).toMatchObject({ state: { lastError: expect.stringContaining('final_lookup_unavailable') } });
    expect((await types(order.orderId)).at(-1)).toBe('NodeCallFailed');
    expect(refundSteps()).toEqual(['held_back']);
    expect(node.job(job.jobId)?.status).toBe('claimed');
    await reconcile();
    expect(await status(order.orderId)).toBe('expired');
    expect(node.job(job.jobId)?.status).toBe('cancelled');
  });

  it('before the held job\'s expiry a reconciler pass does not even look the refund up (it looks again at the expiry)', async () => {
    const { order, job } = await refundDecided();
    steps = [];
    h.clock.nowMs = job.expiresAt * 1000 - 60_000;
    await reconcile();
    await reconcile();
    expect(refundSteps()).toEqual([]);
    expect(await status(order.orderId)).toBe('refund_pending');
    pastExpiry(job);
    await reconcile();
    expect(refundSteps()).toEqual(['ok']);
    expect(await status(order.orderId)).toBe('expired');
  });
});

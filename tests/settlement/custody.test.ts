import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { facts } from '../support/orderFixtures.js';
import { createSecretBox } from '../../src/crypto/preimage.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import { createLedger, type Ledger, type RequestContext } from '../../src/app/ledger.js';
import type { QuoteLegDeps } from '../../src/app/quoteLeg.js';
import { handleOrderCommand } from '../../src/commands/handleCommand.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { createRustchainGateway, type RustchainGateway } from '../../src/gateways/rustchain.js';
import { BRIDGE_WORKER_WALLET } from '../../src/gateways/node.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import { createMemoryLeases } from '../../src/settlement/leases.js';
import { reconcilePass, scanAllOrders } from '../../src/settlement/reconciler.js';
import { quoteTailSecondsFor, type StepOutcome } from '../../src/settlement/steps.js';

/**
 * Custody from the match on (quote-chain.md), over the sandbox node through real HTTP: the ledger's
 * worker claims a chain-verified order's escrow job before any lock is offered, so the seller's
 * cancel at the node is refused; a held job's refund waits for its expiry at the node.
 */
const FUNDS = 1_000_000_000_000n;
const MAKER_ETH = `0x${'aa'.repeat(20)}`;
const TAKER_ETH = `0x${'bb'.repeat(20)}`;
const quoteLeg: QuoteLegDeps = {
  mode: 'sandbox', chainId: 31337, htlcAddress: `0x${'11'.repeat(20)}`, usdcToken: `0x${'22'.repeat(20)}`,
  lockWindowSeconds: 1800, claimWindowMaxSeconds: 14_400, claimGuardSeconds: 1800, escrowReleaseSlackSeconds: 172_800,
  finalizedTimeSeconds: () => null,
};

interface World {
  clock: { nowMs: number };
  node: SandboxNode;
  sandbox: SandboxServer;
  gateway: RustchainGateway;
  store: SqliteEventStore;
  ledger: Ledger;
  steps: { step: string; outcome: StepOutcome }[];
  seller: ClientWallet;
  buyer: ClientWallet;
  reconcile(): Promise<unknown>;
}

let seq = 0;
const req = (): RequestContext => ({ requestId: `custody-${++seq}` });
let w: World;

beforeEach(async () => {
  const clock = { nowMs: Date.parse('2026-01-10T12:00:00Z') };
  const now = () => new Date(clock.nowMs);
  const node = new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1000, now: () => clock.nowMs });
  const sandbox = await startSandboxServer({ node });
  const gateway = createRustchainGateway({ baseUrl: sandbox.url, adminKey: DEFAULT_SANDBOX_ADMIN_KEY, timeoutMs: 2000 });
  const store = new SqliteEventStore({ path: ':memory:' });
  const leases = createMemoryLeases();
  const steps: World['steps'] = [];
  const driver = {
    store, node: gateway, leases, settleWindowSeconds: 86_400, quoteTailSeconds: quoteTailSecondsFor(quoteLeg), leaseTtlMs: 60_000,
    onStep: (r: { step: string; outcome: StepOutcome }) => steps.push({ step: r.step, outcome: r.outcome }),
    // No chain runs here: the final look-up a chain-verified refund makes right before its node call
    // answers what these tests' chain says, that no swap was ever made (tests/sim/foundChain.test.ts runs the real one).
    finalLookUp: async () => ({ decision: 'no_swap' as const, finalizedTimeSeconds: BigInt(Math.floor(clock.nowMs / 1000)) }),
  };
  const ledger = createLedger({ ...driver, secretBox: createSecretBox('5e'.repeat(32)), now, quoteLeg });
  const [seller, buyer] = [generateWallet(), generateWallet()];
  for (const x of [seller, buyer]) node.fund(x.wallet, FUNDS);
  const reconcile = () => reconcilePass({ ...driver, stuckMs: 0, now, candidates: scanAllOrders({ store }) });
  w = { clock, node, sandbox, gateway, store, ledger, steps, seller, buyer, reconcile };
});

afterEach(async () => {
  await w.gateway.close();
  await w.sandbox.close();
  await w.store.close();
});

const ts = () => Math.floor(w.clock.nowMs / 1000);

async function placeSell(ttlSeconds = 604_800) {
  const bound = { side: 'sell', pair: 'RTC/USDC', amount_micro_rtc: 10_000_000, price_per_rtc_nano_quote: 100_000_000, ttl_seconds: ttlSeconds, eth_address: MAKER_ETH, htlc_hash: '' };
  const auth = w.seller.sign('create_order', 'create_order', bound, ts());
  const placed = await w.ledger.placeOrder({
    side: 'sell', pair: 'RTC/USDC', wallet: w.seller.wallet, amountMicroRtc: 10_000_000n, pricePerRtcNanoQuote: 100_000_000n,
    ttlSeconds, ethAddress: MAKER_ETH, htlcHash: null, walletAuth: auth,
  }, req());
  return { orderId: facts(placed.state).orderId as string, secret: placed.htlcSecret as string, jobId: facts(placed.state).escrow.jobId as string };
}

async function match(orderId: string) {
  const auth = w.buyer.sign('match_order', orderId, { eth_address: TAKER_ETH, htlc_hash: '' }, ts());
  return w.ledger.matchOrder(orderId, { wallet: w.buyer.wallet, ethAddress: TAKER_ETH, htlcHash: null, walletAuth: auth }, req());
}

/** The seller's own cancel at the node, over HTTP: the node's endpoints do not authenticate. */
async function sellerCancelsAtNode(jobId: string) {
  const res = await request(`${w.sandbox.url}/agent/jobs/${jobId}/cancel`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ poster_wallet: w.seller.wallet }),
  });
  return { status: res.statusCode, body: await res.body.json() as Record<string, unknown> };
}

const historyTypes = async (orderId: string) => (await w.store.readStream(`order-${orderId}`)).map((e) => e.type);

describe('custody hold at match', () => {
  it('holds the escrow job with the ledger\'s worker before answering the match, so the seller\'s cancel at the node is refused', async () => {
    const { orderId, jobId } = await placeSell();
    const matched = await match(orderId);
    expect(matched.state.status).toBe('matched');
    expect(w.node.job(jobId)).toMatchObject({ status: 'claimed', workerWallet: BRIDGE_WORKER_WALLET });
    expect(await historyTypes(orderId)).toContain('EscrowHeld');
    const balanceBefore = w.node.balanceMicroRtc(w.seller.wallet);
    const cancel = await sellerCancelsAtNode(jobId);
    expect(cancel.status).toBe(409);
    expect(w.node.job(jobId)?.status).toBe('claimed');
    expect(w.node.balanceMicroRtc(w.seller.wallet)).toBe(balanceBefore);
    // The lock instructions are offered now, T bounded by the job's expiry less the release slack.
    const leg = w.ledger.quoteLegOf(matched.state as never);
    expect(leg.status).toBe('awaiting_lock');
    const jobExpiresMs = (w.node.job(jobId)?.expiresAt as number) * 1000;
    expect(Date.parse(leg.timelock_max as string)).toBeLessThanOrEqual(jobExpiresMs - 172_800_000);
  });

  it('without a chain (manual mode) the job stays open: no hold is taken', async () => {
    const manual = createLedger({
      store: w.store, node: w.gateway, leases: createMemoryLeases(), settleWindowSeconds: 86_400, leaseTtlMs: 60_000,
      secretBox: createSecretBox('5e'.repeat(32)), now: () => new Date(w.clock.nowMs),
    });
    const { orderId, jobId } = await placeSell();
    const auth = w.buyer.sign('match_order', orderId, { eth_address: TAKER_ETH, htlc_hash: '' }, ts());
    const matched = await manual.matchOrder(orderId, { wallet: w.buyer.wallet, ethAddress: TAKER_ETH, htlcHash: null, walletAuth: auth }, req());
    expect(matched.state.status).toBe('matched');
    expect(w.node.job(jobId)?.status).toBe('open');
    expect(await historyTypes(orderId)).not.toContain('EscrowHeld');
  });

  it('a claim that failed without effect leaves the order awaiting custody, no lock offered, until the reconciler holds it', async () => {
    const { orderId, jobId } = await placeSell();
    w.node.injectFault('POST /agent/jobs/:id/claim', 'error_500', 1);
    const matched = await match(orderId);
    expect(matched.state.status).toBe('matched');
    expect(w.node.job(jobId)?.status).toBe('open');
    const leg = w.ledger.quoteLegOf(matched.state as never);
    expect(leg).toMatchObject({ status: 'awaiting_custody', lock_by: null, amount_base_units: null, timelock_max: null });
    await w.reconcile();
    expect(w.node.job(jobId)).toMatchObject({ status: 'claimed', workerWallet: BRIDGE_WORKER_WALLET });
    const { state } = await loadOrder(w.store, orderId);
    expect(w.ledger.quoteLegOf(state as never).status).toBe('awaiting_lock');
  });

  it('a claim whose answer was lost is found held by the look-up and recorded once', async () => {
    const { orderId, jobId } = await placeSell();
    w.node.injectFault('POST /agent/jobs/:id/claim', 'timeout_after_effect', 1);
    await match(orderId);
    expect(w.node.job(jobId)?.status).toBe('claimed');
    expect((await historyTypes(orderId)).filter((t) => t === 'EscrowHeld')).toHaveLength(1);
    await w.reconcile();
    expect((await historyTypes(orderId)).filter((t) => t === 'EscrowHeld')).toHaveLength(1);
  });

  it('a job the seller cancelled at the node before the hold parks the order and raises escrow_lost', async () => {
    const { orderId, jobId } = await placeSell();
    // The seller races the match: the cancel lands between the match's watch and its hold.
    w.node.injectFault('GET /agent/jobs/:id', 'error_500', 1);
    expect((await sellerCancelsAtNode(jobId)).status).toBe(200);
    await match(orderId).catch(() => undefined);
    await w.reconcile();
    const { state } = await loadOrder(w.store, orderId);
    expect(state.status).toBe('settlement_recovery');
    expect(facts(state).recoveryReason).toBe('escrow_job_cancelled');
    expect(w.steps.some((s) => s.outcome === 'escrow_lost')).toBe(true);
  });

  it('a held job expired at the node while matched is an alert and an operator case', async () => {
    const { orderId, jobId } = await placeSell();
    await match(orderId);
    w.node.expireJob(jobId);
    await reconcileWatching(orderId);
    const { state } = await loadOrder(w.store, orderId);
    expect(state.status).toBe('settlement_recovery');
    expect(facts(state).recoveryReason).toBe('escrow_job_expired');
    expect(w.steps.at(-1)).toEqual({ step: 'escrow_watch', outcome: 'escrow_lost' });
  });

  it('the watch of a held job claimed by the ledger\'s worker changes nothing', async () => {
    const { orderId } = await placeSell();
    await match(orderId);
    const before = await historyTypes(orderId);
    await reconcileWatching(orderId);
    expect(await historyTypes(orderId)).toEqual(before);
    expect(w.steps.at(-1)).toEqual({ step: 'escrow_watch', outcome: 'ok' });
  });

  it('release goes through the held job: deliver and accept, no second claim', async () => {
    const { orderId, jobId, secret } = await placeSell();
    await match(orderId);
    const claimsBefore = w.node.requestCount('POST /agent/jobs/:id/claim');
    const auth = w.buyer.sign('confirm_settlement', orderId, { quote_tx: '0xquote', secret_sha256: (await import('../../src/crypto/preimage.js')).htlcHashOf(secret) }, ts());
    const confirmed = await w.ledger.confirmSettlement(orderId, { wallet: w.buyer.wallet, quoteTx: '0xquote', secret, walletAuth: auth }, req());
    expect(confirmed.state.status).toBe('completed');
    expect(w.node.job(jobId)).toMatchObject({ status: 'completed', workerWallet: BRIDGE_WORKER_WALLET });
    expect(w.node.requestCount('POST /agent/jobs/:id/claim')).toBe(claimsBefore);
  });
});

async function reconcileWatching(orderId: string) {
  const driver = {
    store: w.store, node: w.gateway, leases: createMemoryLeases(), settleWindowSeconds: 86_400, leaseTtlMs: 60_000,
    onStep: (r: { step: string; outcome: StepOutcome }) => w.steps.push({ step: r.step, outcome: r.outcome }),
  };
  return reconcilePass({ ...driver, stuckMs: 0, now: () => new Date(w.clock.nowMs), candidates: async () => [], escrowWatch: async () => [orderId] });
}

describe('the order TTL of a chain pair', () => {
  it('allows the longest TTL whose escrow outlives every T by the release slack, refuses one second more (ttl_invalid)', async () => {
    const longest = 2_592_000 - quoteTailSecondsFor(quoteLeg) - 3600;
    const { jobId } = await placeSell(longest);
    expect((w.node.job(jobId)?.expiresAt as number) - ts()).toBeGreaterThanOrEqual(2_592_000 - 5);
    const error = await placeSell(longest + 1).then(() => null, (e: unknown) => e);
    expect((error as { code?: string } | null)?.code).toBe('ttl_invalid');
  });
});

describe('refund of a held job', () => {
  async function heldThenRefundDue() {
    const placedAt = w.clock.nowMs;
    const { orderId, jobId } = await placeSell(3600);
    await match(orderId);
    // The chain's word, past lock_by, that no swap was ever made (finalLookup.ts): the match lapses,
    // and the maker's cancel of the lapsed order makes the refund of the held job due.
    w.clock.nowMs += 3_600_000;
    const ctx = { correlationId: 'chain', causationId: null, actor: 'reconciler', now: () => new Date(w.clock.nowMs) };
    const noSwap = { decision: 'no_swap' as const, finalizedTimeSeconds: BigInt(ts()) };
    await handleOrderCommand(w.store, orderId, { type: 'ExpireOrder', now: new Date(w.clock.nowMs), quoteChain: noSwap }, ctx);
    expect((await loadOrder(w.store, orderId)).state.status).toBe('lapsed');
    await handleOrderCommand(w.store, orderId, { type: 'CancelOrder', wallet: w.seller.wallet, quoteChain: noSwap, now: new Date(w.clock.nowMs) }, ctx);
    return { orderId, jobId, placedAt };
  }

  it('waits for the job\'s expiry at the node, then cancels it: the seller gets reward and fee back in full', async () => {
    const start = w.node.balanceMicroRtc(w.seller.wallet);
    const { orderId, jobId, placedAt } = await heldThenRefundDue();
    await w.reconcile();
    expect((await loadOrder(w.store, orderId)).state.status).toBe('refund_pending');
    expect(w.node.job(jobId)?.status).toBe('claimed');
    expect(w.node.requestCount('POST /agent/jobs/:id/cancel')).toBe(0);
    // The job was posted for order TTL + lock window + claim window max + release slack + 1 h.
    const expiresAt = (w.node.job(jobId)?.expiresAt as number) * 1000;
    expect(expiresAt - placedAt).toBeGreaterThanOrEqual((3600 + quoteTailSecondsFor(quoteLeg) + 3600) * 1000 - 2000);
    w.clock.nowMs = expiresAt + 1000;
    await w.reconcile();
    const { state } = await loadOrder(w.store, orderId);
    expect(state.status).toBe('cancelled');
    expect(w.node.job(jobId)?.status).toBe('cancelled');
    expect(w.node.balanceMicroRtc(w.seller.wallet)).toBe(start);
  });

  it('a cancel the node refuses while the job is still held waits, never parks the order', async () => {
    const { orderId, jobId } = await heldThenRefundDue();
    const expiresAt = (w.node.job(jobId)?.expiresAt as number) * 1000;
    w.clock.nowMs = expiresAt + 1000;
    w.node.injectFault('POST /agent/jobs/:id/cancel', 'reject_400', 1);
    await w.reconcile();
    expect((await loadOrder(w.store, orderId)).state.status).toBe('refund_pending');
    await w.reconcile();
    expect((await loadOrder(w.store, orderId)).state.status).toBe('cancelled');
  });
});

describe('the escrow watch of a lapsed order', () => {
  /** A sell order matched (held unless the claim fails) whose buyer locked nothing: the chain's word past lock_by lapses it. */
  async function lapsed(options: { hold: boolean } = { hold: true }) {
    const { orderId, jobId } = await placeSell();
    if (!options.hold) w.node.injectFault('POST /agent/jobs/:id/claim', 'error_500', 1);
    await match(orderId);
    w.clock.nowMs += 3_600_000;
    const ctx = { correlationId: 'chain', causationId: null, actor: 'reconciler', now: () => new Date(w.clock.nowMs) };
    await handleOrderCommand(w.store, orderId, { type: 'ExpireOrder', now: new Date(w.clock.nowMs), quoteChain: { decision: 'no_swap', finalizedTimeSeconds: BigInt(ts()) } }, ctx);
    expect((await loadOrder(w.store, orderId)).state.status).toBe('lapsed');
    return { orderId, jobId };
  }

  it('parks a lapsed order whose held job expired at the node behind the ledger\'s back, as escrow_lost', async () => {
    const { orderId, jobId } = await lapsed();
    expect(w.node.job(jobId)).toMatchObject({ status: 'claimed', workerWallet: BRIDGE_WORKER_WALLET });
    expect(w.node.expireJob(jobId)).toBe(true);
    await reconcileWatching(orderId);
    const { state } = await loadOrder(w.store, orderId);
    expect(state.status).toBe('settlement_recovery');
    expect(facts(state).recoveryReason).toBe('escrow_job_expired');
    expect(state.status === 'settlement_recovery' && state.parked.status).toBe('lapsed');
    expect(w.steps.at(-1)).toEqual({ step: 'escrow_watch', outcome: 'escrow_lost' });
  });

  it('parks a lapsed order whose unheld job the seller cancelled at the node', async () => {
    const { orderId, jobId } = await lapsed({ hold: false });
    expect(w.node.job(jobId)?.status).toBe('open');
    expect((await sellerCancelsAtNode(jobId)).status).toBe(200);
    await reconcileWatching(orderId);
    const { state } = await loadOrder(w.store, orderId);
    expect(state.status).toBe('settlement_recovery');
    expect(facts(state).recoveryReason).toBe('escrow_job_cancelled');
    expect(w.steps.at(-1)).toEqual({ step: 'escrow_watch', outcome: 'escrow_lost' });
  });

  it('changes nothing while the lapsed order\'s job is held by the ledger\'s worker', async () => {
    const { orderId } = await lapsed();
    const before = await historyTypes(orderId);
    await reconcileWatching(orderId);
    expect(await historyTypes(orderId)).toEqual(before);
    expect((await loadOrder(w.store, orderId)).state.status).toBe('lapsed');
    expect(w.steps.at(-1)).toEqual({ step: 'escrow_watch', outcome: 'ok' });
  });
});

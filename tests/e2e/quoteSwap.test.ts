import { describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import {
  confirmBody, fundViaLedger, generateWallet, get, matchBody, placeSellBody, post, until, useSandboxLedger, type ClientWallet,
} from './support.js';

/**
 * Issue 11 end to end: the ledger started through its composition root in sandbox mode (it spawns
 * anvil, deploys the HTLC and the test USDC, and follows the chain), parties locking and claiming on
 * that real chain, the ledger acting on what it reads there. Every request is real HTTP on loopback.
 */

const sandbox = useSandboxLedger('quote-swap');

/** 10 RTC at 0.1 USDC: 1 USDC = 1,000,000 base units. */
const AMOUNT_BASE_UNITS = 1_000_000n;

interface Trade {
  readonly orderId: string;
  readonly secret: string;
  readonly htlcHash: string;
  readonly seller: ClientWallet;
  readonly buyer: ClientWallet;
}

async function matchedSell(): Promise<Trade> {
  const [seller, buyer] = [generateWallet(), generateWallet()];
  await fundViaLedger(sandbox.ledger.url, seller);
  const placed = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sandbox.sellerQuote));
  expect(placed.status).toBe(201);
  const orderId = placed.body.order.order_id as string;
  // At match the buyer's quote address must hold the amount at the finalized block (quote_funds_missing).
  await sandbox.chain.fundUsdc(sandbox.buyerQuote, AMOUNT_BASE_UNITS);
  await sandbox.chain.mine();
  const matched = await post(sandbox.ledger.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId, sandbox.buyerQuote));
  expect(matched.status).toBe(200);
  expect(matched.body.order.status).toBe('matched');
  // The match answer tells the buyer what to lock, where, and by when.
  expect(matched.body.order.quote_leg).toMatchObject({
    mode: 'sandbox', chain_id: sandbox.chain.chainId, contract: sandbox.chain.htlcAddress, token: sandbox.chain.usdcAddress, amount_base_units: AMOUNT_BASE_UNITS.toString(),
    lock_by: expect.any(String), timelock_min: expect.any(String), timelock_max: expect.any(String), status: 'awaiting_lock', swap_id: null, rejected_locks: [],
  });
  return { orderId, secret: placed.body.htlc_secret as string, htlcHash: placed.body.order.htlc_hash as string, seller, buyer };
}

async function lock(trade: Trade, overrides: { hashlock?: Hex; amount?: bigint } = {}) {
  const amount = overrides.amount ?? AMOUNT_BASE_UNITS;
  await sandbox.chain.fundUsdc(sandbox.buyerQuote, amount);
  const head = await sandbox.chain.latestBlock();
  return sandbox.chain.lockUsdc({
    buyer: sandbox.buyerQuote, seller: sandbox.sellerQuote, hashlock: overrides.hashlock ?? `0x${trade.htlcHash}`,
    timelock: head.timestamp + 7_200n, orderId: trade.orderId, amount,
  });
}

const historyOf = async (orderId: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> =>
  (await get(sandbox.ledger.url, `/api/orders/${orderId}/history`)).body.events;

const untilEvent = (orderId: string, type: string) =>
  until(async () => (await historyOf(orderId)).some((e) => e.type === type), `${type} on ${orderId}`, 20_000);

describe('the atomic swap in sandbox mode, against a real anvil', () => {
  it('the attack of issue 11, refused: the seller claims on chain and never confirms; the RTC goes to the buyer with no confirm', async () => {
    const trade = await matchedSell();
    const locked = await lock(trade);
    await untilEvent(trade.orderId, 'QuoteLockObserved');
    expect((await get(sandbox.ledger.url, `/api/orders/${trade.orderId}`)).body.order.quote_leg).toMatchObject({ status: 'locked', swap_id: locked.swapId, lock_tx: locked.txHash });
    await sandbox.chain.claim(sandbox.sellerQuote, locked.swapId, `0x${trade.secret}`);
    await untilEvent(trade.orderId, 'PayoutConfirmed');
    const events = await historyOf(trade.orderId);
    const types = events.map((e) => e.type);
    expect(types).toContain('QuoteClaimObserved');
    expect(types).not.toContain('SettlementClaimed');
    expect(types).not.toContain('RefundIssued');
    expect(events.find((e) => e.type === 'PayoutQueued')?.data.to).toBe(trade.buyer.wallet);
    const order = (await get(sandbox.ledger.url, `/api/orders/${trade.orderId}`)).body.order;
    expect(order.status).toBe('completed');
    expect(order.quote_leg).toMatchObject({ status: 'claimed', claim_tx: order.quote_tx });
    // The claim's transaction stands as the quote_tx: nobody sent one.
    expect(order.quote_tx).toMatch(/^0x[0-9a-f]{64}$/);
    // The history never carries the preimage or its ciphertext.
    expect(JSON.stringify(events)).not.toContain(trade.secret);
  }, 60_000);

  it('refuses the seller\'s confirm before a verified lock (409 quote_lock_missing), then accepts the fast path once the lock is verified', async () => {
    const trade = await matchedSell();
    const early = await post(sandbox.ledger.url, `/api/orders/${trade.orderId}/confirm`, confirmBody(trade.seller, trade.orderId, trade.secret));
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('quote_lock_missing');
    await lock(trade);
    await untilEvent(trade.orderId, 'QuoteLockObserved');
    const confirmed = await post(sandbox.ledger.url, `/api/orders/${trade.orderId}/confirm`, confirmBody(trade.seller, trade.orderId, trade.secret));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.order.status).toBe('completed');
  }, 60_000);

  it('records a lock with the wrong hashlock as rejected and leaves the order awaiting a valid lock', async () => {
    const trade = await matchedSell();
    await lock(trade, { hashlock: `0x${'ab'.repeat(32)}` });
    await untilEvent(trade.orderId, 'QuoteLockRejected');
    const rejected = (await historyOf(trade.orderId)).find((e) => e.type === 'QuoteLockRejected');
    expect(rejected?.data.reason).toBe('wrong_hashlock');
    const order = (await get(sandbox.ledger.url, `/api/orders/${trade.orderId}`)).body.order;
    expect(order.status).toBe('matched');
    expect(order.quote_leg).toMatchObject({ status: 'awaiting_lock', swap_id: null, rejected_locks: [{ reason: 'wrong_hashlock' }] });
    const refused = await post(sandbox.ledger.url, `/api/orders/${trade.orderId}/confirm`, confirmBody(trade.seller, trade.orderId, trade.secret));
    expect(refused.body.error).toBe('quote_lock_missing');
  }, 60_000);

  it('records a short lock as rejected (amount_short), and the order stays matched', async () => {
    const trade = await matchedSell();
    await lock(trade, { amount: AMOUNT_BASE_UNITS - 1n });
    await untilEvent(trade.orderId, 'QuoteLockRejected');
    const rejected = (await historyOf(trade.orderId)).find((e) => e.type === 'QuoteLockRejected');
    expect(rejected?.data.reason).toBe('amount_short');
    expect((await get(sandbox.ledger.url, `/api/orders/${trade.orderId}`)).body.order.status).toBe('matched');
  }, 60_000);

  // Last: it moves the chain's time past T, which every later lock_by would then precede.
  it('decides the seller\'s refund only once the chain proves no swap can be claimed (the buyer refunds after T); the held job goes back at its expiry', async () => {
    const trade = await matchedSell();
    const head = await sandbox.chain.latestBlock();
    await sandbox.chain.fundUsdc(sandbox.buyerQuote, AMOUNT_BASE_UNITS);
    const locked = await sandbox.chain.lockUsdc({
      buyer: sandbox.buyerQuote, seller: sandbox.sellerQuote, hashlock: `0x${trade.htlcHash}`, timelock: head.timestamp + 3_700n, orderId: trade.orderId, amount: AMOUNT_BASE_UNITS,
    });
    await untilEvent(trade.orderId, 'QuoteLockObserved');
    await sandbox.chain.advanceTime(3_800);
    await sandbox.chain.refund(sandbox.buyerQuote, locked.swapId);
    await untilEvent(trade.orderId, 'OrderExpired');
    const types = (await historyOf(trade.orderId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['EscrowHeld', 'QuoteLockObserved', 'QuoteRefundObserved', 'OrderExpired']));
    expect(types).not.toContain('PayoutQueued');
    // The ledger's worker holds the job from the match on: its refund waits for the job's expiry at
    // the node (docs/QUOTE-CHAIN.md, custody; that path is tested in tests/settlement/custody.test.ts).
    expect(types).not.toContain('RefundIssued');
    expect((await get(sandbox.ledger.url, `/api/orders/${trade.orderId}`)).body.order.status).toBe('refund_pending');
  }, 60_000);

  it('refuses a chain-verified match without the taker\'s quote address (400 eth_address_required), changing nothing', async () => {
    const [seller, buyer] = [generateWallet(), generateWallet()];
    await fundViaLedger(sandbox.ledger.url, seller);
    const placed = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sandbox.sellerQuote));
    const orderId = placed.body.order.order_id as string;
    const refused = await post(sandbox.ledger.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('eth_address_required');
    expect((await get(sandbox.ledger.url, `/api/orders/${orderId}`)).body.order.status).toBe('open');
  }, 60_000);
});

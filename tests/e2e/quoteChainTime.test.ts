import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Address } from 'viem';
import {
  fundViaLedger, generateWallet, get, matchBody, placeBuyBody, placeSellBody, post, sha256Hex, until, useSandboxLedger, type ClientWallet,
} from './support.js';

/**
 * Issue 11, chain time deciding (quote-chain.md, "Chain time decides"): the ledger in sandbox mode
 * over a real anvil, the reconciler (POST /admin/reconcile) driving the final look-up at the finalized
 * block the follower processed. Chain time is moved with anvil's own controls; the ledger's clock is
 * never touched, so everything that happens here happens on chain time alone.
 *
 * The tests share one chain whose time only moves forward, so they run in this order: the T - 1 / T
 * boundaries first (they need a lock inside the timelock window), then lapses, which chain time
 * already past every new lock_by makes due at once.
 */

const ADMIN_TOKEN = 'lapse-e2e-admin-token-0123456789abcdef';
const sandbox = useSandboxLedger('quote-chain-time', { LEDGER_ADMIN_TOKEN: ADMIN_TOKEN, LEDGER_MATCH_COOLDOWN_LAPSES: '2' });

const AMOUNT_BASE_UNITS = 1_000_000n;
const randomAddress = (): Address => `0x${randomBytes(20).toString('hex')}`;
/**
 * lock_by is set in chain time at the match (docs/DECISIONS.md), so a lapse needs the chain past it:
 * the next block at lock_by + 1 (or later), and one more on top for the one confirmation of finality.
 */
async function chainPastLockBy(orderId: string): Promise<bigint> {
  const lockBy = BigInt(Math.floor(Date.parse((await orderOf(orderId)).quote_leg.lock_by) / 1000));
  const head = await sandbox.chain.latestBlock();
  await sandbox.chain.nextBlockAt(lockBy + 1n > head.timestamp ? lockBy + 1n : head.timestamp + 1n);
  await sandbox.chain.mine(2);
  return lockBy;
}
/** A match checks the buyer's quote address holds the amount at the finalized block (quote_funds_missing). */
async function funded(address: Address): Promise<Address> {
  await sandbox.chain.fundUsdc(address, AMOUNT_BASE_UNITS);
  await sandbox.chain.mine();
  return address;
}
const reconcile = async () => {
  const answer = await post(sandbox.ledger.url, '/admin/reconcile', {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(answer.status).toBe(200);
  return answer.body.summary as Record<string, number>;
};
const orderOf = async (orderId: string) => (await get(sandbox.ledger.url, `/api/orders/${orderId}`)).body.order;
const typesOf = async (orderId: string): Promise<string[]> =>
  ((await get(sandbox.ledger.url, `/api/orders/${orderId}/history`)).body.events as Array<{ type: string }>).map((e) => e.type);
const untilEvent = (orderId: string, type: string) => until(async () => (await typesOf(orderId)).includes(type), `${type} on ${orderId}`, 20_000);
/** Reconciler passes until the order shows the event: the follower reaches the newest finalized block within a second or so. */
const reconcileUntil = (orderId: string, type: string) =>
  until(async () => {
    await reconcile();
    return (await typesOf(orderId)).includes(type);
  }, `${type} on ${orderId} after reconciling`, 20_000);
/** The follower has processed a finalized block at or past this chain time. */
const untilChainTime = (seconds: bigint) =>
  until(async () => (sandbox.ledger.quoteChain!.quoteLeg.finalizedTimeSeconds() ?? 0n) >= seconds, `finalized chain time ${seconds}`, 20_000);

interface Sell { readonly orderId: string; readonly secret: string; readonly htlcHash: string; readonly seller: ClientWallet; readonly buyer: ClientWallet }

async function placedSell(seller = generateWallet()): Promise<Omit<Sell, 'buyer'>> {
  await fundViaLedger(sandbox.ledger.url, seller);
  const placed = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sandbox.sellerQuote));
  expect(placed.status).toBe(201);
  return { orderId: placed.body.order.order_id, secret: placed.body.htlc_secret, htlcHash: placed.body.order.htlc_hash, seller };
}

async function matchedSell(buyer = generateWallet(), buyerAddress: Address = sandbox.buyerQuote): Promise<Sell> {
  const sell = await placedSell();
  await funded(buyerAddress);
  const matched = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/match`, matchBody(buyer, sell.orderId, buyerAddress));
  expect(matched.status).toBe(200);
  return { ...sell, buyer };
}

function rearmBody(w: ClientWallet, orderId: string, htlcHash?: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return { wallet: w.wallet, ...(htlcHash ? { htlc_hash: htlcHash } : {}), wallet_auth: w.sign('rearm_order', orderId, { htlc_hash: htlcHash ?? '' }, timestamp) };
}

describe('chain time decides, against a real anvil', () => {
  it('at T - 1 a claim pays the buyer and no refund is due; at T the claim is refused by the chain and the seller\'s refund is decided', async () => {
    const [x, y] = [await matchedSell(), await matchedSell()];
    const head = await sandbox.chain.latestBlock();
    const T = head.timestamp + 3_700n;
    await sandbox.chain.fundUsdc(sandbox.buyerQuote, 2n * AMOUNT_BASE_UNITS);
    const lockX = await sandbox.chain.lockUsdc({ buyer: sandbox.buyerQuote, seller: sandbox.sellerQuote, hashlock: `0x${x.htlcHash}`, timelock: T, orderId: x.orderId, amount: AMOUNT_BASE_UNITS });
    const lockY = await sandbox.chain.lockUsdc({ buyer: sandbox.buyerQuote, seller: sandbox.sellerQuote, hashlock: `0x${y.htlcHash}`, timelock: T, orderId: y.orderId, amount: AMOUNT_BASE_UNITS });
    await untilEvent(x.orderId, 'QuoteLockObserved');
    await untilEvent(y.orderId, 'QuoteLockObserved');

    // T - 1: the seller of X claims (the contract allows it strictly before T).
    await sandbox.chain.nextBlockAt(T - 1n);
    await sandbox.chain.claim(sandbox.sellerQuote, lockX.swapId, `0x${x.secret}`);
    await untilEvent(x.orderId, 'PayoutConfirmed');
    await untilChainTime(T - 1n);
    expect(sandbox.ledger.quoteChain!.quoteLeg.finalizedTimeSeconds()).toBe(T - 1n);
    const atTMinus1 = await reconcile();
    expect(atTMinus1.expired).toBe(0);
    expect(await typesOf(y.orderId)).not.toContain('OrderExpired');
    expect((await orderOf(y.orderId)).status).toBe('matched');

    // T: the seller of Y is too late on chain, and the finalized chain at T makes Y's refund due.
    await sandbox.chain.nextBlockAt(T);
    await expect(sandbox.chain.claim(sandbox.sellerQuote, lockY.swapId, `0x${y.secret}`)).rejects.toThrow();
    await untilChainTime(T);
    await reconcileUntil(y.orderId, 'OrderExpired');
    const yTypes = await typesOf(y.orderId);
    expect(yTypes).toEqual(expect.arrayContaining(['EscrowHeld', 'QuoteLockObserved', 'OrderExpired']));
    // The buyer never refunded the quote on chain: chain time alone decided the seller's refund.
    expect(yTypes).not.toContain('QuoteRefundObserved');
    expect(yTypes).not.toContain('PayoutQueued');
    // The refund is decided; the ledger's worker holds the job, so it goes back at the job's expiry at
    // the node (custody: tests/settlement/custody.test.ts and the simulator play that wait out).
    expect((await orderOf(y.orderId)).status).toBe('refund_pending');
    const xOrder = await orderOf(x.orderId);
    expect(xOrder.status).toBe('completed');
    expect(xOrder.buyer_wallet).toBe(x.buyer.wallet);
  }, 90_000);

  it('lapses a sell order at lock_by with no lock (off the book), refuses a re-arm while a late lock is live, then re-arms it under a fresh hash', async () => {
    const sell = await matchedSell();
    const lockBy = await chainPastLockBy(sell.orderId);
    await untilChainTime(lockBy + 1n);
    await reconcileUntil(sell.orderId, 'MatchLapsed');
    const lapsed = await orderOf(sell.orderId);
    expect(lapsed).toMatchObject({ status: 'lapsed', escrow: { status: 'locked' }, quote_leg: { status: 'lapsed' } });
    // Listings are read models, written on their own thread: read them at the lapse's position.
    const atLapse = `min_position=${await sandbox.ledger.store.headPosition()}`;
    const book = (await get(sandbox.ledger.url, `/api/orders?status=open&limit=200&${atLapse}`)).body.orders as Array<{ order_id: string }>;
    expect(book.map((o) => o.order_id)).not.toContain(sell.orderId);
    const lapsedList = (await get(sandbox.ledger.url, `/api/orders?status=lapsed&limit=200&${atLapse}`)).body.orders as Array<{ order_id: string }>;
    expect(lapsedList.map((o) => o.order_id)).toContain(sell.orderId);

    // The lapsed buyer locks late under the old hash: recorded as rejected, and it holds the re-arm back.
    const head = await sandbox.chain.latestBlock();
    await sandbox.chain.fundUsdc(sandbox.buyerQuote, AMOUNT_BASE_UNITS);
    await sandbox.chain.lockUsdc({ buyer: sandbox.buyerQuote, seller: sandbox.sellerQuote, hashlock: `0x${sell.htlcHash}`, timelock: head.timestamp + 3_700n, orderId: sell.orderId, amount: AMOUNT_BASE_UNITS });
    await untilEvent(sell.orderId, 'QuoteLockRejected');
    // Each signed re-arm below carries its own timestamp: a refused one spends its signature, so an
    // identical later one would be a replay (401 wallet_auth_replayed).
    const live = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/rearm`, rearmBody(sell.seller, sell.orderId, undefined, Math.floor(Date.now() / 1000) - 5));
    expect(live.status).toBe(409);
    expect(live.body.error).toBe('quote_lock_live');
    const notMaker = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/rearm`, rearmBody(sell.buyer, sell.orderId));
    expect(notMaker.status).toBe(403);
    expect(notMaker.body.error).toBe('not_maker');
    const oldHash = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/rearm`, rearmBody(sell.seller, sell.orderId, sell.htlcHash, Math.floor(Date.now() / 1000) - 1));
    expect(oldHash.status).toBe(400);
    expect(oldHash.body.error).toBe('htlc_hash_reused');

    // Past the late lock's T, no swap under the old hash can be claimed: re-armed, with a generated preimage shown once.
    await sandbox.chain.advanceTime(3_800);
    await sandbox.chain.mine();
    await untilChainTime(head.timestamp + 3_700n);
    const rearmed = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/rearm`, rearmBody(sell.seller, sell.orderId, undefined, Math.floor(Date.now() / 1000) - 2));
    expect(rearmed.status).toBe(200);
    expect(rearmed.body.order).toMatchObject({ status: 'open', escrow: { status: 'locked' } });
    expect(rearmed.body.order.htlc_hash).not.toBe(sell.htlcHash);
    expect(sha256Hex(rearmed.body.htlc_secret)).toBe(rearmed.body.order.htlc_hash);
    expect(await typesOf(sell.orderId)).toContain('OrderRearmed');
    const again = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/rearm`, rearmBody(sell.seller, sell.orderId, 'c3'.repeat(32), Math.floor(Date.now() / 1000) - 3));
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('order_not_lapsed');
    // Back on the book: a new buyer can take it under the fresh hash.
    const retaken = await post(sandbox.ledger.url, `/api/orders/${sell.orderId}/match`, matchBody(generateWallet(), sell.orderId, await funded(randomAddress())));
    expect(retaken.status).toBe(200);
    expect(retaken.body.order.quote_leg.status).toBe('awaiting_lock');
  }, 90_000);

  it('lapses a buy order whose maker never paid: the taker\'s (seller\'s) escrow refund is due', async () => {
    const [maker, taker] = [generateWallet(), generateWallet()];
    const placed = await post(sandbox.ledger.url, '/api/orders', placeBuyBody(maker, '10', '0.1', await funded(randomAddress())));
    expect(placed.status).toBe(201);
    const orderId = placed.body.order.order_id as string;
    await fundViaLedger(sandbox.ledger.url, taker);
    const matched = await post(sandbox.ledger.url, `/api/orders/${orderId}/match`, matchBody(taker, orderId, sandbox.sellerQuote));
    expect(matched.status).toBe(200);
    expect(matched.body.order).toMatchObject({ status: 'matched', escrow: { status: 'locked' } });
    await chainPastLockBy(orderId);
    await reconcileUntil(orderId, 'MatchLapsed');
    expect(await typesOf(orderId)).toEqual(expect.arrayContaining(['EscrowHeld', 'MatchLapsed']));
    expect(await typesOf(orderId)).not.toContain('PayoutQueued');
    // The seller's escrow is due back; held by the ledger's worker, it returns at the job's expiry (custody).
    expect(await orderOf(orderId)).toMatchObject({ status: 'refund_pending', quote_leg: { status: 'lapsed' } });
  }, 90_000);

  it('refuses further matches once a wallet or its quote address has lapsed twice in a day (429 match_cooldown), and no one else', async () => {
    const griefer = generateWallet();
    const address = randomAddress();
    const first = await matchedSell(griefer, address);
    await chainPastLockBy(first.orderId);
    await reconcileUntil(first.orderId, 'MatchLapsed');
    // One lapse: still allowed.
    const second = await matchedSell(griefer, address);
    await chainPastLockBy(second.orderId);
    await reconcileUntil(second.orderId, 'MatchLapsed');

    const target = await placedSell();
    const byWallet = await post(sandbox.ledger.url, `/api/orders/${target.orderId}/match`, matchBody(griefer, target.orderId, randomAddress()));
    expect(byWallet.status).toBe(429);
    expect(byWallet.body.error).toBe('match_cooldown');
    expect(Date.parse(byWallet.body.cooldown_until)).toBeGreaterThan(Date.now());
    const byAddress = await post(sandbox.ledger.url, `/api/orders/${target.orderId}/match`, matchBody(generateWallet(), target.orderId, address));
    expect(byAddress.status).toBe(429);
    expect(byAddress.body.error).toBe('match_cooldown');
    // Refused matches changed nothing; anyone else takes the order.
    expect((await orderOf(target.orderId)).status).toBe('open');
    const fine = await post(sandbox.ledger.url, `/api/orders/${target.orderId}/match`, matchBody(generateWallet(), target.orderId, await funded(randomAddress())));
    expect(fine.status).toBe(200);
  }, 90_000);
});

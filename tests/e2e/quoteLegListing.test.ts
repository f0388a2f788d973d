import { describe, expect, it } from 'vitest';
import { fundViaLedger, generateWallet, get, matchBody, placeSellBody, post, until, useSandboxLedger } from './support.js';

/**
 * `quote_leg` in listings (GET /api/orders, a wallet's orders): the orders read model stores the quote
 * leg's narrow facts, so a listed order carries the same `quote_leg` as its own resource, at every step
 * of a swap on a real anvil (awaiting the lock, a rejected lock, locked, claimed).
 */

const sandbox = useSandboxLedger('quote-leg-listing');

const resource = async (orderId: string) => (await get(sandbox.ledger.url, `/api/orders/${orderId}`)).body.order;

/** The order as a listing of its seller's orders shows it, once the read model has its current version. */
async function listed(sellerWallet: string, orderId: string) {
  const want = (await resource(orderId)).version as number;
  let found: Record<string, unknown> | undefined;
  await until(async () => {
    const page = await get(sandbox.ledger.url, `/api/orders?status=all&wallet=${sellerWallet}`);
    found = (page.body.orders as Array<Record<string, unknown>>).find((o) => o.order_id === orderId);
    return found?.version === want;
  }, `${orderId} v${want} in the listing`, 10_000);
  return found!;
}

const historyTypes = async (orderId: string): Promise<string[]> =>
  ((await get(sandbox.ledger.url, `/api/orders/${orderId}/history`)).body.events as Array<{ type: string }>).map((e) => e.type);

describe('quote_leg in listings', () => {
  it('lists the same quote_leg as the resource: awaiting the lock, a rejected lock, locked, claimed', async () => {
    const [seller, buyer] = [generateWallet(), generateWallet()];
    await fundViaLedger(sandbox.ledger.url, seller);
    const placed = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sandbox.sellerQuote));
    const orderId = placed.body.order.order_id as string;
    const secret = placed.body.htlc_secret as string;
    // An open order on a chain pair: the contract and amount are known, nothing is locked yet.
    expect((await listed(seller.wallet, orderId)).quote_leg).toEqual((await resource(orderId)).quote_leg);

    // A match checks the buyer's quote address holds the amount at the finalized block (quote_funds_missing).
    await sandbox.chain.fundUsdc(sandbox.buyerQuote, 2_000_000n);
    await sandbox.chain.mine();
    const matchedAnswer = await post(sandbox.ledger.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId, sandbox.buyerQuote));
    expect(matchedAnswer.status).toBe(200);
    const awaiting = await listed(seller.wallet, orderId);
    expect(awaiting.quote_leg).toMatchObject({ status: 'awaiting_lock', lock_by: expect.any(String), timelock_max: expect.any(String) });
    expect(awaiting.quote_leg).toEqual((await resource(orderId)).quote_leg);

    const head = await sandbox.chain.latestBlock();
    const lockArgs = { buyer: sandbox.buyerQuote, seller: sandbox.sellerQuote, hashlock: `0x${placed.body.order.htlc_hash as string}` as const, timelock: head.timestamp + 7_200n, orderId };
    await sandbox.chain.fundUsdc(sandbox.buyerQuote, 2_000_000n);
    await sandbox.chain.lockUsdc({ ...lockArgs, amount: 999_999n });
    const locked = await sandbox.chain.lockUsdc({ ...lockArgs, amount: 1_000_000n });
    await until(async () => (await historyTypes(orderId)).includes('QuoteLockObserved'), 'the lock verified', 20_000);
    const withLock = await listed(seller.wallet, orderId);
    expect(withLock.quote_leg).toMatchObject({ status: 'locked', swap_id: locked.swapId, lock_tx: locked.txHash, rejected_locks: [{ reason: 'amount_short' }] });
    expect(withLock.quote_leg).toEqual((await resource(orderId)).quote_leg);

    await sandbox.chain.claim(sandbox.sellerQuote, locked.swapId, `0x${secret}`);
    await until(async () => (await resource(orderId)).status === 'completed', 'the order completed', 20_000);
    const claimed = await listed(seller.wallet, orderId);
    expect(claimed.quote_leg).toMatchObject({ status: 'claimed', claim_tx: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(claimed.quote_leg).toEqual((await resource(orderId)).quote_leg);
  }, 60_000);

  it('lists orders on the book (GET /api/orders, status open) with the quote_leg their resource shows', async () => {
    const seller = generateWallet();
    await fundViaLedger(sandbox.ledger.url, seller);
    const placed = await post(sandbox.ledger.url, '/api/orders', placeSellBody(seller, '10', '0.1', sandbox.sellerQuote));
    const orderId = placed.body.order.order_id as string;
    const open = await get(sandbox.ledger.url, `/api/orders?status=open&limit=200&min_position=${placed.body.position as string}`);
    const row = (open.body.orders as Array<Record<string, unknown>>).find((o) => o.order_id === orderId);
    expect(row?.quote_leg).toMatchObject({ mode: 'sandbox', status: null, amount_base_units: '1000000' });
    expect(row?.quote_leg).toEqual((await resource(orderId)).quote_leg);
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  confirmBound, expectOk, generateWalletKey, InvalidSeedError, LedgerClient, LedgerError, matchBound, placeBound,
  signedMessage as clientMessage, walletAuthFor, walletKeyFromSeed, type WalletKey,
} from '../../src/client/index.js';
import { htlcHashOf } from '../../src/crypto/preimage.js';
import { walletFromSeed } from '../../src/crypto/signer.js';
import { signedMessage as serverMessage, verifyWalletAuth } from '../../src/crypto/walletAuth.js';
import type { RunningLedger } from '../../src/main.js';
import { baseEnv, startFromEnv, tempDir } from '../e2e/support.js';

/** The typed client against a real ledger over HTTP on 127.0.0.1 (embedded sandbox node). */

const SEED = '11'.repeat(32);

describe('wallet keys and signed messages, checked by the server\'s own verifier', () => {
  it('derives the same wallet from a seed as the server\'s signer', () => {
    expect(walletKeyFromSeed(SEED).wallet).toBe(walletFromSeed(SEED).wallet);
    expect(walletKeyFromSeed(SEED.toUpperCase()).wallet).toBe(walletFromSeed(SEED).wallet);
  });

  it('refuses a seed that is not 32 bytes of hex', () => {
    expect(() => walletKeyFromSeed('11'.repeat(31))).toThrow(InvalidSeedError);
    expect(() => walletKeyFromSeed('zz'.repeat(32))).toThrow(InvalidSeedError);
  });

  it('builds every action\'s message exactly as the server does, and the server verifies its signature', () => {
    const key = generateWalletKey();
    const ts = Math.floor(Date.now() / 1000);
    const place = placeBound({ side: 'sell', pair: 'rtc/usdc', amountRtc: '100.5', pricePerRtc: '0.1' });
    expect(place).toEqual({ side: 'sell', pair: 'RTC/USDC', amount_micro_rtc: 100_500_000, price_per_rtc_nano_quote: 100_000_000, ttl_seconds: 604_800, eth_address: '', htlc_hash: '' });
    const cases = [
      { action: 'create_order', orderId: 'create_order', bound: place },
      { action: 'match_order', orderId: 'otc_0123456789abcdef', bound: matchBound(null, undefined) },
      { action: 'cancel_order', orderId: 'otc_0123456789abcdef', bound: {} },
      { action: 'confirm_settlement', orderId: 'otc_0123456789abcdef', bound: confirmBound('0xabc', 'ab'.repeat(32)) },
    ] as const;
    for (const c of cases) {
      expect(clientMessage(c.action, c.orderId, key.wallet, ts, c.bound)).toBe(serverMessage(c.action, c.orderId, key.wallet, ts, c.bound));
      const auth = walletAuthFor(key, c.action, c.orderId, c.bound, ts);
      expect(verifyWalletAuth({ action: c.action, orderId: c.orderId, wallet: key.wallet, bound: c.bound, auth }, Date.now())).toBe(auth.signature);
    }
    expect(confirmBound('0xabc', 'ab'.repeat(32))['secret_sha256']).toBe(htlcHashOf('ab'.repeat(32)));
  });

  it('refuses a signature over other fields: the server answers wallet_auth_invalid_signature', () => {
    const key = generateWalletKey();
    const ts = Math.floor(Date.now() / 1000);
    const auth = walletAuthFor(key, 'match_order', 'otc_0123456789abcdef', matchBound('0x' + '1'.repeat(40)), ts);
    expect(() => verifyWalletAuth({ action: 'match_order', orderId: 'otc_0123456789abcdef', wallet: key.wallet, bound: matchBound(), auth }, Date.now()))
      .toThrow(expect.objectContaining({ code: 'wallet_auth_invalid_signature' }));
  });

  it('names the signed fields (never their values) when a signature does not verify', () => {
    const key = generateWalletKey();
    const ts = Math.floor(Date.now() / 1000);
    const secret = 'cd'.repeat(32);
    const signed = confirmBound('0xquote', secret);
    const auth = walletAuthFor(key, 'confirm_settlement', 'otc_0123456789abcdef', { ...signed, quote_tx: '0xother' }, ts);
    let message = '';
    try {
      verifyWalletAuth({ action: 'confirm_settlement', orderId: 'otc_0123456789abcdef', wallet: key.wallet, bound: signed, auth }, Date.now());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('{action, order_id, quote_tx, secret_sha256, timestamp, wallet}');
    expect(message).toContain('action "confirm_settlement"');
    expect(message).not.toContain(signed['secret_sha256'] as string);
    expect(message).not.toContain(secret);
    expect(message).not.toContain('0xquote');
  });
});

describe('LedgerClient over real HTTP', () => {
  const dir = tempDir('client');
  let running: RunningLedger;
  let client: LedgerClient;
  let seller: WalletKey;
  let buyer: WalletKey;

  beforeAll(async () => {
    running = await startFromEnv(baseEnv(dir.path, { LEDGER_ADMIN_TOKEN: 'client-test-token-123-0123456789abcdef' }));
    client = new LedgerClient({ baseUrl: running.url });
    seller = generateWalletKey();
    buyer = generateWalletKey();
    expectOk(await client.sandbox.fund(seller.wallet, '1000'));
  });
  afterAll(async () => {
    await running.close();
    dir.remove();
  });

  it('trades end to end: place, match, confirm; the payout completes the order', async () => {
    const placed = expectOk(await client.placeOrder(seller, { side: 'sell', amountRtc: '10', pricePerRtc: '0.25' }));
    expect(placed.httpStatus).toBe(201);
    expect(placed.order.status).toBe('open');
    expect(placed.htlc_secret).toMatch(/^[0-9a-f]{64}$/);
    const orderId = placed.order.order_id;
    const secret = placed.htlc_secret as string;

    // Read your writes: the list carries the position of the place.
    const listed = expectOk(await client.listOrders({ status: 'open' }));
    expect(listed.orders.map((o) => o.order_id)).toContain(orderId);
    const book = expectOk(await client.orderBook('RTC/USDC'));
    expect(book.asks[0]).toMatchObject({ price: '0.250000000', order_count: 1 });

    const matched = expectOk(await client.matchOrder(buyer, orderId));
    expect(matched.order.status).toBe('matched');
    expect(matched.etag).toBe(`"${matched.order.version}"`);

    const confirmed = expectOk(await client.confirmSettlement(seller, orderId, { secret, quoteTx: '0xquote-client-1' }));
    expect([200, 202]).toContain(confirmed.httpStatus);
    if (confirmed.order.status === 'payout_pending') {
      expectOk(await client.sandbox.confirmPayout(confirmed.order.payout.key as string));
      // The pass reads the work queue, a read model: the client sends its confirm's position
      // (read-your-writes), or the pass could run before the writer thread applied the confirm.
      expectOk(await client.admin('client-test-token-123-0123456789abcdef').reconcile());
    }
    const done = expectOk(await client.getOrder(orderId));
    expect(done.order.status).toBe('completed');
    expect(done.order.htlc_secret).toBe(secret);
    const history = expectOk(await client.history(orderId));
    expect(history.chain_valid).toBe(true);
    expect(history.events.at(-1)?.status_after).toBe('completed');
    const balance = expectOk(await client.sandbox.balanceMicroRtc(buyer.wallet));
    expect(balance.balance_micro_rtc).toBe(10_000_000n);
  });

  it('answers refusals as typed values with the server\'s codes', async () => {
    const small = await client.placeOrder(seller, { side: 'sell', amountRtc: '0.01', pricePerRtc: '0.1' });
    expect(small).toMatchObject({ ok: false, httpStatus: 400, error: 'amount_too_small' });
    const placed = expectOk(await client.placeOrder(seller, { side: 'buy', amountRtc: '1', pricePerRtc: '0.1' }));
    const notMaker = await client.cancelOrder(buyer, placed.order.order_id);
    expect(notMaker).toMatchObject({ ok: false, httpStatus: 403, error: 'not_maker' });
    const unknown = await client.getOrder('otc_ffffffffffffffff');
    expect(unknown).toMatchObject({ ok: false, httpStatus: 404, error: 'order_not_found' });
    const admin = await client.admin('wrong-token').recovery();
    expect(admin).toMatchObject({ ok: false, httpStatus: 401, error: 'unauthorized' });
    expect(() => expectOk(unknown)).toThrow(LedgerError);
    // Nothing to do: the maker's cancel succeeds once, then the order is no longer open.
    expectOk(await client.cancelOrder(seller, placed.order.order_id));
    expect(await client.cancelOrder(seller, placed.order.order_id)).toMatchObject({ ok: false, httpStatus: 409, error: 'order_not_open' });
  });

  it('answers network_error when nothing listens, instead of throwing', async () => {
    const nowhere = new LedgerClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
    expect(await nowhere.health()).toMatchObject({ ok: false, httpStatus: 0, error: 'network_error' });
    expect(expectOk(await client.ready()).projections.length).toBeGreaterThan(0);
  });

  it('retries a lost answer with the same Idempotency-Key: the server replays it, and only one order exists', async () => {
    let sent = 0;
    const losesFirstAnswer: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      sent += 1;
      if (sent === 1) throw new TypeError('connection reset');
      return response;
    };
    const flaky = new LedgerClient({ baseUrl: running.url, fetch: losesFirstAnswer });
    const placed = expectOk(await flaky.placeOrder(buyer, { side: 'buy', amountRtc: '2', pricePerRtc: '0.3' }));
    expect(sent).toBe(2);
    expect(placed.replayed).toBe(true);
    const mine = expectOk(await flaky.listOrders({ wallet: buyer.wallet, status: 'all' }));
    expect(mine.orders.filter((o) => o.price_per_rtc === '0.300000000')).toHaveLength(1);
  });

  it('refuses the same Idempotency-Key with a different signed body: idempotency_key_reused', async () => {
    const key = 'client-test-key-1';
    expectOk(await client.placeOrder(buyer, { side: 'buy', amountRtc: '1', pricePerRtc: '0.2' }, { idempotencyKey: key }));
    const again = await client.placeOrder(buyer, { side: 'buy', amountRtc: '1', pricePerRtc: '0.2' }, { idempotencyKey: key });
    expect(again).toMatchObject({ ok: false, httpStatus: 422, error: 'idempotency_key_reused' });
  });

  it("the admin reconcile and recovery wait for the client's last write like reads; an explicit position far ahead is 503 read_model_lagging", async () => {
    const urls: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    };
    const watched = new LedgerClient({ baseUrl: running.url, fetch: recording });
    const placed = expectOk(await watched.placeOrder(seller, { side: 'buy', amountRtc: '1', pricePerRtc: '0.45' }));
    const admin = watched.admin('client-test-token-123-0123456789abcdef');
    expectOk(await admin.reconcile());
    expectOk(await admin.recovery());
    expect(urls.slice(-2).map((u) => new URL(u).searchParams.get('min_position'))).toEqual([placed.position, placed.position]);
    expect(await admin.reconcile({ minPosition: '999999999' })).toMatchObject({ ok: false, httpStatus: 503, error: 'read_model_lagging' });
  });

  it('reads at an explicit min_position: the read model has applied the write before answering', async () => {
    const fresh = new LedgerClient({ baseUrl: running.url, readYourWrites: false });
    const placed = expectOk(await fresh.placeOrder(seller, { side: 'buy', amountRtc: '3', pricePerRtc: '0.4' }));
    expect(fresh.position).toBe(placed.position);
    const book = expectOk(await fresh.orderBook('RTC/USDC', { minPosition: placed.position }));
    expect(book.bids.some((l) => l.price === '0.400000000')).toBe(true);
    const bad = await fresh.orderBook('RTC/USDC', { minPosition: 'not-a-number' });
    expect(bad).toMatchObject({ ok: false, httpStatus: 400, error: 'min_position_invalid' });
  });
});

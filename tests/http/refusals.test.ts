import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSignatureUse } from '../../src/commands/signatures.js';
import { loadConfig } from '../../src/config.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import {
  cancelBody, confirmBody, matchBody, placeBody, startHttpHarness, type HarnessOptions, type HttpHarness, type PlaceOptions,
} from '../support/httpHarness.js';

/**
 * Issue 10, "Refused requests write" and "Open-order limits", over real HTTP on loopback: a request
 * refused for what can be known without deciding writes nothing (the store's head stays put), and
 * one wallet cannot hold more than LEDGER_MAX_OPEN_ORDERS_PER_WALLET orders on the book.
 */

interface Answer { readonly status: number; readonly body: Record<string, any> }

interface Listening {
  readonly h: HttpHarness;
  post(path: string, body: unknown): Promise<Answer>;
  /** POST /api/orders, signed by `w`. */
  place(w: ClientWallet, o?: PlaceOptions): Promise<Answer>;
  /** A new wallet with plenty of RTC at the sandbox node. */
  funded(): ClientWallet;
}

/** A harness for the describe block, listening on loopback, and the block's requests over real HTTP. */
function useListeningHarness(options?: HarnessOptions): Listening {
  let harness: HttpHarness | undefined;
  let base = '';
  beforeAll(async () => {
    harness = await startHttpHarness(options);
    base = await harness.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => harness?.close());
  const h = (): HttpHarness => {
    if (harness === undefined) throw new Error('the harness is used before beforeAll started it');
    return harness;
  };
  const post = async (path: string, body: unknown): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  return {
    get h() { return h(); },
    post,
    place: (w, o) => post('/api/orders', placeBody(h(), w, o)),
    funded: () => {
      const w = generateWallet();
      h().node.fund(w.wallet, 1_000_000_000_000n);
      return w;
    },
  };
}

const UNKNOWN_ID = 'otc_00000000deadbeef';

describe('a signed request on an order that does not exist', () => {
  const l = useListeningHarness();

  it('answers 404 order_not_found to a match, a cancel and a confirm, and writes nothing', async () => {
    const { h, post } = l;
    const secret = 'ab'.repeat(32);
    const requests = [
      [`/api/orders/${UNKNOWN_ID}/match`, matchBody(h, h.buyer, UNKNOWN_ID)],
      [`/api/orders/${UNKNOWN_ID}/cancel`, cancelBody(h, h.seller, UNKNOWN_ID)],
      [`/api/orders/${UNKNOWN_ID}/confirm`, confirmBody(h, h.seller, UNKNOWN_ID, secret)],
    ] as const;
    for (const [path, body] of requests) {
      const head = await h.store.headPosition();
      const answer = await post(path, body);
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ ok: false, error: 'order_not_found' });
      expect(await h.store.headPosition()).toBe(head);
      expect(await h.store.listStreams('sig-')).toEqual([]);
    }
  });

  it('still spends the signature of a request the decider refuses (a resend is a replay)', async () => {
    const { h, post } = l;
    const placed = await l.place(h.seller, { side: 'sell' });
    expect(placed.status).toBe(201);
    const orderId = placed.body.order.order_id as string;
    const selfMatch = matchBody(h, h.seller, orderId);
    expect((await post(`/api/orders/${orderId}/match`, selfMatch)).body).toMatchObject({ error: 'self_match' });
    const again = await post(`/api/orders/${orderId}/match`, selfMatch);
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ error: 'wallet_auth_replayed' });
  });

  it('refuses a bad signature on a missing order as before: 401, nothing written', async () => {
    const { h, post } = l;
    const head = await h.store.headPosition();
    const forged = { ...matchBody(h, h.buyer, UNKNOWN_ID), wallet: h.stranger.wallet };
    const answer = await post(`/api/orders/${UNKNOWN_ID}/match`, forged);
    expect(answer.status).toBe(401);
    expect(await h.store.headPosition()).toBe(head);
  });
});

describe('the open-order cap per wallet (default 20)', () => {
  const l = useListeningHarness();
  const place = (w: ClientWallet, side: 'buy' | 'sell') => l.place(w, { side, amount_rtc: '1' });

  it('refuses the 21st open order with 409 too_many_open_orders and writes nothing; a cancel makes room; another wallet is unaffected', async () => {
    const { h, post } = l;
    expect(h.config.maxOpenOrdersPerWallet).toBe(20);
    const maker = l.funded();
    const ids: string[] = [];
    // Sell orders hold the maker's escrow and buy orders do not: both count.
    for (let i = 0; i < 20; i++) {
      const answer = await place(maker, i % 4 === 0 ? 'sell' : 'buy');
      expect(answer.status).toBe(201);
      ids.push(answer.body.order.order_id as string);
    }
    const head = await h.store.headPosition();
    const streams = (await h.store.listStreams('order-')).length;
    const refused = await place(maker, 'buy');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ ok: false, error: 'too_many_open_orders', limit: 20 });
    expect(await h.store.headPosition()).toBe(head);
    expect((await h.store.listStreams('order-')).length).toBe(streams);

    const other = await place(l.funded(), 'sell');
    expect(other.status).toBe(201);

    const cancelled = await post(`/api/orders/${ids[0]}/cancel`, cancelBody(h, maker, ids[0] as string));
    expect(cancelled.status).toBe(200);
    expect((await place(maker, 'buy')).status).toBe(201);
    expect((await place(maker, 'sell')).body).toMatchObject({ error: 'too_many_open_orders' });
  });
});

describe('what counts as open', () => {
  const l = useListeningHarness({ config: { maxOpenOrdersPerWallet: 2 } });

  it('counts a matched order (it still ties up the maker) but not an open one past its expiry', async () => {
    const { h, post } = l;
    const maker = l.funded();
    const place = () => l.place(maker, { side: 'sell', amount_rtc: '1', ttl_seconds: 3600 });
    const first = await place();
    expect(first.status).toBe(201);
    expect((await place()).status).toBe(201);
    const firstId = first.body.order.order_id as string;
    expect((await post(`/api/orders/${firstId}/match`, matchBody(h, h.buyer, firstId))).status).toBe(200);
    expect((await place()).body).toMatchObject({ error: 'too_many_open_orders', limit: 2 });

    // The second order's expires_at passes (the reconciler has not swept it yet): no longer on the
    // book, so it no longer counts; the matched one (settle_by a day away) still does.
    h.clock.nowMs += 3_601_000;
    expect((await place()).status).toBe(201);
    expect((await place()).body).toMatchObject({ error: 'too_many_open_orders' });
  });
});

describe('a read model that cannot be counted on', () => {
  const l = useListeningHarness();

  it('refuses a place with 503 read_model_lagging and writes nothing while the orders read model is behind the head', async () => {
    const { h } = l;
    expect((await l.place(h.buyer, { side: 'buy' })).status).toBe(201);
    await h.runner.stop();
    // Another instance's write: in the log, not yet in this instance's read model.
    await recordSignatureUse(h.store, { signatureHex: 'cd'.repeat(64), wallet: h.stranger.wallet, action: 'cancel_order', orderId: UNKNOWN_ID, correlationId: 'other-instance', now: new Date(h.clock.nowMs) });
    const head = await h.store.headPosition();
    const answer = await l.place(h.buyer, { side: 'buy' });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ ok: false, error: 'read_model_lagging' });
    expect(await h.store.headPosition()).toBe(head);
  });
});

describe('LEDGER_MAX_OPEN_ORDERS_PER_WALLET', () => {
  it('defaults to 20, takes a positive integer, and refuses 0 or garbage naming the variable', () => {
    expect(loadConfig({}).maxOpenOrdersPerWallet).toBe(20);
    expect(loadConfig({ LEDGER_MAX_OPEN_ORDERS_PER_WALLET: '5' }).maxOpenOrdersPerWallet).toBe(5);
    for (const bad of ['0', '-1', 'many', '1.5']) {
      expect(() => loadConfig({ LEDGER_MAX_OPEN_ORDERS_PER_WALLET: bad })).toThrow(/LEDGER_MAX_OPEN_ORDERS_PER_WALLET/);
    }
  });
});

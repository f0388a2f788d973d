import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmBody, json, matchedSell, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness({ autoConfirm: 'immediate' });
});
afterAll(async () => {
  await h.close();
});

const UNKNOWN_ID = 'otc_0123456789abcdef';
const confirm = (orderId: string, body: Record<string, unknown>) => h.post(`/api/orders/${orderId}/confirm`, body);

describe('POST /api/orders/:id/confirm outcomes', () => {
  it('settles: 200 settled with the completed order, its preimage and the trade id', async () => {
    const { orderId, secret } = await matchedSell(h);
    const res = await confirm(orderId, confirmBody(h, h.seller, orderId, secret));
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ ok: true, settled: true, trade_id: expect.stringMatching(/^trade_/), order: { status: 'completed', htlc_secret: secret, payout: { status: 'confirmed' } } });
    expect(res.headers.etag).toBe(`"${json(res).order.version}"`);
  });

  it('answers 202 settled:false with payout_pending while the payout is queued', async () => {
    h.node.setAutoConfirm('off');
    try {
      const { orderId, secret } = await matchedSell(h);
      const res = await confirm(orderId, confirmBody(h, h.seller, orderId, secret));
      expect(res.statusCode).toBe(202);
      expect(json(res)).toMatchObject({ ok: true, settled: false, order: { status: 'payout_pending', htlc_secret: null } });
      expect(res.body).not.toContain(secret);
    } finally {
      h.node.setAutoConfirm('immediate');
    }
  });

  it('answers 502 escrow_release_failed, retryable, with the order matched again when the release is refused', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /agent/jobs/:id/claim', 'reject_400');
    const res = await confirm(orderId, confirmBody(h, h.seller, orderId, secret));
    expect(res.statusCode).toBe(502);
    expect(json(res)).toMatchObject({ ok: false, error: 'escrow_release_failed', retryable: true, order: { status: 'matched', htlc_secret: null } });
    expect(res.body).not.toContain(secret);
    // Retryable: a fresh confirm settles.
    expect((await confirm(orderId, confirmBody(h, h.seller, orderId, secret, '0xquote-tx-2'))).statusCode).toBe(200);
  });

  it('answers 502 settlement_recovery, not retryable, when the payout is refused after the release', async () => {
    const { orderId, secret } = await matchedSell(h);
    h.fault('POST /wallet/transfer', 'reject_400');
    const res = await confirm(orderId, confirmBody(h, h.seller, orderId, secret));
    expect(res.statusCode).toBe(502);
    expect(json(res)).toMatchObject({ ok: false, error: 'settlement_recovery', retryable: false, order: { status: 'settlement_recovery' } });
  });

  it('settles on the buyer\'s confirm with the preimage: the buyer\'s recourse, the payout to the buyer', async () => {
    const { orderId, secret } = await matchedSell(h);
    const res = await confirm(orderId, confirmBody(h, h.buyer, orderId, secret));
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ ok: true, settled: true, order: { status: 'completed', buyer_wallet: h.buyer.wallet, quote_leg: { mode: 'manual', status: null } } });
    const history = json(await h.get(`/api/orders/${orderId}/history`)).events as Array<{ type: string; data: Record<string, unknown> }>;
    expect(history.find((e) => e.type === 'PayoutQueued')?.data.to).toBe(h.buyer.wallet);
  });

  it('answers 409 order_not_matched with the status to a second confirm', async () => {
    const { orderId, secret } = await matchedSell(h);
    expect((await confirm(orderId, confirmBody(h, h.seller, orderId, secret))).statusCode).toBe(200);
    const res = await confirm(orderId, confirmBody(h, h.seller, orderId, secret, '0xother'));
    expect(res.statusCode).toBe(409);
    expect(json(res)).toMatchObject({ ok: false, error: 'order_not_matched', status: 'completed' });
  });
});

describe('POST /api/orders/:id/confirm refusals', () => {
  it('refuses a stranger who knows the preimage with 403 not_party, changing nothing', async () => {
    const { orderId, secret } = await matchedSell(h);
    const res = await confirm(orderId, confirmBody(h, h.stranger, orderId, secret));
    expect(res.statusCode).toBe(403);
    expect(json(res).error).toBe('not_party');
    expect(json(await h.get(`/api/orders/${orderId}`)).order.status).toBe('matched');
  });

  it('refuses a wrong preimage with 403 secret_mismatch', async () => {
    const { orderId } = await matchedSell(h);
    const res = await confirm(orderId, confirmBody(h, h.seller, orderId, 'ab'.repeat(32)));
    expect(res.statusCode).toBe(403);
    expect(json(res).error).toBe('secret_mismatch');
  });

  it('validates quote_tx and secret with 400 in order', async () => {
    const { orderId, secret } = await matchedSell(h);
    const body = confirmBody(h, h.seller, orderId, secret);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...body, quote_tx: '', secret: undefined }, 'quote_tx_required'],
      [{ ...body, quote_tx: 'x'.repeat(201) }, 'quote_tx_required'],
      [{ ...body, quote_tx: 'tab\there' }, 'quote_tx_required'],
      [{ ...body, quote_tx: '   ' }, 'quote_tx_required'],
      [{ ...body, secret: undefined }, 'secret_required'],
      [{ ...body, secret: 'abc' }, 'secret_invalid_format'],
      [{ ...body, secret: 7 }, 'secret_required'],
    ];
    for (const [payload, code] of cases) {
      const res = await confirm(orderId, payload);
      expect(res.statusCode, code).toBe(400);
      expect(json(res).error).toBe(code);
    }
  });

  it('answers 401 for a bad signature and 404 for an unknown order', async () => {
    const { orderId, secret } = await matchedSell(h);
    const forged = { ...confirmBody(h, h.seller, orderId, secret), quote_tx: '0xchanged' };
    expect(json(await confirm(orderId, forged)).error).toBe('wallet_auth_invalid_signature');
    const res = await confirm(UNKNOWN_ID, confirmBody(h, h.seller, UNKNOWN_ID, secret));
    expect(res.statusCode).toBe(404);
    expect(json(res).error).toBe('order_not_found');
  });
});

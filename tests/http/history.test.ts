import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, matchBody, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness();
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/orders/:id/history', () => {
  it('carries each event\'s id, the request that wrote it, its cause and its hash-chain links', async () => {
    const placed = await h.post('/api/orders', placeBody(h, h.seller), { 'x-request-id': 'history-place-0001' });
    const orderId = json(placed).order.order_id as string;
    await h.post(`/api/orders/${orderId}/match`, matchBody(h, h.buyer, orderId), { 'x-request-id': 'history-match-0002' });
    const res = await h.get(`/api/orders/${orderId}/history`);
    expect(res.statusCode).toBe(200);
    const history = json(res) as { chain_valid: boolean; events: Record<string, unknown>[] };
    const recorded = await h.store.readStream(`order-${orderId}`);
    expect(history.chain_valid).toBe(true);
    expect(history.events.map((e) => e['type'])).toEqual(recorded.map((r) => r.type));
    history.events.forEach((e, i) => {
      const r = recorded[i]!;
      expect(e).toMatchObject({
        version: i + 1, event_id: r.eventId, correlation_id: r.metadata.correlation_id, causation_id: r.metadata.causation_id,
        prev_hash: r.metadata.prev_hash, hash: r.metadata.hash,
      });
      expect(e['prev_hash']).toBe(i === 0 ? '0'.repeat(64) : history.events[i - 1]!['hash']);
    });
    expect(history.events.filter((e) => e['type'] === 'OrderPlaced' || e['type'] === 'EscrowLocked').map((e) => e['correlation_id'])).toEqual(['history-place-0001', 'history-place-0001']);
    expect(history.events.find((e) => e['type'] === 'Matched')?.['correlation_id']).toBe('history-match-0002');
    // The preimage never appears, in the data or the metadata.
    expect(res.body).not.toContain(json(placed).htlc_secret as string);
  });

  it('answers 404 order_not_found for an order with no stream, and changes nothing', async () => {
    const before = await h.store.headPosition();
    const res = await h.get('/api/orders/otc_00000000000000aa/history');
    expect(res.statusCode).toBe(404);
    expect(json(res).error).toBe('order_not_found');
    expect(await h.store.headPosition()).toBe(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/aggregates/order/index.js';
import { runReplay } from '../../src/cli/replayCommand.js';
import { toNewEvents } from '../../src/commands/handleCommand.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import type { JsonObject } from '../../src/eventstore/types.js';
import { activeCopy } from '../../src/projections/registry.js';
import { cancelBody, json, placeBody, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

/**
 * Integration: one order stream damaged by something other than the decider (an event type this
 * build does not know, correctly hash-chained), and what every reader of the one fold makes of it.
 */
let h: HttpHarness;
let orderId: string;

beforeAll(async () => {
  h = await startHttpHarness();
  const placed = await h.post('/api/orders', placeBody(h, h.buyer, { side: 'buy' }));
  expect(placed.statusCode).toBe(201);
  orderId = json(placed).order.order_id as string;
  const loaded = await loadOrder(h.store, orderId);
  const [event] = toNewEvents(orderId, loaded, [{ type: 'OrderCancelled', data: { by: h.buyer.wallet, cancelled_at: new Date(h.clock.nowMs).toISOString() } }], {
    correlationId: 'forged', causationId: null, actor: 'intruder', now: () => new Date(h.clock.nowMs),
  });
  if (event === undefined) throw new Error('one event decided, one written');
  // Same chain link and metadata as a real event; only the type is one nobody handles.
  const unknown = { ...event, type: 'EscrowFrozen', data: { reason: 'forged' } as JsonObject };
  await h.store.append(orderStream(orderId), [unknown], loaded.version);
  await h.runner.catchUp();
});
afterAll(async () => {
  await h.close();
});

describe('an order stream with an event nobody can read', () => {
  it('GET /api/orders/:id answers 409 order_stream_corrupt naming the event, never a 500', async () => {
    const res = await h.get(`/api/orders/${orderId}`);
    expect(res.statusCode).toBe(409);
    expect(json(res)).toMatchObject({ ok: false, error: 'order_stream_corrupt', version: 2, message: expect.stringContaining('v2: EscrowFrozen cannot be read') });
  });

  it('refuses every command with 409 order_stream_corrupt and writes nothing', async () => {
    const before = (await h.store.readStream(orderStream(orderId))).length;
    const res = await h.post(`/api/orders/${orderId}/cancel`, cancelBody(h, h.buyer, orderId));
    expect(res.statusCode).toBe(409);
    expect(json(res).error).toBe('order_stream_corrupt');
    expect((await h.store.readStream(orderStream(orderId))).length).toBe(before);
  });

  it('the history shows the problem on the event where the fold broke', async () => {
    const res = await h.get(`/api/orders/${orderId}/history`);
    expect(res.statusCode).toBe(200);
    expect(json(res).events.map((e: { type: string; problem: unknown }) => [e.type, e.problem])).toEqual([
      ['OrderPlaced', null],
      ['EscrowFrozen', { kind: 'unknown_event', reason: 'unknown event type EscrowFrozen' }],
    ]);
    const atVersion = await h.get(`/api/orders/${orderId}/history?at_version=2`);
    expect(atVersion.statusCode).toBe(409);
    expect(json(atVersion).error).toBe('order_stream_corrupt');
  });

  it('replay prints the problem under its event and exits 2', async () => {
    let text = '';
    const code = await runReplay({ store: h.store, orderId, json: false }, { write: (s: string) => (text += s), isTTY: false });
    expect(code).toBe(2);
    expect(text).toContain('! unknown_event: unknown event type EscrowFrozen');
  });

  it('the projections record it without stopping, and keep the last readable state', async () => {
    const status = await h.runner.status();
    expect(status.every((p) => p.state !== 'failed')).toBe(true);
    const suffix = activeCopy(h.runner.db, 'orders')?.suffix;
    const rows = h.runner.db.prepare(`SELECT order_id, version, kind, type FROM order_stream_problems__${suffix}`).all();
    expect(rows).toEqual([{ order_id: orderId, version: 2, kind: 'unknown_event', type: 'EscrowFrozen' }]);
    const listed = await h.get('/api/orders?status=open');
    expect(json(listed).orders.map((o: { order_id: string }) => o.order_id)).toContain(orderId);
  });
});

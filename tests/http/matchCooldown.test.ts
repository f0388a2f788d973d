import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../src/aggregates/order/index.js';
import { orderStream } from '../../src/aggregates/order/index.js';
import { toNewEvents } from '../../src/commands/handleCommand.js';
import { loadOrder } from '../../src/commands/loadOrder.js';
import { generateWallet, type ClientWallet } from '../../src/crypto/signer.js';
import { json, matchBody, placeSell, startHttpHarness, type HttpHarness } from '../support/httpHarness.js';

/**
 * 429 match_cooldown over real HTTP (a listening server on loopback): the refusal says when the
 * cool-down ends twice, as `cooldown_until` in the body and as `Retry-After` in whole seconds on the
 * ledger's clock, rounded up. Lapses are facts in the log (MatchLapsed, as the chain-time step writes
 * them), counted by the real lapses read model.
 */

const HOUR_MS = 3_600_000;
let h: HttpHarness;
let base: string;
beforeAll(async () => {
  h = await startHttpHarness({ matchCooldown: true, config: { matchCooldown: { lapses: 2, seconds: 86_400 } } });
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => h.close());

/** One MatchLapsed by `buyer` at `atMs`, on an order stream of its own. */
async function recordLapse(buyer: ClientWallet, atMs: number): Promise<void> {
  const orderId = `otc_${randomBytes(8).toString('hex')}`;
  const loaded = await loadOrder(h.store, orderId);
  const lapse: OrderEvent = {
    type: 'MatchLapsed',
    data: { lock_by: new Date(atMs - 1_000).toISOString(), finalized_time_seconds: String(Math.floor(atMs / 1000)), buyer_wallet: buyer.wallet, buyer_eth_address: null, lapsed_at: new Date(atMs).toISOString() },
  };
  const events = toNewEvents(orderId, loaded, [lapse], { correlationId: 'lapse-given', causationId: null, actor: 'reconciler', now: () => new Date(atMs) });
  await h.store.append(orderStream(orderId), events, loaded.version);
}

async function match(buyer: ClientWallet, orderId: string): Promise<{ status: number; retryAfter: string | null; body: Record<string, any> }> {
  const res = await fetch(`${base}/api/orders/${orderId}/match`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(matchBody(h, buyer, orderId)), signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
}

describe('429 match_cooldown over HTTP', () => {
  it('answers Retry-After: the seconds until cooldown_until on the ledger\'s clock, rounded up', async () => {
    const griefer = generateWallet();
    const now = h.clock.nowMs;
    // The second lapse within a day starts a day's cool-down; this one ends 14 h less 250 ms from now.
    await recordLapse(griefer, now - 12 * HOUR_MS);
    await recordLapse(griefer, now - 10 * HOUR_MS - 250);
    const { orderId } = await placeSell(h);
    const refused = await match(griefer, orderId);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ ok: false, error: 'match_cooldown', cooldown_until: new Date(now + 14 * HOUR_MS - 250).toISOString() });
    expect(refused.retryAfter).toBe(String(14 * 3600));
    // 400 ms left: 1, never 0 (a client retrying at once would be refused again).
    h.clock.nowMs = now + 14 * HOUR_MS - 650;
    const late = await match(griefer, orderId);
    expect([late.status, late.body.error, late.retryAfter]).toEqual([429, 'match_cooldown', '1']);
    h.clock.nowMs = now;
  });

  it('lets the wallet match once the cool-down has ended, with no Retry-After', async () => {
    const griefer = generateWallet();
    const now = h.clock.nowMs;
    await recordLapse(griefer, now - 2 * HOUR_MS);
    await recordLapse(griefer, now - HOUR_MS);
    const { orderId } = await placeSell(h);
    expect((await match(griefer, orderId)).retryAfter).toBe(String(23 * 3600));
    try {
      h.clock.nowMs = now + 23 * HOUR_MS;
      const matched = await match(griefer, orderId);
      expect(matched.status).toBe(200);
      expect(matched.body.order.status).toBe('matched');
      expect(matched.retryAfter).toBeNull();
    } finally {
      h.clock.nowMs = now;
    }
  });

  it('sends no Retry-After with one lapse (allowed) nor with a refusal of another kind', async () => {
    const once = generateWallet();
    await recordLapse(once, h.clock.nowMs - HOUR_MS);
    const { orderId } = await placeSell(h);
    const selfMatch = await match(h.seller, orderId);
    expect([selfMatch.status, selfMatch.body.error, selfMatch.retryAfter]).toEqual([400, 'self_match', null]);
    const allowed = await match(once, orderId);
    expect([allowed.status, allowed.retryAfter]).toEqual([200, null]);
    expect(json(await h.get(`/api/orders/${orderId}`)).order.status).toBe('matched');
  });
});

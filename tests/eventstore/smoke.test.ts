import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { handleOrderCommand } from '../../src/commands/handleCommand.js';
import { verifyChain } from '../../src/eventstore/hashChain.js';
import { orderStream } from '../../src/aggregates/order/index.js';

describe('command handling on sqlite', () => {
  it('places and matches a buy order with a verifiable chain', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const ctx = { correlationId: 'req-1', causationId: null, actor: 'RTC' + 'a'.repeat(40), now: () => new Date('2026-01-01T00:00:00Z') };
    const placed = await handleOrderCommand(store, 'otc_0000000000000001', {
      type: 'PlaceOrder', orderId: 'otc_0000000000000001', side: 'buy', pair: 'RTC/USDC', makerWallet: ctx.actor,
      amountMicroRtc: 1_000_000n, pricePerRtcNanoQuote: 100_000_000n, ttlSeconds: 3600, makerEthAddress: null, htlcHash: null, now: ctx.now(),
    }, ctx);
    expect(placed.state.status).toBe('open');
    expect(placed.version).toBe(1n);
    const matched = await handleOrderCommand(store, 'otc_0000000000000001', {
      type: 'MatchOrder', takerWallet: 'RTC' + 'b'.repeat(40), takerEthAddress: null, htlcHash: 'c'.repeat(64), settleWindowSeconds: 86400, now: ctx.now(),
    }, ctx);
    expect(matched.state.status).toBe('matching');
    const events = await store.readStream(orderStream('otc_0000000000000001'));
    expect(verifyChain(events)).toEqual({ ok: true });
    await store.close();
  });
});

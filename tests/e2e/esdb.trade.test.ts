import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLedger } from '../../src/main.js';
import { EsdbStandIn, HOSTILE_SERVER } from '../support/esdbStandIn/server.js';
import { baseEnv, confirmBody, fundViaLedger, generateWallet, get, matchBody, placeSell, post, startFromEnv, tempDir } from './support.js';

/**
 * The whole ledger through its composition root on the esdb adapter, against the EventStoreDB
 * stand-in (a test double of the gRPC protocol, not a real server): a full trade over real HTTP.
 * Read models are local SQLite under the data dir; they follow the stand-in's $all. The stand-in
 * behaves like a real KurrentDB node (HOSTILE_SERVER: refused appends, end-of-log checkpoints).
 */

let standIn: EsdbStandIn;
let dir: ReturnType<typeof tempDir>;
let running: RunningLedger;

beforeAll(async () => {
  standIn = await EsdbStandIn.start({ faults: HOSTILE_SERVER });
  dir = tempDir('esdb-trade');
  running = await startFromEnv(baseEnv(dir.path, { LEDGER_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: standIn.connectionString }));
});

afterAll(async () => {
  await running?.close();
  await standIn?.stop();
  dir?.remove();
});

describe('the ledger on the esdb adapter (stand-in), end to end over HTTP', () => {
  it('listens on the real address when PORT=0, with the esdb store and the embedded sandbox', async () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.url).not.toMatch(/:0$/);
    expect(running.store.name).toMatch(/esdb/i);
    expect(running.sandbox).not.toBeNull();
    const health = await get(running.url, '/health');
    expect(health.status).toBe(200);
    const ready = await get(running.url, '/ready');
    expect(ready.status).toBe(200);
  });

  it('places, matches and confirms a trade; reads with min_position see it; the history chain is valid', async () => {
    const base = running.url;
    const seller = generateWallet();
    const buyer = generateWallet();
    const callsBefore = standIn.callCount;
    await fundViaLedger(base, seller);

    const { orderId, secret } = await placeSell(base, seller, '25');
    expect(secret).toMatch(/^[0-9a-f]{64}$/);

    const matched = await post(base, `/api/orders/${orderId}/match`, matchBody(buyer, orderId));
    expect(matched.status, JSON.stringify(matched.body)).toBe(200);
    expect(matched.body.order.status).toBe('matched');
    expect(matched.headers.get('etag')).toBe(`"${matched.body.order.version as number}"`);

    running.sandbox!.setAutoConfirm('immediate');
    const confirmed = await post(base, `/api/orders/${orderId}/confirm`, confirmBody(seller, orderId, secret));
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({ ok: true, settled: true, order: { status: 'completed', htlc_secret: secret } });
    const tradeId = confirmed.body.trade_id as string;
    // Derived from the order id, so a trade can never be recorded twice.
    expect(tradeId).toBe(`trade_${orderId.slice('otc_'.length)}`);

    // The payout the sandbox node made is the one the order records.
    const payout = running.sandbox!.transferByKey(`otc_payout:${orderId}`);
    expect(payout?.phase).toBe('confirmed');
    expect(payout?.toWallet).toBe(buyer.wallet);
    expect(confirmed.body.order.payout).toMatchObject({ status: 'confirmed', tx_hash: payout?.txHash });
    // The events went to the stand-in, not anywhere local.
    expect(standIn.callCount).toBeGreaterThan(callsBefore);
    expect(standIn.log.streamEvents(`order-${orderId}`)?.length ?? 0).toBeGreaterThan(0);
    // Some of those appends were refused once (NotReady / Busy / Timeout) and retried.
    expect(standIn.refusedAppends).toBeGreaterThan(0);

    // The position of the confirm: every read that asks for it waits until the projections,
    // following $all on the stand-in, have caught up with it.
    const position = confirmed.body.position as string;
    expect(position).toMatch(/^\d+$/);
    expect(BigInt(position)).toBeGreaterThan(BigInt(matched.body.position as string));
    const orders = await get(base, `/api/orders?status=all&wallet=${seller.wallet}&min_position=${position}`);
    expect(orders.status, JSON.stringify(orders.body)).toBe(200);
    expect(orders.body.orders).toEqual([expect.objectContaining({ order_id: orderId, status: 'completed', buyer_wallet: buyer.wallet })]);
    const trades = await get(base, `/api/trades?min_position=${position}`);
    expect(trades.status, JSON.stringify(trades.body)).toBe(200);
    expect(trades.body.trades).toContainEqual(expect.objectContaining({
      trade_id: tradeId, order_id: orderId, seller_wallet: seller.wallet, buyer_wallet: buyer.wallet, amount_rtc: '25.000000', payout_tx_hash: payout?.txHash,
    }));

    const history = await get(base, `/api/orders/${orderId}/history`);
    expect(history.status).toBe(200);
    expect(history.body.chain_valid).toBe(true);
    const types = (history.body.events as Array<{ type: string }>).map((e) => e.type);
    expect(types[0]).toBe('OrderPlaced');
    expect(types).toContain('PayoutConfirmed');
    expect(history.body.events.at(-1).status_after).toBe('completed');
    expect(JSON.stringify(history.body)).not.toContain(secret);
  });
});

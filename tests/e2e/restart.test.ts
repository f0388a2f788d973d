import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/audit/verify.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxReply, type SandboxRequest, type SandboxServer } from '../../src/sandbox/index.js';
import type { RunningLedger } from '../../src/main.js';
import { openReadDb } from '../../src/projections/registry.js';
import {
  baseEnv, call, cancelBody, confirmBody, fundViaLedger, generateWallet, get, matchBody, placeBuyBody, placeSellBody, post, startFromEnv, tempDir, until,
  type Answer, type ClientWallet,
} from './support.js';

/**
 * Issue 4's restart test, through the real composition root on SQLite: traffic, a graceful stop
 * while requests are in flight, a new ledger on the same data dir, and everything is still there:
 * orders, trades, idempotency keys, used signatures; `otc-ledger verify` finds nothing.
 */

const dir = tempDir('restart');
const running: RunningLedger[] = [];
// One node that outlives both ledgers, as a real node does: the reconciler's pass at start looks
// every open order's escrow job up, and an embedded sandbox started afresh would have none of them.
let node: SandboxServer;
beforeAll(async () => {
  node = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1000 }) });
});
afterAll(async () => {
  for (const r of running) await r.close().catch(() => undefined);
  await node.close();
  dir.remove();
});

async function start(): Promise<RunningLedger> {
  const ledger = await startFromEnv(baseEnv(dir.path, { RUSTCHAIN_NODE: node.url, RC_ADMIN_KEY: DEFAULT_SANDBOX_ADMIN_KEY }));
  running.push(ledger);
  return ledger;
}

/** Holds every node call of the sandbox until opened: requests stay in flight meanwhile. */
function gate(sandbox: SandboxNode): { readonly held: number; open(): void } {
  const original = sandbox.handle.bind(sandbox);
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  let isOpen = false;
  sandbox.handle = async (request: SandboxRequest): Promise<SandboxReply> => {
    if (!isOpen && !request.path.startsWith('/__sandbox/')) {
      held += 1;
      await opened;
    }
    return original(request);
  };
  return {
    get held() { return held; },
    open() { isOpen = true; release(); },
  };
}

function expectOk(answer: Answer, status: number): Answer {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer;
}

async function serverRefuses(base: string): Promise<boolean> {
  try {
    const answer = await call(base, 'GET', '/health');
    return answer.status === 503;
  } catch {
    return true; // connection refused or reset: no longer accepting
  }
}

describe('restart on the same SQLite data dir (issue 4)', () => {
  it('keeps every order, trade, idempotency key and used signature across a graceful stop mid-traffic', async () => {
    const first = await start();
    const base = first.url;
    const seller = generateWallet();
    const buyer = generateWallet();
    await fundViaLedger(node.url, seller, 1_000_000);

    const orderIds: string[] = [];
    const usedPlaceBodies: Record<string, unknown>[] = [];
    const idempotent: Array<{ key: string; path: string; body: Record<string, unknown>; answer: Answer }> = [];

    async function trade(amount: string, key?: string): Promise<void> {
      const body = placeSellBody(seller, amount);
      usedPlaceBodies.push(body);
      const placed = expectOk(await post(base, '/api/orders', body, key ? { 'idempotency-key': key } : {}), 201);
      if (key) idempotent.push({ key, path: '/api/orders', body, answer: placed });
      const orderId = placed.body.order.order_id as string;
      orderIds.push(orderId);
      expectOk(await post(base, `/api/orders/${orderId}/match`, matchBody(buyer, orderId)), 200);
      const confirm = confirmBody(seller, orderId, placed.body.htlc_secret as string);
      const confirmKey = key ? `${key}-confirm` : undefined;
      const confirmed = expectOk(await post(base, `/api/orders/${orderId}/confirm`, confirm, confirmKey ? { 'idempotency-key': confirmKey } : {}), 200);
      if (confirmKey) idempotent.push({ key: confirmKey, path: `/api/orders/${orderId}/confirm`, body: confirm, answer: confirmed });
      expect(confirmed.body.order.status).toBe('completed');
    }

    await trade('11');
    await trade('12', `restart-key-${Date.now()}`);
    await trade('13');

    // One cancelled order (escrow refunded), one open sell and one open buy.
    const cancelledBody = placeSellBody(seller, '14');
    usedPlaceBodies.push(cancelledBody);
    const toCancel = expectOk(await post(base, '/api/orders', cancelledBody), 201).body.order.order_id as string;
    orderIds.push(toCancel);
    const cancelled = expectOk(await post(base, `/api/orders/${toCancel}/cancel`, cancelBody(seller, toCancel)), 200);
    expect(cancelled.body.order.status).toBe('cancelled');
    orderIds.push(expectOk(await post(base, '/api/orders', placeSellBody(seller, '15')), 201).body.order.order_id as string);
    const buyBody = placeBuyBody(buyer, '16');
    usedPlaceBodies.push(buyBody);
    orderIds.push(expectOk(await post(base, '/api/orders', buyBody), 201).body.order.order_id as string);

    // Mid-traffic: three sell orders waiting on the node (one with an Idempotency-Key) when the
    // stop begins. They finish, answered, before the stores close.
    const held = gate(node.node);
    const inFlightKey = `in-flight-key-${Date.now()}`;
    const inFlightBodies = [placeSellBody(seller, '21'), placeSellBody(seller, '22'), placeSellBody(seller, '23')];
    const inFlight = inFlightBodies.map((body, i) => post(base, '/api/orders', body, i === 0 ? { 'idempotency-key': inFlightKey } : {}));
    await until(() => held.held === inFlight.length, 'three requests waiting on the node');
    const closing = first.close();
    await until(() => serverRefuses(base), 'the server to stop accepting requests');
    held.open();
    const finished = await Promise.all(inFlight);
    await closing;
    for (const answer of finished) {
      expectOk(answer, 201);
      expect(answer.body.order.status).toBe('open');
      orderIds.push(answer.body.order.order_id as string);
    }
    usedPlaceBodies.push(...inFlightBodies);
    idempotent.push({ key: inFlightKey, path: '/api/orders', body: inFlightBodies[0]!, answer: finished[0]! });

    // What the first instance answered last (the stream is the truth for GET /api/orders/:id).
    const lastSeen = new Map<string, Record<string, unknown>>();
    for (const answer of finished) lastSeen.set(answer.body.order.order_id as string, answer.body.order as Record<string, unknown>);

    // ---- a new ledger on the same data dir ----
    const second = await start();
    const base2 = second.url;
    expect(base2).not.toBe('');

    const head = (await second.store.headPosition()).toString();
    for (const orderId of orderIds) {
      const answer = expectOk(await get(base2, `/api/orders/${orderId}`), 200);
      expect(answer.body.order.order_id).toBe(orderId);
      const before = lastSeen.get(orderId);
      if (before) expect(answer.body.order).toEqual(before);
    }
    const all = expectOk(await get(base2, `/api/orders?status=all&limit=200&min_position=${head}`), 200);
    expect((all.body.orders as Array<{ order_id: string }>).map((o) => o.order_id).sort()).toEqual([...orderIds].sort());
    const statusOf = new Map((all.body.orders as Array<{ order_id: string; status: string }>).map((o) => [o.order_id, o.status]));
    expect(orderIds.map((id) => statusOf.get(id))).toEqual(['completed', 'completed', 'completed', 'cancelled', 'open', 'open', 'open', 'open', 'open']);

    const trades = expectOk(await get(base2, `/api/trades?min_position=${head}`), 200);
    expect((trades.body.trades as Array<{ order_id: string }>).map((t) => t.order_id).sort()).toEqual(orderIds.slice(0, 3).sort());

    // Idempotency keys: same key and body → the stored answer, replayed.
    for (const { key, path, body, answer } of idempotent) {
      const replay = await post(base2, path, body, { 'idempotency-key': key });
      expect(replay.status, `${key}: ${JSON.stringify(replay.body)}`).toBe(answer.status);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(answer.body);
    }
    // Same key, another body → 422: the key is remembered with its body.
    const reused = await post(base2, '/api/orders', placeSellBody(seller, '99'), { 'idempotency-key': inFlightKey });
    expect(reused.status).toBe(422);
    expect(reused.body.error).toBe('idempotency_key_reused');

    // Used signatures: re-sending an already used signed request is a replay.
    for (const body of usedPlaceBodies) {
      const replay = await post(base2, '/api/orders', body);
      expect(replay.status, JSON.stringify(replay.body)).toBe(401);
      expect(replay.body.error).toBe('wallet_auth_replayed');
    }

    // The new instance writes on: a fresh trade still settles.
    await fundViaLedger(node.url, seller, 1_000);
    const fresh = expectOk(await post(base2, '/api/orders', placeSellBody(seller, '5')), 201);
    const freshId = fresh.body.order.order_id as string;
    expectOk(await post(base2, `/api/orders/${freshId}/match`, matchBody(buyer, freshId)), 200);
    const done = expectOk(await post(base2, `/api/orders/${freshId}/confirm`, confirmBody(seller, freshId, fresh.body.htlc_secret as string)), 200);
    expect(done.body.order.status).toBe('completed');
    await get(base2, `/api/trades?min_position=${done.body.position as string}`);
    await second.close();

    // `otc-ledger verify`: invariants, hash chains and every read model against a fresh rebuild.
    const store = new SqliteEventStore({ path: `${dir.path}/events.db` });
    const readDb = openReadDb(`${dir.path}/read.db`, { readonly: true });
    try {
      const report = await verifyLedger({ store, readDb });
      expect(report.findings).toEqual([]);
      expect(report.streams).toBe(orderIds.length + 1);
    } finally {
      readDb.close();
      await store.close();
    }
  });
});

export type { ClientWallet };

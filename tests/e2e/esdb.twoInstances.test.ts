import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode, startSandboxServer, type SandboxServer } from '../../src/sandbox/index.js';
import type { RunningLedger } from '../../src/main.js';
import { EsdbStandIn, HOSTILE_SERVER } from '../support/esdbStandIn/server.js';
import { baseEnv, confirmBody, generateWallet, get, matchBody, placeSell, post, startFromEnv, tempDir, type ClientWallet } from './support.js';

/**
 * Two stateless ledger instances (own data dirs, own read models) writing to one EventStoreDB
 * stand-in (a test double of the gRPC protocol, not a real server), sharing one sandbox node over
 * HTTP, so the node sees every call of both. Racing commands on one order: exactly one winner.
 * The stand-in behaves like a real KurrentDB node (HOSTILE_SERVER), and instance b connects to a
 * lagging follower of it, as an instance may after an election.
 */

let standIn: EsdbStandIn;
let follower: EsdbStandIn;
let node: SandboxServer;
const dirs: ReturnType<typeof tempDir>[] = [];
let a: RunningLedger;
let b: RunningLedger;

const SHARED_SECRET_KEY = '3c'.repeat(32);
const CLAIM = 'POST /agent/jobs/:id/claim';
const ACCEPT = 'POST /agent/jobs/:id/accept';
const TRANSFER = 'POST /wallet/transfer';

async function startInstance(name: string, connectionString: string): Promise<RunningLedger> {
  const dir = tempDir(name);
  dirs.push(dir);
  return startFromEnv(baseEnv(dir.path, {
    LEDGER_STORE: 'esdb',
    EVENTSTORE_CONNECTION_STRING: connectionString,
    RUSTCHAIN_NODE: node.url,
    RC_ADMIN_KEY: DEFAULT_SANDBOX_ADMIN_KEY,
    LEDGER_NODE_TIMEOUT_MS: '10000',
    // docs/SCALING.md: every instance needs the same key, or one cannot decrypt preimages another wrote.
    LEDGER_SECRET_KEY: SHARED_SECRET_KEY,
  }));
}

beforeAll(async () => {
  standIn = await EsdbStandIn.start({ faults: HOSTILE_SERVER });
  follower = await EsdbStandIn.start({ log: standIn.log, faults: HOSTILE_SERVER });
  follower.followLeader({ host: '127.0.0.1', port: standIn.port }, { lagging: true });
  node = await startSandboxServer({ node: new SandboxNode({ autoConfirm: 'immediate', maxActiveJobsPerPoster: 1_000_000 }), host: '127.0.0.1' });
  a = await startInstance('instance-a', standIn.connectionString);
  b = await startInstance('instance-b', follower.connectionString);
  // b's first leader-only read is answered NotLeader by the follower and moves b to the leader.
  // Done before any race: client 6.2.1 keeps BatchAppend's pending answers in one map per process
  // and a stream error in one client rejects (and forgets) every client's, so with two instances
  // in one test process b's NotLeader would break a's in-flight appends. Production runs one
  // client per process.
  await b.store.readStream('order-warm-up');
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await node?.close();
  await follower?.stop();
  await standIn?.stop();
  for (const dir of dirs) dir.remove();
});

function funded(): ClientWallet {
  const w = generateWallet();
  node.node.fund(w.wallet, 1_000_000_000_000n);
  return w;
}

/** Waits (bounded, 5 s by api.md) until the instance's read models reached `position`, then reads the order. */
async function orderSeenBy(instance: RunningLedger, orderId: string, position: string): Promise<Record<string, any>> {
  const list = await get(instance.url, `/api/orders?status=all&min_position=${position}&limit=200`);
  expect(list.status, JSON.stringify(list.body)).toBe(200);
  const found = (list.body.orders as Array<Record<string, any>>).find((o) => o.order_id === orderId);
  expect(found, `order ${orderId} in ${instance.url}'s read model`).toBeDefined();
  return found!;
}

describe('two ledger instances on one esdb store (stand-in)', () => {
  it('both run on the esdb store and a real HTTP node, not an embedded sandbox', () => {
    expect(a.store.name).toBe('esdb');
    expect(b.store.name).toBe('esdb');
    expect(a.sandbox).toBeNull();
    expect(b.sandbox).toBeNull();
    expect(a.url).not.toBe(b.url);
  });

  it('two matches of one sell order at once, one per instance: exactly one 200 and one 409 order_not_open', async () => {
    const seller = funded();
    for (let round = 0; round < 5; round++) {
      const { orderId, position } = await placeSell(round % 2 === 0 ? a.url : b.url, seller);
      // The order placed through one instance is visible through the other: both follow the same $all.
      expect((await orderSeenBy(a, orderId, position)).status).toBe('open');
      expect((await orderSeenBy(b, orderId, position)).status).toBe('open');

      const [buyer1, buyer2] = [generateWallet(), generateWallet()];
      const answers = await Promise.all([
        post(a.url, `/api/orders/${orderId}/match`, matchBody(buyer1, orderId)),
        post(b.url, `/api/orders/${orderId}/match`, matchBody(buyer2, orderId)),
      ]);
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(answers.map((r) => r.body))).toEqual([200, 409]);
      const winner = answers.find((r) => r.status === 200)!;
      const loser = answers.find((r) => r.status === 409)!;
      expect(loser.body).toMatchObject({ ok: false, error: 'order_not_open' });
      expect(winner.body.order.status).toBe('matched');
      const winningBuyer = answers[0] === winner ? buyer1 : buyer2;
      expect(winner.body.order.buyer_wallet).toBe(winningBuyer.wallet);

      // One match event in the log, whichever instance reads it; both read models agree.
      const history = await get(round % 2 === 0 ? b.url : a.url, `/api/orders/${orderId}/history`);
      expect(history.body.chain_valid).toBe(true);
      expect((history.body.events as Array<{ type: string }>).filter((e) => e.type === 'Matched')).toHaveLength(1);
      for (const instance of [a, b]) {
        const seen = await orderSeenBy(instance, orderId, winner.body.position as string);
        expect(seen).toMatchObject({ status: 'matched', buyer_wallet: winningBuyer.wallet });
      }
    }
  });

  it('two confirms at once, one per instance: one claim, one release and one transfer at the node', async () => {
    const seller = funded();
    const buyer = generateWallet();
    const { orderId, secret } = await placeSell(b.url, seller, '40');
    const matched = await post(a.url, `/api/orders/${orderId}/match`, matchBody(buyer, orderId));
    expect(matched.status, JSON.stringify(matched.body)).toBe(200);

    const counts = () => ({ claim: node.node.requestCount(CLAIM), accept: node.node.requestCount(ACCEPT), transfer: node.node.requestCount(TRANSFER) });
    const before = counts();
    const payoutKey = `otc_payout:${orderId}`;
    const answers = await Promise.all([
      post(a.url, `/api/orders/${orderId}/confirm`, confirmBody(seller, orderId, secret, '0xquote-race')),
      post(b.url, `/api/orders/${orderId}/confirm`, confirmBody(seller, orderId, secret, '0xquote-race')),
    ]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses, JSON.stringify(answers.map((r) => r.body))).toEqual([200, 409]);
    const winner = answers.find((r) => r.status === 200)!;
    const loser = answers.find((r) => r.status === 409)!;
    expect(winner.body).toMatchObject({ ok: true, settled: true, order: { status: 'completed' } });
    expect(loser.body).toMatchObject({ ok: false, error: 'order_not_matched' });

    const after = counts();
    expect({ claim: after.claim - before.claim, accept: after.accept - before.accept, transfer: after.transfer - before.transfer }).toEqual({ claim: 1, accept: 1, transfer: 1 });
    expect(node.node.keyRequestCount(payoutKey)).toBe(1);
    const payouts = node.node.transfers().filter((t) => t.idempotencyKey === payoutKey);
    expect(payouts).toHaveLength(1);
    expect(payouts[0]).toMatchObject({ phase: 'confirmed', toWallet: buyer.wallet });

    const history = await get(a.url, `/api/orders/${orderId}/history`);
    expect(history.body.chain_valid).toBe(true);
    const types = (history.body.events as Array<{ type: string }>).map((e) => e.type);
    expect(types.filter((t) => t === 'PayoutConfirmed')).toHaveLength(1);
    expect(types.filter((t) => t === 'SettlementClaimed')).toHaveLength(1);
    for (const instance of [a, b]) {
      const trades = await get(instance.url, `/api/trades?min_position=${winner.body.position as string}`);
      expect(trades.status).toBe(200);
      expect((trades.body.trades as Array<{ order_id: string }>).filter((t) => t.order_id === orderId)).toHaveLength(1);
    }
  });

  it('keeps serving after the store is killed and restarted between requests; projections resume', async () => {
    const seller = funded();
    const first = await placeSell(a.url, seller);
    await orderSeenBy(b, first.orderId, first.position);

    await standIn.stop();
    await standIn.start();

    // Both instances write again after reconnecting, and each one's read models follow $all again.
    const second = await placeSell(b.url, seller);
    const buyer = generateWallet();
    const matched = await post(a.url, `/api/orders/${second.orderId}/match`, matchBody(buyer, second.orderId));
    expect(matched.status, JSON.stringify(matched.body)).toBe(200);
    for (const instance of [a, b]) {
      expect((await orderSeenBy(instance, second.orderId, matched.body.position as string)).status).toBe('matched');
      expect((await orderSeenBy(instance, first.orderId, matched.body.position as string)).status).toBe('open');
    }

    // A request sent while the store is down is answered once it is back (the adapter retries).
    await standIn.stop();
    const pending = placeSell(a.url, seller);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await standIn.start();
    const third = await pending;
    for (const instance of [a, b]) expect((await orderSeenBy(instance, third.orderId, third.position)).status).toBe('open');

    // Nothing applied twice: each order exactly once in each instance's read model.
    for (const instance of [a, b]) {
      const list = await get(instance.url, `/api/orders?status=all&wallet=${seller.wallet}&min_position=${third.position}`);
      const ids = (list.body.orders as Array<{ order_id: string }>).map((o) => o.order_id).sort();
      expect(ids).toEqual([first.orderId, second.orderId, third.orderId].sort());
      expect(list.body.total).toBe(3);
    }
  });
});

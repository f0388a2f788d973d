import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import type { RunningLedger } from '../../src/main.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { WorkerProjectionRunner } from '../../src/projections/workerRunner.js';
import { generateWallet, get, placeBuyBody, post, until, useLedgerStarter } from './support.js';

/**
 * Issue 14 lever 1: the read-model writer on a worker thread of its own (the SQLite store's
 * default). Every contract that hung on it running in-process still holds over real HTTP:
 * read-your-writes through min_position, /ready, blue/green rebuild; a dead writer thread is
 * reported by /ready and started again. (The read DB deleted or damaged: readModelFaults.test.ts,
 * which runs on this default writer too.)
 */

const ADMIN_TOKEN = 'read-model-writer-admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const startOnTempDir = useLedgerStarter('read-model-writer', ADMIN_TOKEN);

const start = async (extra: Record<string, string> = {}): Promise<RunningLedger> => (await startOnTempDir(extra)).ledger;

/** Places a buy and lists the wallet's orders right after, at the answer's position: the new order must be there. */
async function placeThenRead(base: string, wallet = generateWallet()): Promise<void> {
  const placed = await post(base, '/api/orders', placeBuyBody(wallet, '10'));
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  const id = placed.body.order.order_id as string;
  const listed = await get(base, `/api/orders?status=all&limit=200&min_position=${placed.body.position as string}`);
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  expect((listed.body.orders as Array<{ order_id: string }>).map((o) => o.order_id)).toContain(id);
}

describe('the read-model writer on a worker thread (issue 14 lever 1)', () => {
  it('is the SQLite store\'s default, and every read right after a command sees it (min_position)', async () => {
    const ledger = await start();
    expect(ledger.readModelWriter).toBeInstanceOf(WorkerProjectionRunner);
    for (let i = 0; i < 15; i += 1) await placeThenRead(ledger.url);
    const ready = await get(ledger.url, '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.projections).toHaveLength(ALL_PROJECTIONS.length);
    // The answer's own position, as the writer's checkpoint: lag 0 once it caught up.
    await until(async () => ((await get(ledger.url, '/ready')).body.projections as Array<{ lag: number }>).every((p) => p.lag === 0), 'no lag');
  });

  it('applies a batch while the request thread is blocked: the writing is on another thread', async () => {
    // The probe commits synchronously (appendSync), which only the event store's inline writer does;
    // the read-model writer under test is the default worker thread either way.
    const ledger = await start({ LEDGER_SQLITE_WRITER: 'inline' });
    await placeThenRead(ledger.url);
    // An event committed synchronously, then this thread sleeps without returning to its event
    // loop: an in-process runner could not apply it before the sleep ends; the writer thread does.
    const eventId = randomUUID();
    const metadata = { event_id: eventId, correlation_id: eventId, causation_id: null, actor: 'test', recorded_at: new Date().toISOString(), schema_version: 1, prev_hash: '', hash: '' };
    const { position } = (ledger.store as SqliteEventStore).appendSync(`probe-${eventId}`, [{ eventId, type: 'WriterThreadProbe', data: {}, metadata }], 'no_stream');
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 20_000;
    while (ledger.readModelWriter.positionOf('orders') < position && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 20);
    expect(ledger.readModelWriter.positionOf('orders')).toBe(position);
  });

  it('LEDGER_READ_MODEL_WRITER=inline keeps the runner on the request thread, with the same answers', async () => {
    const ledger = await start({ LEDGER_READ_MODEL_WRITER: 'inline' });
    expect(ledger.readModelWriter).toBeInstanceOf(ProjectionRunner);
    for (let i = 0; i < 3; i += 1) await placeThenRead(ledger.url);
    expect((await get(ledger.url, '/ready')).status).toBe(200);
  });

  it('a writer thread that dies: /ready says so (503), it is started again, and reads catch up', async () => {
    const ledger = await start();
    const writer = ledger.readModelWriter as WorkerProjectionRunner;
    await placeThenRead(ledger.url);
    await writer.killWriter();
    const ready = await get(ledger.url, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ok: false, error: 'not_ready' });
    // Commands need only the event store: they go on while the writer is down.
    const wallet = generateWallet();
    const placed = await post(ledger.url, '/api/orders', placeBuyBody(wallet, '12'));
    expect(placed.status).toBe(201);
    // A new thread of TypeScript sources takes seconds to start on a loaded machine.
    const caughtUp = async (): Promise<boolean> => {
      const answer = await get(ledger.url, '/ready');
      return answer.status === 200 && (answer.body.projections as Array<{ state: string }>).every((p) => p.state === 'running');
    };
    await until(caughtUp, 'the writer thread to be started again and caught up', 90_000);
    const listed = await get(ledger.url, `/api/orders?status=all&limit=200&min_position=${placed.body.position as string}`);
    expect((listed.body.orders as Array<{ order_id: string }>).map((o) => o.order_id)).toContain(placed.body.order.order_id);
    await placeThenRead(ledger.url);
  }, 150_000);

  it('a blue/green rebuild over HTTP switches the copy under the writer thread, which goes on from it', async () => {
    const ledger = await start();
    for (let i = 0; i < 3; i += 1) await placeThenRead(ledger.url);
    const before = await get(ledger.url, '/api/orders?status=all&limit=200');
    const rebuilt = await post(ledger.url, '/admin/projections/orders/rebuild', {}, admin);
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(202);
    expect(rebuilt.body.rebuild_id).not.toMatch(/^restore-/);
    const ordersState = async () => ((await get(ledger.url, '/admin/projections', admin)).body.projections as Array<{ name: string; state: string }>).find((p) => p.name === 'orders')?.state;
    await until(async () => (await ordersState()) === 'running', 'the rebuild to finish', 60_000);
    const after = await get(ledger.url, '/api/orders?status=all&limit=200');
    expect(after.body.total).toBe(before.body.total);
    // The writer applies to the new copy: a command after the switch is read right after it.
    for (let i = 0; i < 3; i += 1) await placeThenRead(ledger.url);
  }, 120_000);
});

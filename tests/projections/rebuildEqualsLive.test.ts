/**
 * Issue 14 lever 6: the rebuild folds the whole log order by order and writes each live order's rows
 * once per window, not once per batch as the live runner does. Whatever the windows, the memory
 * bound or where it was interrupted, the copies it switches in must hold exactly the rows the live
 * runner wrote from the same events, table by table and row by row.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { rebuildProjections, type RebuildManyOptions } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { tableNamesFor } from '../../src/projections/types.js';
import { servingRows } from './support/servingRows.js';
import { BUYER, buildMixedLedger, HTLC_HASH, SELLER, TestLedger } from './support/ledger.js';


const id = (n: number): string => `otc_${(0x900 + n).toString(16).padStart(16, '0')}`;
const meta = (ledger: TestLedger, eventId: string) => ({
  event_id: eventId, correlation_id: 'c', causation_id: null, actor: 'x', recorded_at: ledger.now().toISOString(), schema_version: 1, prev_hash: '0', hash: '0',
});

/**
 * Lives that interleave and span many windows: orders placed early and settled late, an order
 * that rests to the end, lapses, cancels with refunds, and streams the fold cannot read to the end
 * (an unknown event type, a stream that starts mid-life, an event recorded after an order ended).
 */
async function interleavedLedger(): Promise<TestLedger> {
  const ledger = TestLedger.memory();
  await buildMixedLedger(ledger, 2);
  for (let n = 0; n < 6; n++) await ledger.placeSell(id(n), { priceNano: BigInt(100_000_000 + n) });
  await ledger.lapsedSell(id(20));
  for (let n = 0; n < 6; n += 2) await ledger.match(id(n), BUYER);
  await ledger.cancelWithRefund(id(21));
  for (let n = 0; n < 6; n += 2) await ledger.settle(id(n), SELLER);
  await ledger.placeBuy(id(22));
  await ledger.match(id(22), SELLER, HTLC_HASH);
  await ledger.store.append(`order-${id(1)}`, [{ eventId: 'e-future', type: 'FutureEventType', data: {}, metadata: meta(ledger, 'e-future') }], 'any');
  await ledger.store.append(`order-${id(30)}`, [{ eventId: 'e-orphan', type: 'EscrowReleased', data: { job_id: 'j' }, metadata: meta(ledger, 'e-orphan') }], 'any');
  await ledger.store.append(`order-${id(0)}`, [{ eventId: 'e-late', type: 'OrderCancelled', data: { by: 'x', cancelled_at: ledger.now().toISOString() }, metadata: meta(ledger, 'e-late') }], 'any');
  await ledger.run(id(22), { type: 'RecordEscrowLocked', party: 'taker', jobId: `job-${id(22)}`, now: ledger.now() });
  return ledger;
}

async function liveRows(ledger: TestLedger, batchSize: number): Promise<Record<string, unknown[]>> {
  const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:', batchSize });
  expect(await runner.catchUp()).toBe(await ledger.store.headPosition());
  const rows = servingRows(runner.db);
  await runner.close();
  return rows;
}

async function rebuiltRows(ledger: TestLedger, options: Partial<RebuildManyOptions> = {}): Promise<Record<string, unknown[]>> {
  const db = openReadDb(':memory:');
  const results = await rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS, ...options });
  expect(results.every((r) => r.switched)).toBe(true);
  return servingRows(db);
}

describe('a rebuild equals the live runner, row for row', () => {
  it('with any window size and memory bound, against the runner fed one event at a time and in batches', async () => {
    const ledger = await interleavedLedger();
    const live = await liveRows(ledger, 1);
    expect(await liveRows(ledger, 4)).toEqual(live);
    const problems = live['orders.order_stream_problems'] as { order_id: string; kind: string }[];
    // The ledger holds what the test claims: streams the fold stops on (an event after the end is
    // skipped, not recorded), and trades settled windows after their placing.
    expect(problems.map((p) => [p.order_id, p.kind])).toEqual([[id(1), 'unknown_event'], [id(30), 'malformed_event']]);
    expect((live['trades.trades'] as unknown[]).length).toBe(2 * 2 + 3);
    expect((live['lapses.lapses'] as unknown[]).length).toBe(1);

    expect(await rebuiltRows(ledger)).toEqual(live);
    expect(await rebuiltRows(ledger, { batchSize: 3 })).toEqual(live);
    // Held orders bounded to one: every other live order is dropped after each window and folded again from its stream.
    expect(await rebuiltRows(ledger, { batchSize: 5, heldOrders: 1 })).toEqual(live);
  });

  it('switches in copies with every secondary index the live copies have (built once the rows are in, not before)', async () => {
    const ledger = await interleavedLedger();
    // Secondary indexes of each projection's copy with this suffix, named with the suffix left out.
    const indexes = (db: Database, suffix: (name: string) => string): string[] => ALL_PROJECTIONS.flatMap((p) =>
      Object.values(tableNamesFor(p, suffix(p.name))).flatMap((table) =>
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' AND tbl_name = ? ORDER BY name")
          .all(table) as { name: string }[]).map((r) => r.name.replace(suffix(p.name), '*'))));
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    const live = indexes(runner.db, (name) => activeCopy(runner.db, name)?.suffix ?? '?');
    expect(live).toContain('orders__*_listing');
    const db = openReadDb(':memory:');
    const controller = new AbortController();
    const parked = await rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS, batchSize: 40, signal: controller.signal, afterBatch: () => controller.abort() });
    // While the copy fills it has only its tables' own keys.
    const suffixes = new Map(parked.map((r) => [r.name, r.rebuildId]));
    expect(indexes(db, (name) => suffixes.get(name) ?? '?')).toEqual([]);
    await rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS });
    expect(indexes(db, (name) => activeCopy(db, name)?.suffix ?? '?')).toEqual(live);
    await runner.close();
  });

  it('after an interruption, resuming from the copies\' checkpoint (orders in flight folded from their streams)', async () => {
    const ledger = await interleavedLedger();
    const live = await liveRows(ledger, 2);
    const db = openReadDb(':memory:');
    const controller = new AbortController();
    const stopped = await rebuildProjections({
      store: ledger.store, db, projections: ALL_PROJECTIONS, batchSize: 40, owner: 'cli', signal: controller.signal,
      afterBatch: (p) => { if (p >= 40n) controller.abort(); },
    });
    expect(stopped.map((r) => [r.switched, r.position])).toEqual(ALL_PROJECTIONS.map(() => [false, 40n]));
    const resumed = await rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS, batchSize: 7, owner: 'cli' });
    expect(resumed.map((r) => r.rebuildId)).toEqual(stopped.map((r) => r.rebuildId));
    expect(servingRows(db)).toEqual(live);
  });
});

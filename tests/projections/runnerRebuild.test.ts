import { describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { ordersProjection } from '../../src/projections/orders.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { rebuildProjection } from '../../src/projections/rebuild.js';
import { acquireRebuild, RebuildBusy, readRebuild } from '../../src/projections/rebuildLease.js';
import { currentHolder } from '../../src/settlement/leaseHolder.js';
import { spawnSync } from 'node:child_process';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Projection } from '../../src/projections/types.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';
import type { Database } from 'better-sqlite3';
import type { EventStore } from '../../src/eventstore/types.js';

const tablesOf = (db: Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

async function expectEqualsFreshRebuild(store: EventStore, db: Database) {
  expect(await compareReadModels({ store, readDb: db, projections: ALL_PROJECTIONS })).toEqual([]);
}

describe('projection runner', () => {
  it('follows appends through the subscription and answers waitFor', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    runner.start();
    const head = await ledger.store.headPosition();
    expect(await runner.waitFor(head, 5000)).toBe(true);
    const placed = await ledger.placeBuy('otc_00000000000000f1');
    expect(await runner.waitFor(placed.position ?? 0n, 5000, ['orders'])).toBe(true);
    const status = await runner.status();
    expect(status.map((s) => [s.name, s.position, s.lag])).toEqual(ALL_PROJECTIONS.map((p) => [p.name, placed.position, 0n]));
    expect(status.every((s) => s.state === 'running')).toBe(true);
    expect(await runner.waitFor((placed.position ?? 0n) + 100n, 50)).toBe(false);
    await runner.stop();
    expect((await runner.status())[0]?.state).toBe('stopped');
    await expectEqualsFreshRebuild(ledger.store, runner.db);
  });

  it('keeps the other projections going when one projection throws', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const broken: Projection = { name: 'broken', version: 1, tables: [], apply: () => { throw new Error('bug in apply'); } };
    const errors: string[] = [];
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:', projections: [broken, ordersProjection], onError: (_e, name) => errors.push(String(name)) });
    await runner.catchUp();
    const status = await runner.status();
    expect(status.map((s) => [s.name, s.state])).toEqual([['broken', 'failed'], ['orders', 'stopped']]);
    expect(status[1]?.lag).toBe(0n);
    expect(status[0]?.position).toBe(0n);
    expect(errors).toEqual(['broken']);
  });
});

describe('blue/green rebuild', () => {
  it('builds a new copy, switches the registry and drops the old tables', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 2);
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    await runner.catchUp();
    const before = activeCopy(runner.db, 'orders');
    const progress: bigint[] = [];
    const result = await rebuildProjection({ store: ledger.store, db: runner.db, projection: ordersProjection, batchSize: 7, onProgress: (p) => progress.push(p) });
    expect(result.switched).toBe(true);
    const after = activeCopy(runner.db, 'orders');
    expect(after?.suffix).toBe(result.rebuildId);
    expect(after?.suffix).not.toBe(before?.suffix);
    expect(after?.position).toBe(await ledger.store.headPosition());
    expect(tablesOf(runner.db)).not.toContain(`orders__${before?.suffix}`);
    expect(progress.length).toBeGreaterThan(3);
    expect(readRebuild(runner.db, 'orders')).toBeNull();
    await expectEqualsFreshRebuild(ledger.store, runner.db);
  });

  it('loses nothing when events are appended while it runs and the runner keeps serving', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 2);
    const runner = new ProjectionRunner({ store: ledger.store, db: ':memory:' });
    runner.start();
    let extra = 0;
    const result = await rebuildProjection({
      store: ledger.store, db: runner.db, projection: ordersProjection, batchSize: 5,
      afterBatch: async () => {
        // Appends land between batches, so the rebuild chases a moving head.
        if (extra < 6) await ledger.placeBuy(`otc_00000000000001${(extra++).toString(16).padStart(2, '0')}`);
      },
    });
    expect(result.switched).toBe(true);
    expect(extra).toBe(6);
    const head = await ledger.store.headPosition();
    expect(await runner.waitFor(head, 5000)).toBe(true);
    await runner.stop();
    await expectEqualsFreshRebuild(ledger.store, runner.db);
    const count = runner.db.prepare(`SELECT count(*) AS n FROM orders__${result.rebuildId}`).get() as { n: number };
    expect(count.n).toBe(14 + 6);
  });

  it('allows one rebuild per projection at a time and resumes an abandoned one from its checkpoint', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 2);
    const db = openReadDb(':memory:');
    const runner = new ProjectionRunner({ store: ledger.store, db });
    await runner.catchUp();
    const controller = new AbortController();
    const first = await rebuildProjection({
      store: ledger.store, db, projection: ordersProjection, batchSize: 10, owner: 'first', leaseMs: 60_000,
      signal: controller.signal, afterBatch: (p) => { if (p >= 30n) controller.abort(); },
    });
    expect(first.switched).toBe(false);
    const parked = readRebuild(db, 'orders');
    expect(parked?.position).toBe(first.position);
    expect(parked?.position).toBeGreaterThan(0n);
    // Aborting released the lease; hold it again as if 'first' were still alive.
    db.prepare('UPDATE projection_rebuilds SET lease_expires_at_ms = ? WHERE name = ?').run(Date.now() + 60_000, 'orders');
    await expect(rebuildProjection({ store: ledger.store, db, projection: ordersProjection, owner: 'second' })).rejects.toBeInstanceOf(RebuildBusy);
    const seen: bigint[] = [];
    const resumed = await rebuildProjection({
      store: ledger.store, db, projection: ordersProjection, owner: 'second', clock: () => Date.now() + 120_000, batchSize: 10,
      afterBatch: (p) => { seen.push(p); },
    });
    expect(resumed.rebuildId).toBe(first.rebuildId);
    expect(resumed.switched).toBe(true);
    // Positions are contiguous here: a resume reads its first batch right after its own checkpoint.
    expect(seen[0]).toBe(first.position + 10n);
    await expectEqualsFreshRebuild(ledger.store, db);
  });

  it('takes over at once a rebuild whose holder process is gone, and never one whose holder lives', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const db = openReadDb(':memory:');
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const nowMs = Date.now();
    acquireRebuild(db, ordersProjection, { owner: 'crashed-cli', leaseMs: 60_000, nowMs, holder: { ...currentHolder(), pid: deadPid, start: null } });
    const resumed = await rebuildProjection({ store: ledger.store, db, projection: ordersProjection, owner: 'successor' });
    expect(resumed.switched).toBe(true);
    // A holder that is alive (the parent process) keeps its lease until it expires.
    acquireRebuild(db, ordersProjection, { owner: 'live-cli', leaseMs: 60_000, nowMs, holder: { ...currentHolder(), pid: process.ppid, start: null } });
    await expect(rebuildProjection({ store: ledger.store, db, projection: ordersProjection, owner: 'successor' })).rejects.toBeInstanceOf(RebuildBusy);
    db.close();
  });
});

/**
 * Every read model rebuilt in one pass over the log (rebuildProjections) gives exactly the rows that
 * rebuilding each one on its own gives, resumes copies left at different checkpoints, and takes no
 * lease at all when one of them is busy.
 */
import { describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { ordersProjection } from '../../src/projections/orders.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { rebuildProjection, rebuildProjections } from '../../src/projections/rebuild.js';
import { RebuildBusy, readRebuild } from '../../src/projections/rebuildLease.js';
import { statsProjection } from '../../src/projections/stats.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';
import { servingRows } from './support/servingRows.js';


describe('one-pass rebuild of every read model', () => {
  it('writes the same rows as one rebuild per read model, and switches every copy at the head', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 3);
    const head = await ledger.store.headPosition();

    const separate = openReadDb(':memory:');
    for (const projection of ALL_PROJECTIONS) {
      expect((await rebuildProjection({ store: ledger.store, db: separate, projection, batchSize: 7 })).switched).toBe(true);
    }
    const onePass = openReadDb(':memory:');
    const progress: bigint[] = [];
    const results = await rebuildProjections({ store: ledger.store, db: onePass, projections: ALL_PROJECTIONS, batchSize: 7, onProgress: (p) => progress.push(p) });

    expect(results.map((r) => [r.name, r.switched, r.position])).toEqual(ALL_PROJECTIONS.map((p) => [p.name, true, head]));
    expect(results.map((r) => activeCopy(onePass, r.name)?.suffix)).toEqual(results.map((r) => r.rebuildId));
    expect(progress.length).toBeGreaterThan(3);
    expect(servingRows(onePass)).toEqual(servingRows(separate));
    expect(ALL_PROJECTIONS.map((p) => readRebuild(onePass, p.name))).toEqual(ALL_PROJECTIONS.map(() => null));
    expect(await compareReadModels({ store: ledger.store, readDb: onePass, projections: ALL_PROJECTIONS })).toEqual([]);
  });

  it('resumes a copy left half-built alongside copies that start from zero', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 2);
    const db = openReadDb(':memory:');
    const controller = new AbortController();
    const parked = await rebuildProjection({
      store: ledger.store, db, projection: ordersProjection, batchSize: 10, owner: 'cli', signal: controller.signal,
      afterBatch: (p) => { if (p >= 20n) controller.abort(); },
    });
    expect(parked.switched).toBe(false);
    expect(parked.position).toBeGreaterThan(0n);

    const results = await rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS, batchSize: 10, owner: 'cli' });
    expect(results.find((r) => r.name === 'orders')?.rebuildId).toBe(parked.rebuildId);
    expect(results.every((r) => r.switched)).toBe(true);
    expect(await compareReadModels({ store: ledger.store, readDb: db, projections: ALL_PROJECTIONS })).toEqual([]);
  });

  it('keeps no lease when one read model is being rebuilt by someone else', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const db = openReadDb(':memory:');
    const controller = new AbortController();
    controller.abort();
    await rebuildProjection({ store: ledger.store, db, projection: statsProjection, owner: 'other', leaseMs: 60_000, signal: controller.signal });
    db.prepare('UPDATE projection_rebuilds SET lease_expires_at_ms = ? WHERE name = ?').run(Date.now() + 60_000, 'stats');

    await expect(rebuildProjections({ store: ledger.store, db, projections: ALL_PROJECTIONS, owner: 'cli' })).rejects.toBeInstanceOf(RebuildBusy);
    // The leases taken before the busy one were given back: another run may take them at once.
    for (const projection of ALL_PROJECTIONS.filter((p) => p.name !== 'stats')) {
      const row = readRebuild(db, projection.name);
      expect(row === null || row.leaseExpiresAtMs === 0).toBe(true);
    }
    expect(readRebuild(db, 'stats')?.owner).toBe('other');
    expect(ALL_PROJECTIONS.map((p) => activeCopy(db, p.name))).toEqual(ALL_PROJECTIONS.map(() => null));
  });
});

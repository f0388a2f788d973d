/**
 * Issue 14 lever 6: a server's rebuild runs on a worker thread with its own heap limit. The worker
 * builds and switches copies equal to a fresh rebuild over the files the server uses; a busy lease
 * is refused as the in-process rebuild refuses it; a worker that runs out of its heap fails the
 * rebuild, gives its leases back at once and leaves the serving copies as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { rebuildInWorker } from '../../src/projections/rebuildInWorker.js';
import { acquireRebuild, RebuildBusy, readRebuild } from '../../src/projections/rebuildLease.js';
import { activeCopy } from '../../src/projections/registry.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { ordersProjection } from '../../src/projections/orders.js';
import { statsProjection } from '../../src/projections/stats.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function filesLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'otc-rebuild-worker-'));
  dirs.push(dir);
  const storePath = join(dir, 'events.db');
  const readDbPath = join(dir, 'read.db');
  const ledger = new TestLedger(new SqliteEventStore({ path: storePath }));
  await buildMixedLedger(ledger, 3);
  const runner = new ProjectionRunner({ store: ledger.store, db: readDbPath });
  await runner.catchUp();
  return { ledger, runner, storePath, readDbPath };
}

const names = ALL_PROJECTIONS.map((p) => p.name);

describe('rebuild on a worker thread', () => {
  it('switches every read model to a copy built on the worker, equal to a fresh rebuild', async () => {
    const { ledger, runner, storePath, readDbPath } = await filesLedger();
    const before = ALL_PROJECTIONS.map((p) => activeCopy(runner.db, p.name)?.suffix);
    const results = await rebuildInWorker({ storePath, readDbPath, names, owner: 'api-test', db: runner.db });
    const head = await ledger.store.headPosition();
    expect(results.map((r) => [r.name, r.switched, r.position])).toEqual(names.map((n) => [n, true, head]));
    expect(ALL_PROJECTIONS.map((p) => activeCopy(runner.db, p.name)?.suffix)).toEqual(results.map((r) => r.rebuildId));
    expect(results.map((r) => r.rebuildId)).not.toEqual(before);
    expect(names.map((n) => readRebuild(runner.db, n))).toEqual(names.map(() => null));
    expect(await compareReadModels({ store: ledger.store, readDb: runner.db, projections: ALL_PROJECTIONS })).toEqual([]);
    await runner.close();
    await ledger.store.close();
  });

  it('refuses with rebuild_in_progress while another owner holds a lease, and switches nothing', async () => {
    const { ledger, runner, storePath, readDbPath } = await filesLedger();
    acquireRebuild(runner.db, statsProjection, { owner: 'cli-1', leaseMs: 60_000, nowMs: Date.now() });
    const serving = activeCopy(runner.db, 'orders')?.suffix;
    const refused = await rebuildInWorker({ storePath, readDbPath, names: ['orders', 'stats'], owner: 'api-test', db: runner.db }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RebuildBusy);
    expect((refused as RebuildBusy).code).toBe('rebuild_in_progress');
    expect(activeCopy(runner.db, 'orders')?.suffix).toBe(serving);
    expect(readRebuild(runner.db, 'stats')?.owner).toBe('cli-1');
    await runner.close();
    await ledger.store.close();
  });

  it('fails when the work does not fit its heap limit, gives its leases back and keeps the serving copies', async () => {
    const { ledger, runner, storePath, readDbPath } = await filesLedger();
    const serving = ALL_PROJECTIONS.map((p) => activeCopy(runner.db, p.name)?.suffix);
    // The lease a worker takes first (here taken for it): a dead worker would hold it until it expires.
    acquireRebuild(runner.db, ordersProjection, { owner: 'api-test', leaseMs: 60_000, nowMs: Date.now() });
    // A few MB of old generation cannot even load the modules: the limit is the worker's own.
    const failed = await rebuildInWorker({ storePath, readDbPath, names, owner: 'api-test', db: runner.db, heapMb: 2 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error & { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    expect(ALL_PROJECTIONS.map((p) => activeCopy(runner.db, p.name)?.suffix)).toEqual(serving);
    expect(readRebuild(runner.db, 'orders')?.leaseExpiresAtMs).toBe(0);
    // Given back: the next rebuild takes the leases at once and finishes.
    const results = await rebuildInWorker({ storePath, readDbPath, names, owner: 'api-again', db: runner.db });
    expect(results.every((r) => r.switched)).toBe(true);
    await runner.close();
    await ledger.store.close();
  });

  it('a worker that dies after the server closed its read DB (shutting down mid-rebuild) fails its rebuild, and nothing throws', async () => {
    const { ledger, runner, storePath, readDbPath } = await filesLedger();
    const db = runner.db;
    const rebuilding = rebuildInWorker({ storePath, readDbPath, names, owner: 'api-closing', db, heapMb: 2 }).catch((e: unknown) => e);
    await runner.close();
    expect(db.open).toBe(false);
    const failed = await rebuilding;
    expect((failed as Error & { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    await ledger.store.close();
  });
});

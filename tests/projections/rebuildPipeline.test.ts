/**
 * The rebuild on two threads (rebuildPipeline.ts): the fold thread's recorded rows, written here,
 * give copies byte-identical to the single-thread rebuild's, on a ledger of interleaved streams and
 * on one of every kind of order life; a failure on either thread fails the rebuild with the serving
 * copies untouched and the leases given back; a lost lease stops it; an aborted one resumes from its
 * checkpoint; and no more windows wait between the threads than allowed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { generateLedger } from '../../bench/rebuildLedger.js';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { rebuildProjections, type RebuildManyOptions } from '../../src/projections/rebuild.js';
import { rebuildInWorker } from '../../src/projections/rebuildInWorker.js';
import { RebuildLeaseLost, readRebuild } from '../../src/projections/rebuildLease.js';
import { openReadDb } from '../../src/projections/registry.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { tableNamesFor } from '../../src/projections/types.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';
import { servingRows } from './support/servingRows.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otc-rebuild-pipeline-'));
  dirs.push(dir);
  return dir;
}

/** A ledger of order lives of every kind, through the command handler, in a store file. */
async function mixedLedger(): Promise<{ store: SqliteEventStore; storePath: string }> {
  const storePath = join(tempDir(), 'events.db');
  const ledger = new TestLedger(new SqliteEventStore({ path: storePath }));
  await buildMixedLedger(ledger, 4);
  for (let i = 0; i < 3; i++) await ledger.lapsedSell(`otc_lapsed_${i}`);
  return { store: ledger.store as SqliteEventStore, storePath };
}

/** The bench's generator: a pool of live orders advanced in random order, so streams interleave in the log. */
function generatedLedger(events: number): { store: SqliteEventStore; storePath: string } {
  const storePath = join(tempDir(), 'generated.db');
  generateLedger(storePath, events);
  return { store: new SqliteEventStore({ path: storePath }), storePath };
}

/** Every row of every serving copy as SQLite holds it (types and quoted values), with its position. */
const storedRows = (db: Db): Record<string, unknown[]> => servingRows(db, { typed: true });

type Options = Omit<RebuildManyOptions, 'store' | 'db' | 'projections'>;

async function rebuildAll(store: SqliteEventStore, options: Options): Promise<Db> {
  const db = openReadDb(':memory:');
  const results = await rebuildProjections({ store, db, projections: ALL_PROJECTIONS, ...options });
  expect(results.every((r) => r.switched)).toBe(true);
  return db;
}

/** Small windows and few held folds: many windows, and orders folded again from their streams on the fold thread. */
const SMALL = { batchSize: 40, heldOrders: 3 } as const;

describe('rebuild on two threads', () => {
  it('writes rows byte-identical to the single-thread rebuild on an interleaved ledger', async () => {
    const { store, storePath } = generatedLedger(4000);
    const one = await rebuildAll(store, SMALL);
    const windows: number[] = [];
    const two = await rebuildAll(store, { ...SMALL, foldThread: { storePath, onQueueDepth: (n) => windows.push(n) } });
    expect(windows.length).toBeGreaterThanOrEqual(4000 / SMALL.batchSize);
    const rows = storedRows(two);
    expect(rows['orders.orders']?.length).toBeGreaterThan(500);
    expect(rows).toEqual(storedRows(one));
    expect(ALL_PROJECTIONS.map((p) => readRebuild(two, p.name))).toEqual(ALL_PROJECTIONS.map(() => null));
    expect(await compareReadModels({ store, readDb: two, projections: ALL_PROJECTIONS })).toEqual([]);
    await store.close();
  });

  it('writes the same rows for every kind of order life, with default windows', async () => {
    const { store, storePath } = await mixedLedger();
    const one = await rebuildAll(store, {});
    const two = await rebuildAll(store, { foldThread: { storePath } });
    const rows = storedRows(two);
    expect(rows['lapses.lapses']?.length).toBe(3);
    expect(rows['trades.trades']?.length).toBe(8);
    expect(rows).toEqual(storedRows(one));
    await store.close();
  });

  it('runs as the server rebuild worker with the fold nested on a second thread, to the same rows', async () => {
    const { store, storePath } = generatedLedger(3000);
    const readDbPath = join(tempDir(), 'read.db');
    const db = openReadDb(readDbPath);
    const results = await rebuildInWorker({ storePath, readDbPath, names: ALL_PROJECTIONS.map((p) => p.name), owner: 'api-two', db, threads: 2, batchSize: 300 });
    expect(results.every((r) => r.switched && r.position === 3000n)).toBe(true);
    expect(storedRows(db)).toEqual(storedRows(await rebuildAll(store, {})));
    db.close();
    await store.close();
  });

  it('keeps at most the allowed windows between the threads while the writer is slow', async () => {
    const { store, storePath } = generatedLedger(1500);
    for (const windowsInFlight of [1, 3]) {
      const depths: number[] = [];
      await rebuildAll(store, {
        batchSize: 50,
        foldThread: { storePath, windowsInFlight, onQueueDepth: (n) => depths.push(n) },
        // A slow writer: without the bound the fold thread would post every window meanwhile.
        afterBatch: () => new Promise((resolve) => setTimeout(resolve, 15)),
      });
      expect(depths.length).toBeGreaterThanOrEqual(30);
      expect(Math.max(...depths)).toBe(windowsInFlight);
    }
    await store.close();
  });

  describe('failures', () => {
    /** A store and read DB files with every read model served by the runner, and the rows it serves. */
    async function served(): Promise<{ store: SqliteEventStore; storePath: string; db: Db; before: Record<string, unknown[]> }> {
      const { store, storePath } = generatedLedger(3000);
      const readDbPath = join(tempDir(), 'read.db');
      const runner = new ProjectionRunner({ store, db: readDbPath });
      await runner.catchUp();
      await runner.close();
      const db = openReadDb(readDbPath);
      return { store, storePath, db, before: storedRows(db) };
    }

    function expectServingUntouched(db: Db, before: Record<string, unknown[]>): void {
      expect(storedRows(db)).toEqual(before);
      // The leases are given back at once: another rebuild may start without waiting for them to expire.
      for (const projection of ALL_PROJECTIONS) expect(readRebuild(db, projection.name)?.leaseExpiresAtMs ?? 0).toBe(0);
    }

    it('fails cleanly when the fold thread fails, the serving copies untouched', async () => {
      const { store, storePath, db, before } = await served();
      // An order event whose metadata is not JSON, past what the runner served: the fold thread throws on it mid-rebuild.
      const raw = new Database(storePath);
      raw.prepare("INSERT INTO events (stream, version, event_id, type, data, metadata) VALUES ('order-otc_broken', 1, 'e-broken', 'OrderPlaced', '{}', '{not json')").run();
      raw.close();
      const committed: bigint[] = [];
      const rebuild = rebuildProjections({ store, db, projections: ALL_PROJECTIONS, batchSize: 500, foldThread: { storePath }, afterBatch: (p) => void committed.push(p) });
      await expect(rebuild).rejects.toThrow(/JSON/);
      expect(committed.length).toBeGreaterThan(0);
      expectServingUntouched(db, before);
      // What was committed stays: each new copy's checkpoint is the last window written.
      const last = committed[committed.length - 1];
      for (const projection of ALL_PROJECTIONS) expect(readRebuild(db, projection.name)?.position).toBe(last);
      await store.close();
    });

    it('fails cleanly when writing a window fails, the serving copies untouched', async () => {
      const { store, storePath, db, before } = await served();
      let windows = 0;
      const rebuild = rebuildProjections({
        store, db, projections: ALL_PROJECTIONS, batchSize: 500, foldThread: { storePath },
        afterBatch: () => {
          // A copy's table gone under the writer: the next window's writes fail on this thread.
          if (++windows === 2) db.exec(`DROP TABLE ${tableNamesFor(ALL_PROJECTIONS[0]!, readRebuild(db, ALL_PROJECTIONS[0]!.name)!.suffix).orders}`);
        },
      });
      await expect(rebuild).rejects.toThrow(/no such table/);
      // The generated log opens with 2,000 signature events: the first window writing orders after the drop fails.
      expect(windows).toBeGreaterThanOrEqual(2);
      expectServingUntouched(db, before);
      await store.close();
    });

    it('stops at the next window when the lease is taken over', async () => {
      const { store, storePath, db, before } = await served();
      const rebuild = rebuildProjections({
        store, db, projections: ALL_PROJECTIONS, batchSize: 500, owner: 'cli-a', foldThread: { storePath },
        afterBatch: () => void db.prepare("UPDATE projection_rebuilds SET owner = 'cli-b' WHERE name = 'stats'").run(),
      });
      await expect(rebuild).rejects.toBeInstanceOf(RebuildLeaseLost);
      expect(storedRows(db)).toEqual(before);
      expect(readRebuild(db, 'stats')?.owner).toBe('cli-b');
      await store.close();
    });

    it('parks when aborted and resumes from the checkpoint to the same rows', async () => {
      const { store, storePath, db } = await served();
      const controller = new AbortController();
      const parked = await rebuildProjections({
        store, db, projections: ALL_PROJECTIONS, batchSize: 400, owner: 'cli', signal: controller.signal, foldThread: { storePath },
        afterBatch: (p) => { if (p >= 1200n) controller.abort(); },
      });
      expect(parked.every((r) => !r.switched && r.position >= 1200n && r.position < 3000n)).toBe(true);
      const resumed = await rebuildProjections({ store, db, projections: ALL_PROJECTIONS, batchSize: 400, owner: 'cli', heldOrders: 5, foldThread: { storePath } });
      expect(resumed.map((r) => r.rebuildId)).toEqual(parked.map((r) => r.rebuildId));
      expect(resumed.every((r) => r.switched)).toBe(true);
      const fresh = await rebuildAll(store, {});
      expect(storedRows(db)).toEqual(storedRows(fresh));
      await store.close();
    });
  });
});

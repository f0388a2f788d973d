import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareReadModels } from '../../src/audit/compareReadModels.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ALL_PROJECTIONS } from '../../src/projections/all.js';
import { activeCopy, openReadDb } from '../../src/projections/registry.js';
import { rebuildProjection } from '../../src/projections/rebuild.js';
import { readRebuild } from '../../src/projections/rebuildLease.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { statsProjection } from '../../src/projections/stats.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function fileLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'otc-crash-'));
  dirs.push(dir);
  const storePath = join(dir, 'events.db');
  const store = new SqliteEventStore({ path: storePath });
  await buildMixedLedger(new TestLedger(store), 4);
  return { store, storePath, readPath: join(dir, 'read.db'), head: await store.headPosition() };
}

/** Runs a fixture and SIGKILLs it once it reports a position at or past `killAt`. */
function runUntilKilled(script: string, args: string[], killAt: bigint): Promise<{ killedAt: bigint; signal: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('tests/projections/fixtures', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let killedAt = -1n;
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const position = BigInt(line.split(' ')[1] ?? '-1');
      if (killedAt < 0n && position >= killAt) {
        killedAt = position;
        child.kill('SIGKILL');
      }
    }
  });
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ killedAt, signal })));
}

describe('crash safety', () => {
  it('a runner SIGKILLed mid-projection restarts to read models equal to a fresh rebuild', async () => {
    const { store, storePath, readPath, head } = await fileLedger();
    const { killedAt, signal } = await runUntilKilled('projectSlowly.ts', [storePath, readPath], head / 3n);
    expect(signal).toBe('SIGKILL');
    const db = openReadDb(readPath);
    const checkpoint = activeCopy(db, 'orders')?.position ?? 0n;
    expect(checkpoint).toBeGreaterThan(0n);
    expect(checkpoint).toBeLessThan(head);
    expect(checkpoint).toBeGreaterThanOrEqual(killedAt);
    const runner = new ProjectionRunner({ store, db });
    await runner.catchUp();
    expect(activeCopy(db, 'orders')?.position).toBe(head);
    expect(await compareReadModels({ store, readDb: db, projections: ALL_PROJECTIONS })).toEqual([]);
    db.close();
    await store.close();
  });

  it('a rebuild SIGKILLed mid-way resumes from its own checkpoint and switches to a correct copy', async () => {
    const { store, storePath, readPath, head } = await fileLedger();
    const db = openReadDb(readPath);
    await new ProjectionRunner({ store, db }).catchUp();
    const serving = activeCopy(db, 'stats');
    const { signal } = await runUntilKilled('rebuildSlowly.ts', [storePath, readPath, 'stats'], head / 2n);
    expect(signal).toBe('SIGKILL');
    const parked = readRebuild(db, 'stats');
    expect(parked?.owner).toBe('child');
    expect(parked?.position).toBeGreaterThan(0n);
    expect(parked?.position).toBeLessThan(head);
    // The old copy kept serving throughout.
    expect(activeCopy(db, 'stats')).toEqual(serving);
    const result = await rebuildProjection({ store, db, projection: statsProjection, owner: 'parent', clock: () => Date.now() + 3_600_000 });
    expect(result).toMatchObject({ rebuildId: parked?.suffix, switched: true, position: head });
    expect(await compareReadModels({ store, readDb: db, projections: ALL_PROJECTIONS })).toEqual([]);
    db.close();
    await store.close();
  });
});

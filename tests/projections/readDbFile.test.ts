import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReadDbFile } from '../../src/projections/readDbFile.js';
import { openReadDb } from '../../src/projections/registry.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { buildMixedLedger, TestLedger } from './support/ledger.js';

const freshPath = () => join(mkdtempSync(join(tmpdir(), 'otc-readdb-')), 'read.db');

describe('the read DB file, checked by name (issue 13)', () => {
  it('is healthy as opened, and missing once deleted (SQLite itself keeps reading the unlinked file)', () => {
    const path = freshPath();
    const db = openReadDb(path);
    const file = new ReadDbFile(path);
    expect(file.check()).toBeNull();
    rmSync(path);
    expect(db.prepare('SELECT count(*) AS n FROM projection_registry').get()).toEqual({ n: 0 });
    expect(file.check()).toBe('missing');
    db.close();
  });

  it('is replaced when another file now sits at the path, and corrupt when its header is not SQLite\'s', () => {
    const path = freshPath();
    const db = openReadDb(path);
    const file = new ReadDbFile(path);
    renameSync(path, `${path}.old`);
    openReadDb(path).close();
    expect(file.check()).toBe('replaced');
    db.close();

    const other = freshPath();
    const second = openReadDb(other);
    const watched = new ReadDbFile(other);
    const fd = openSync(other, 'r+');
    writeSync(fd, Buffer.from('not a database at all'), 0, 21, 0);
    closeSync(fd);
    expect(watched.check()).toBe('corrupt');
    second.close();
  });

  it('stays corrupt once a query met corruption, until restored; the runner restores a fresh copy from the log', async () => {
    const ledger = TestLedger.memory();
    await buildMixedLedger(ledger, 1);
    const path = freshPath();
    const runner = new ProjectionRunner({ store: ledger.store, db: path });
    await runner.catchUp();
    expect(runner.health()).toBeNull();
    runner.noteFault(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }));
    expect(runner.health()).toBe('corrupt');
    // Other faults (a full disk) are not damage to the file.
    const healthy = new ProjectionRunner({ store: ledger.store, db: freshPath() });
    healthy.noteFault(Object.assign(new Error('full'), { code: 'SQLITE_FULL' }));
    expect(healthy.health()).toBeNull();
    await healthy.close();

    await runner.restore(1234);
    expect(existsSync(`${path}.damaged-1234`)).toBe(true);
    expect(runner.health()).toBeNull();
    expect(await runner.waitFor(await ledger.store.headPosition(), 5000)).toBe(true);
    await runner.close();
  });
});

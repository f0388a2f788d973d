import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { storageFaultOf } from '../../src/eventstore/storageFault.js';
import { toErrorReply } from '../../src/http/errorMap.js';

/** Real SQLite errors, provoked on a real connection, as the error map sees them. */
function sqliteError(provoke: (db: Database.Database) => void): unknown {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  try {
    provoke(db);
  } catch (error) {
    return error;
  } finally {
    db.close();
  }
  throw new Error('no error provoked');
}

describe('storage faults in the error map (issue 13)', () => {
  it('answers a full disk 503 store_full', () => {
    const error = sqliteError((db) => {
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      for (let i = 0; i < 1000; i++) insert.run(`${i}-${'x'.repeat(500)}`);
    });
    expect(storageFaultOf(error)).toBe('store_full');
    expect(toErrorReply(error)).toMatchObject({ status: 503, body: { ok: false, error: 'store_full' } });
  });

  it('answers a read-only store 503 store_unavailable, and file-system errnos alike', () => {
    const error = sqliteError((db) => {
      db.pragma('query_only = ON');
      db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
    });
    expect(toErrorReply(error)).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
    expect(storageFaultOf({ code: 'SQLITE_IOERR_WRITE' })).toBe('store_unavailable');
    expect(storageFaultOf({ code: 'EROFS' })).toBe('store_unavailable');
    expect(storageFaultOf({ code: 'ENOSPC' })).toBe('store_full');
  });

  it('leaves every other error alone: a constraint or a bug is still a 500, never a storage fault', () => {
    const error = sqliteError((db) => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
      db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
    });
    expect(storageFaultOf(error)).toBeNull();
    expect(toErrorReply(error).status).toBe(500);
    expect(storageFaultOf(new Error('bug'))).toBeNull();
    expect(storageFaultOf({ code: 'SQLITE_FULLISH' })).toBeNull();
  });
});

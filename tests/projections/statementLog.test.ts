/**
 * The two-thread rebuild's record of what the writers run (statementLog.ts): every value a writer
 * binds comes back with its SQLite type and bytes, in the order the runs were recorded, across
 * several batches sharing statement ids; a value the threads cannot carry is refused when recorded.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { replayStatements, runCount, StatementRecorder, StatementTable, transferablesOf } from '../../src/projections/statementLog.js';

const INSERT = 'INSERT INTO t (k, v) VALUES (?, ?)';
const UPSERT = 'INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v';

/** Each row with its value's SQLite type and exact text (quote()), in key order. */
function rowsOf(db: Database.Database): string[][] {
  return (db.prepare('SELECT k, typeof(v), quote(v) FROM t ORDER BY k').raw(true).all() as unknown[][]).map((r) => r.map(String));
}

function freshDb(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v)');
  return db;
}

const VALUES: readonly unknown[] = [
  null, 0, -1, 42, 1.5, -0.25, 2 ** 53 - 1, 7n, -(2n ** 63n), 2n ** 63n - 1n, '', 'plain', 'é ü', '漢字', '🙂 two units', 'a\u0000b',
];

describe('statement log', () => {
  it('replays every value with the type and bytes a direct run stores', () => {
    const direct = freshDb();
    const replayed = freshDb();
    const recorder = new StatementRecorder();
    VALUES.forEach((value, k) => {
      direct.prepare(INSERT).run(k, value);
      recorder.prepare(INSERT).run(k, value);
    });
    const batch = recorder.take();
    expect(runCount(batch)).toBe(VALUES.length);
    replayStatements(new StatementTable((sql) => replayed.prepare(sql)), batch);
    expect(rowsOf(replayed)).toEqual(rowsOf(direct));
    expect(rowsOf(replayed).find((r) => r[0] === '7')).toEqual(['7', 'integer', '7']);
  });

  it('keeps the order of runs and the statement ids across batches', () => {
    const direct = freshDb();
    const replayed = freshDb();
    const recorder = new StatementRecorder();
    const table = new StatementTable((sql) => replayed.prepare(sql));
    for (let batch = 0; batch < 3; batch++) {
      for (let k = 0; k < 5000; k++) {
        // Later runs overwrite earlier ones: only the recorded order gives the direct run's rows.
        const sql = k % 3 === 0 ? UPSERT : 'INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)';
        const value = `batch ${batch} run ${k}`;
        direct.prepare(sql).run(k % 700, value);
        recorder.prepare(sql).run(k % 700, value);
      }
      const taken = recorder.take();
      // Only the first batch carries SQL: the others refer to it by id.
      expect(taken.newSql.length).toBe(batch === 0 ? 2 : 0);
      replayStatements(table, taken);
    }
    expect(recorder.pending).toBe(0);
    expect(rowsOf(replayed)).toEqual(rowsOf(direct));
  });

  it('carries a bigint past int64 to the writing side, which refuses it as a direct run does', () => {
    const recorder = new StatementRecorder();
    recorder.prepare(INSERT).run(1, 2n ** 70n);
    const batch = recorder.take();
    expect(batch.text).toBe((2n ** 70n).toString());
    const direct = (() => {
      try {
        freshDb().prepare(INSERT).run(1, 2n ** 70n);
        return null;
      } catch (error) {
        return String(error);
      }
    })();
    expect(direct).not.toBeNull();
    expect(() => replayStatements(new StatementTable((sql) => freshDb().prepare(sql)), batch)).toThrow(direct?.replace(/^\w+: /, '') ?? '');
  });

  it('refuses a value the threads cannot carry when it is recorded, not when it is written', () => {
    const recorder = new StatementRecorder();
    expect(() => recorder.prepare(INSERT).run(1, true)).toThrow(/boolean/);
    expect(() => recorder.prepare(INSERT).run(1, Buffer.from('x'))).toThrow(/object/);
  });

  it('hands out buffers that a postMessage can transfer', () => {
    const recorder = new StatementRecorder();
    recorder.prepare(INSERT).run(1, 'x');
    const buffers = transferablesOf(recorder.take());
    expect(buffers).toHaveLength(5);
    expect(new Set(buffers).size).toBe(5);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteLeases } from '../../src/settlement/leases.js';

/** The lease row as another connection reads it from the file. */
function rowOf(path: string, name: string): { owner: string; expires_at_ms: number } | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT owner, expires_at_ms FROM leases WHERE name = ?').get(name) as { owner: string; expires_at_ms: number } | undefined;
  } finally {
    db.close();
  }
}

describe('sqlite leases write only what another process must see', () => {
  it('answers a holder\'s re-acquire within a third of the TTL from memory, writes it after that, and still refuses every other owner', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'otc-lease-writes-')), 'leases.db');
    const holder = createSqliteLeases(path);
    const other = createSqliteLeases(path);
    expect(holder.acquire('order-driver:x', 'one', 3000, 0)).toBe(true);
    expect(rowOf(path, 'order-driver:x')).toEqual({ owner: 'one', expires_at_ms: 3000 });
    // No-op: the row is younger than TTL/3, so it is left as it is.
    expect(holder.acquire('order-driver:x', 'one', 3000, 999)).toBe(true);
    expect(rowOf(path, 'order-driver:x')).toEqual({ owner: 'one', expires_at_ms: 3000 });
    // Refused: another owner, in this process or another, meanwhile.
    expect(holder.acquire('order-driver:x', 'two', 3000, 999)).toBe(false);
    expect(other.acquire('order-driver:x', 'two', 3000, 999)).toBe(false);
    // Allowed, and written: at TTL/3 the re-acquire extends the row as before.
    expect(holder.acquire('order-driver:x', 'one', 3000, 1000)).toBe(true);
    expect(rowOf(path, 'order-driver:x')).toEqual({ owner: 'one', expires_at_ms: 4000 });
    // A release is written at once: the other process takes the lease right after.
    holder.release('order-driver:x', 'one');
    expect(rowOf(path, 'order-driver:x')).toBeUndefined();
    expect(other.acquire('order-driver:x', 'two', 3000, 1001)).toBe(true);
    // The former holder's memory of its write is gone with the release: it is refused now.
    expect(holder.acquire('order-driver:x', 'one', 3000, 1002)).toBe(false);
    holder.close();
    other.close();
  });

  it('creates new lease files with 1 KiB pages and a WITHOUT ROWID table, so a lease write rewrites one small page', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'otc-lease-writes-')), 'leases.db');
    createSqliteLeases(path).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('page_size', { simple: true })).toBe(1024);
    const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'leases'").get() as { sql: string }).sql;
    expect(sql).toMatch(/WITHOUT ROWID/);
    db.close();
  });
});

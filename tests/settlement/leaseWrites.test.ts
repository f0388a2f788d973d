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

/** How many sole claims (a process keeping its leases in memory) the file holds: 0 or 1. */
function soleClaims(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM lease_sole').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('sqlite leases write only what another process must see', () => {
  it('keeps a lone holder\'s leases in memory (no row), writes them when another process asks, then answers re-acquires within a third of the TTL from memory', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'otc-lease-writes-')), 'leases.db');
    const holder = createSqliteLeases(path);
    const other = createSqliteLeases(path);
    // Alone on the file: the lease lives in memory under the sole claim, nothing is written for it.
    expect(holder.acquire('order-driver:x', 'one', 3000, 0)).toBe(true);
    expect(rowOf(path, 'order-driver:x')).toBeUndefined();
    expect(soleClaims(path)).toBe(1);
    // No-op: a re-acquire, and another lease taken and released, write nothing either.
    expect(holder.acquire('order-driver:x', 'one', 3000, 999)).toBe(true);
    expect(holder.acquire('order-driver:y', 'one', 3000, 999)).toBe(true);
    holder.release('order-driver:y', 'one');
    expect(rowOf(path, 'order-driver:y')).toBeUndefined();
    // Refused: another owner in this handle; another process makes it hand over (the row appears) and is refused.
    expect(holder.acquire('order-driver:x', 'two', 3000, 999)).toBe(false);
    expect(other.acquire('order-driver:x', 'two', 3000, 999)).toBe(false);
    // Written as it stood in memory: extended by the re-acquire at 999.
    expect(rowOf(path, 'order-driver:x')).toEqual({ owner: 'one', expires_at_ms: 3999 });
    expect(soleClaims(path)).toBe(0);
    // Shared from here on, as before issue 14: within TTL/3 of the row's expiry-less-TTL a
    // re-acquire is answered from memory, at TTL/3 it extends the row.
    expect(holder.acquire('order-driver:x', 'one', 3000, 1998)).toBe(true);
    expect(rowOf(path, 'order-driver:x')).toEqual({ owner: 'one', expires_at_ms: 3999 });
    expect(holder.acquire('order-driver:x', 'one', 3000, 1999)).toBe(true);
    expect(rowOf(path, 'order-driver:x')).toEqual({ owner: 'one', expires_at_ms: 4999 });
    // A release is written at once: the other process takes the lease right after.
    holder.release('order-driver:x', 'one');
    expect(rowOf(path, 'order-driver:x')).toBeUndefined();
    expect(other.acquire('order-driver:x', 'two', 3000, 2000)).toBe(true);
    // The former holder's memory of its write is gone with the release: it is refused now.
    expect(holder.acquire('order-driver:x', 'one', 3000, 2001)).toBe(false);
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

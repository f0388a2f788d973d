import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';

/**
 * A lease on one order's driver: only its holder calls the node for that order. Drivers in one
 * process and in several processes sharing a data dir exclude each other, so two passes never
 * duplicate a node call and a slow release is never reverted under a concurrent one. A lease
 * expires on its own, so a crashed holder cannot wedge an order.
 */
export interface Leases {
  /** True when taken (or already held by this owner, in which case it is extended). */
  acquire(name: string, owner: string, ttlMs: number, nowMs: number): boolean | Promise<boolean>;
  release(name: string, owner: string): void | Promise<void>;
  close(): void;
}

export function createMemoryLeases(): Leases {
  const held = new Map<string, { owner: string; expiresAtMs: number }>();
  return {
    acquire(name, owner, ttlMs, nowMs) {
      const current = held.get(name);
      if (current && current.owner !== owner && current.expiresAtMs > nowMs) return false;
      held.set(name, { owner, expiresAtMs: nowMs + ttlMs });
      return true;
    },
    release(name, owner) {
      if (held.get(name)?.owner === owner) held.delete(name);
    },
    close() {
      held.clear();
    },
  };
}

/** Leases in a SQLite file that every process of one installation opens. */
export function createSqliteLeases(path: string): Leases {
  const db: Db = new Database(path);
  db.pragma('journal_mode = WAL');
  // A lease only has to exclude processes that are running. Power loss or an OS crash, the only
  // thing an fsync protects against, ends every holder on the machine at once, so a lease write
  // needs no fsync; locking between processes (WAL index in shared memory) is unaffected.
  // NORMAL keeps the file consistent and makes a lease write ~25 µs instead of one fsync.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at_ms INTEGER NOT NULL)');
  const take = db.prepare(
    `INSERT INTO leases (name, owner, expires_at_ms) VALUES (@name, @owner, @expires)
     ON CONFLICT (name) DO UPDATE SET owner = @owner, expires_at_ms = @expires
     WHERE leases.owner = @owner OR leases.expires_at_ms <= @now`,
  );
  const drop = db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?');
  return {
    acquire(name, owner, ttlMs, nowMs) {
      return take.run({ name, owner, expires: nowMs + ttlMs, now: nowMs }).changes === 1;
    },
    release(name, owner) {
      drop.run(name, owner);
    },
    close() {
      db.close();
    },
  };
}

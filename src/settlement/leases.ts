import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { currentHolder, decodeHolder, encodeHolder, holderFor, isProvablyGone, lockDirFor, sweepAbandonedLocks, type LeaseHolder } from './leaseHolder.js';

/**
 * A lease on one order's driver: only its holder calls the node for that order. Drivers in one
 * process and in several processes sharing a data dir exclude each other, so two passes never
 * duplicate a node call and a slow release is never reverted under a concurrent one. A lease
 * expires on its own, so a crashed holder cannot wedge an order; the SQLite leases also end with
 * their holder process (see createSqliteLeases).
 */
export interface Leases {
  /** True when taken (or already held by this owner, in which case it is extended). */
  acquire(name: string, owner: string, ttlMs: number, nowMs: number): boolean | Promise<boolean>;
  release(name: string, owner: string): void | Promise<void>;
  /**
   * Names (starting with `prefix`) of leases whose holder is proven gone: drives a crash cut short,
   * which nobody else is running. Optional: stores that cannot prove a holder gone leave it out.
   */
  orphaned?(prefix: string): readonly string[] | Promise<readonly string[]>;
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

export interface SqliteLeasesOptions {
  /** Called when a lease of a holder proven gone is taken over (for the log). */
  readonly onTakeover?: (name: string, from: LeaseHolder) => void;
  /** This process as holder; tests pass another to stand for a process that has died. */
  readonly holder?: LeaseHolder;
}

/** How often a held lease is renewed, as a fraction of its TTL: two renewals may fail before it lapses. */
const RENEW_FRACTION = 3;

/**
 * A holder's re-acquire (a driver extends its lease before each step) needs no write while the
 * row it wrote is younger than TTL/RENEW_FRACTION: the row's expiry is then at least two thirds of
 * a TTL away, so no other process can have taken it (they take only an expired lease, or one whose
 * holder process is gone, and this one is running), and the renewal timer extends it from there.
 */
function heldRecently(row: { owner: string; atMs: number; ttlMs: number } | undefined, owner: string, ttlMs: number, nowMs: number): boolean {
  return row !== undefined && row.owner === owner && row.ttlMs === ttlMs && nowMs >= row.atMs && nowMs - row.atMs < ttlMs / RENEW_FRACTION;
}

/**
 * Leases in a SQLite file that every process of one installation opens. Each row names its holder
 * process (see leaseHolder.ts), so a lease dies with its holder: a process that finds a lease held
 * by a process proven gone takes it at once instead of waiting out the TTL, which lets a restarted
 * ledger resume a crashed settlement on its first reconciler pass. While a lease is held, a timer
 * renews it, so a node call slower than the TTL never loses it to another driver; a holder that
 * stops without dying (frozen, on another host) stops renewing and loses it when the TTL runs out.
 */
export function createSqliteLeases(path: string, options: SqliteLeasesOptions = {}): Leases {
  const db: Db = new Database(path);
  // A new file gets 1 KiB pages: a lease write rewrites one page, and a lease row is ~150 bytes.
  // (Ignored by a file that already has pages.)
  db.pragma('page_size = 1024');
  db.pragma('journal_mode = WAL');
  // A lease only has to exclude processes that are running. Power loss or an OS crash, the only
  // thing an fsync protects against, ends every holder on the machine at once, so a lease write
  // needs no fsync; locking between processes (WAL index in shared memory) is unaffected.
  // NORMAL keeps the file consistent and makes a lease write ~25 µs instead of one fsync.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // WITHOUT ROWID: the rows live in the primary key's own B-tree, so a write touches one B-tree, not
  // a table and its key index. Files created before keep their table as it is.
  db.exec('CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at_ms INTEGER NOT NULL) WITHOUT ROWID');
  // Files from before holders were recorded: their rows (holder NULL) only expire.
  const columns = db.prepare('SELECT name FROM pragma_table_info(\'leases\')').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'holder')) db.exec('ALTER TABLE leases ADD COLUMN holder TEXT');
  const lockDir = lockDirFor(path);
  const holder = encodeHolder(options.holder ?? holderFor(lockDir));
  const gone = (previous: LeaseHolder): boolean => isProvablyGone(previous, currentHolder(), lockDir);
  const take = db.prepare(
    `INSERT INTO leases (name, owner, expires_at_ms, holder) VALUES (@name, @owner, @expires, @holder)
     ON CONFLICT (name) DO UPDATE SET owner = @owner, expires_at_ms = @expires, holder = @holder
     WHERE leases.owner = @owner OR leases.expires_at_ms <= @now`,
  );
  const read = db.prepare('SELECT owner, holder FROM leases WHERE name = ?');
  // Only the row as it was read is taken over: a live process that took it meanwhile keeps it.
  const takeOver = db.prepare(
    `UPDATE leases SET owner = @owner, expires_at_ms = @expires, holder = @holder
     WHERE name = @name AND owner = @previousOwner AND holder IS @previousHolder`,
  );
  const extend = db.prepare('UPDATE leases SET expires_at_ms = expires_at_ms + @byMs WHERE name = @name AND owner = @owner');
  const drop = db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?');
  const withPrefix = db.prepare('SELECT name, holder FROM leases WHERE instr(name, ?) = 1 AND holder IS NOT NULL');
  const renewals = new Map<string, NodeJS.Timeout>();
  /** Leases this object wrote, by name: when (caller's clock) and for whom, to answer re-acquires. */
  const written = new Map<string, { owner: string; atMs: number; ttlMs: number }>();
  const naming = db.prepare('SELECT 1 FROM leases WHERE instr(holder, ?) > 0 LIMIT 1');
  sweepAbandonedLocks(lockDir, (name) => naming.get(name) !== undefined);

  const takeFromTheGone = (name: string, owner: string, expires: number): boolean => {
    const row = read.get(name) as { owner: string; holder: string | null } | undefined;
    const previous = decodeHolder(row?.holder ?? null);
    if (row === undefined || previous === null || !gone(previous)) return false;
    const taken = takeOver.run({ name, owner, expires, holder, previousOwner: row.owner, previousHolder: row.holder }).changes === 1;
    if (taken) options.onTakeover?.(name, previous);
    return taken;
  };
  /**
   * Renews by the real time elapsed, not to "now + TTL": the caller's clock (nowMs) may be a
   * test's or a simulation's, and only its offset from the real clock is kept.
   */
  const keepRenewing = (name: string, owner: string, ttlMs: number): void => {
    const key = `${name}\u0000${owner}`;
    if (renewals.has(key)) return;
    const everyMs = Math.max(1, Math.floor(ttlMs / RENEW_FRACTION));
    const timer = setInterval(() => {
      try {
        if (extend.run({ name, owner, byMs: everyMs }).changes === 0) {
          // Lost (taken over after it lapsed): a re-acquire must ask the file again.
          stopRenewing(name, owner);
          if (written.get(name)?.owner === owner) written.delete(name);
        }
      } catch {
        // A busy or closed file: the next tick tries again, and the TTL covers the gap.
      }
    }, everyMs);
    timer.unref();
    renewals.set(key, timer);
  };
  const stopRenewing = (name: string, owner: string): void => {
    const key = `${name}\u0000${owner}`;
    clearInterval(renewals.get(key));
    renewals.delete(key);
  };
  return {
    acquire(name, owner, ttlMs, nowMs) {
      if (heldRecently(written.get(name), owner, ttlMs, nowMs)) return true;
      const expires = nowMs + ttlMs;
      const acquired = take.run({ name, owner, expires, now: nowMs, holder }).changes === 1 || takeFromTheGone(name, owner, expires);
      if (acquired) {
        written.set(name, { owner, atMs: nowMs, ttlMs });
        keepRenewing(name, owner, ttlMs);
      }
      return acquired;
    },
    release(name, owner) {
      stopRenewing(name, owner);
      if (written.get(name)?.owner === owner) written.delete(name);
      drop.run(name, owner);
    },
    orphaned(prefix) {
      const rows = withPrefix.all(prefix) as Array<{ name: string; holder: string }>;
      return rows.filter((row) => {
        const previous = decodeHolder(row.holder);
        return previous !== null && gone(previous);
      }).map((row) => row.name);
    },
    close() {
      for (const timer of renewals.values()) clearInterval(timer);
      renewals.clear();
      db.close();
    },
  };
}


/**
 * A lease on one order's driver: only its holder calls the node for that order. Drivers in one
 * process and in several processes sharing a data dir exclude each other, so two passes never
 * duplicate a node call and a slow release is never reverted under a concurrent one. A lease
 * expires on its own, so a crashed holder cannot wedge an order; the SQLite leases also end with
 * their holder process (see createSqliteLeases in sqliteLeases.ts).
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
  /**
   * True, once per such holder, when a holder that kept its leases in memory (SQLite sole mode,
   * sqliteLeases.ts) was found gone and nobody has taken this duty yet: which drives it cut short
   * is unknown, so the caller resumes every order in flight. Optional, like orphaned.
   */
  everyDriveOrphaned?(): boolean | Promise<boolean>;
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

export { createSqliteLeases, type SqliteLeasesOptions } from './sqliteLeases.js';

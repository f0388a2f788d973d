import { randomBytes } from 'node:crypto';
import type { Database as Db } from 'better-sqlite3';
import { cachedStatement, createTables, dropTables, hasRegistry } from './registry.js';
import type { Projection } from './types.js';
import { currentHolder, decodeHolder, encodeHolder, holderFor, isProvablyGone, lockDirFor, type LeaseHolder } from '../settlement/leaseHolder.js';

/**
 * One rebuild per projection at a time, across processes: a row in the read DB names the owner
 * and the lease's expiry. An owner that dies stops renewing; once the lease has expired, or at once
 * when the row's holder process is proven gone (same rule as the order leases), another process
 * takes the row over and resumes from the row's own checkpoint.
 */
export interface RebuildRow {
  readonly name: string;
  readonly suffix: string;
  readonly position: bigint;
  readonly version: number;
  readonly owner: string;
  readonly leaseExpiresAtMs: number;
  readonly startedAt: string;
}

export class RebuildBusy extends Error {
  readonly code = 'rebuild_in_progress';
  constructor(readonly projectionName: string, readonly owner: string) {
    super(`projection ${projectionName} is already being rebuilt by ${owner}`);
    this.name = 'RebuildBusy';
  }
}

export class RebuildLeaseLost extends Error {
  readonly code = 'rebuild_lease_lost';
  constructor(readonly projectionName: string) {
    super(`the rebuild lease of ${projectionName} was taken over by another process`);
    this.name = 'RebuildLeaseLost';
  }
}

interface RawRow {
  name: string;
  suffix: string;
  position: number;
  version: number;
  owner: string;
  lease_expires_at_ms: number;
  started_at: string;
  holder: string | null;
}

export function readRebuild(db: Db, name: string): RebuildRow | null {
  if (!hasRegistry(db)) return null;
  const row = cachedStatement(db, 'SELECT * FROM projection_rebuilds WHERE name = ?').get(name) as RawRow | undefined;
  if (row === undefined) return null;
  return {
    name: row.name,
    suffix: row.suffix,
    position: BigInt(row.position),
    version: row.version,
    owner: row.owner,
    leaseExpiresAtMs: row.lease_expires_at_ms,
    startedAt: row.started_at,
  };
}

export interface LeaseOptions {
  readonly owner: string;
  /** This process as holder; tests pass another to stand for a process that has died. */
  readonly holder?: LeaseHolder;
  readonly leaseMs: number;
  readonly nowMs: number;
}

/**
 * Takes the rebuild lease: resumes a rebuild of the same version whose lease is ours or has
 * expired, or starts a new copy with fresh tables. Throws RebuildBusy while another owner holds it.
 */
export function acquireRebuild(db: Db, projection: Projection, options: LeaseOptions): RebuildRow {
  const tx = db.transaction((): RebuildRow => {
    const existing = readRebuild(db, projection.name);
    if (existing !== null && existing.owner !== options.owner && existing.leaseExpiresAtMs > options.nowMs && !holderGone(db, projection.name)) {
      throw new RebuildBusy(projection.name, existing.owner);
    }
    const expires = options.nowMs + options.leaseMs;
    const holder = encodeHolder(options.holder ?? holderFor(lockDirFor(db.name)));
    if (existing !== null && existing.version === projection.version) {
      cachedStatement(db, 'UPDATE projection_rebuilds SET owner = ?, lease_expires_at_ms = ?, holder = ? WHERE name = ?').run(
        options.owner,
        expires,
        holder,
        projection.name,
      );
      createTables(db, projection, existing.suffix, { indexes: false });
      return { ...existing, owner: options.owner, leaseExpiresAtMs: expires };
    }
    if (existing !== null) dropTables(db, projection, existing.suffix);
    const suffix = `r${options.nowMs.toString(36)}_${randomBytes(3).toString('hex')}`;
    // Secondary indexes come once the copy is full, just before its switch (rebuild.ts).
    createTables(db, projection, suffix, { indexes: false });
    const startedAt = new Date(options.nowMs).toISOString();
    cachedStatement(
      db,
      'INSERT OR REPLACE INTO projection_rebuilds (name, suffix, position, version, owner, lease_expires_at_ms, started_at, holder) VALUES (?, ?, 0, ?, ?, ?, ?, ?)',
    ).run(projection.name, suffix, projection.version, options.owner, expires, startedAt, holder);
    return { name: projection.name, suffix, position: 0n, version: projection.version, owner: options.owner, leaseExpiresAtMs: expires, startedAt };
  });
  return tx.immediate();
}

/** True when the rebuild row names a holder process proven gone (rows from before holders: never). */
function holderGone(db: Db, name: string): boolean {
  const row = cachedStatement(db, 'SELECT holder FROM projection_rebuilds WHERE name = ?').get(name) as { holder: string | null } | undefined;
  const holder = decodeHolder(row?.holder ?? null);
  return holder !== null && isProvablyGone(holder, currentHolder(), lockDirFor(db.name));
}

/** Inside a write transaction: the row if we still own it, else RebuildLeaseLost. */
export function assertLease(db: Db, name: string, owner: string, suffix: string): RebuildRow {
  const row = readRebuild(db, name);
  if (row === null || row.owner !== owner || row.suffix !== suffix) throw new RebuildLeaseLost(name);
  return row;
}

export function renewLease(db: Db, name: string, position: bigint, expiresAtMs: number): void {
  cachedStatement(db, 'UPDATE projection_rebuilds SET position = ?, lease_expires_at_ms = ? WHERE name = ?').run(position, expiresAtMs, name);
}

/** Gives the lease up without finishing, so another process may resume at once. */
export function releaseLease(db: Db, name: string, owner: string): void {
  cachedStatement(db, 'UPDATE projection_rebuilds SET lease_expires_at_ms = 0 WHERE name = ? AND owner = ?').run(name, owner);
}

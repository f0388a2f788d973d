import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';

/**
 * Which running process holds a lease, precisely enough that another process on the same machine
 * can prove it gone: a pid alone is not enough, because pids are reused, so the holder also names
 * its start time (clock ticks since boot, from /proc/<pid>/stat). Host, boot and pid namespace
 * scope the pid: a holder on another machine, from before a reboot we cannot see, or in another
 * container's pid namespace is never judged by our process table.
 *
 * Containers are what the pid cannot cover (a restarted container gets a new pid namespace), so a
 * holder also keeps a lock file in the data dir (`lease-holders/`) locked for as long as it lives:
 * the kernel drops the lock when the process dies, in whatever container or namespace, and any
 * process sharing the data dir can test it. Either proof suffices; without one the lease waits
 * for its TTL.
 */
export interface LeaseHolder {
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id; null where there is no /proc. */
  readonly boot: string | null;
  /** The pid namespace (/proc/self/ns/pid); null where there is no /proc. */
  readonly pidns: string | null;
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null where unknown. */
  readonly start: string | null;
  /** The holder's lock file in the data dir's lease-holders/ (see holderFor); null: none. */
  readonly lock?: string | null;
}

/** Where a data dir's holders keep their lock files: beside the SQLite file the lease lives in. */
export function lockDirFor(dbPath: string): string | null {
  return dbPath === '' || dbPath === ':memory:' ? null : join(dirname(dbPath), 'lease-holders');
}

/** This process as the holder of leases kept in files of `lockDir`'s data dir (its lock taken on first use). */
export function holderFor(lockDir: string | null): LeaseHolder {
  return { ...currentHolder(), lock: lockDir === null ? null : holdLivenessLock(lockDir) };
}

/** One lock per data dir per process, held (the connection kept open) until the process ends. */
const livenessLocks = new Map<string, { name: string; db: Db }>();
const LOCK_NAME = /^[0-9]+-[0-9a-f-]{36}\.lock$/;

function holdLivenessLock(lockDir: string): string {
  const held = livenessLocks.get(lockDir);
  if (held !== undefined) return held.name;
  mkdirSync(lockDir, { recursive: true });
  const name = `${process.pid}-${randomUUID()}.lock`;
  const db = new Database(join(lockDir, name));
  // Its content does not matter, only its lock: no journal file beside it (OFF is refused on an
  // empty file; MEMORY is not).
  db.pragma('journal_mode = MEMORY');
  // EXCLUSIVE locking mode keeps the lock of the first write until the connection closes, which
  // for this connection is when the process ends, however it ends.
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('CREATE TABLE holder (pid INTEGER NOT NULL)');
  db.prepare('INSERT INTO holder VALUES (?)').run(process.pid);
  livenessLocks.set(lockDir, { name, db });
  return name;
}

/** True when `name`'s lock is free: its holder process has ended. A missing file proves nothing. */
function isLockAbandoned(lockDir: string, name: string): boolean {
  if (!LOCK_NAME.test(name)) return false;
  const path = join(lockDir, name);
  if (!existsSync(path)) return false;
  let db: Db | null = null;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return true;
  } catch {
    // SQLITE_BUSY: the holder still holds it (or we cannot tell).
    return false;
  } finally {
    db?.close();
  }
}

/** Deletes the lock files of ended holders that no lease names any more (one is left per crash). */
export function sweepAbandonedLocks(lockDir: string | null, stillNamed: (name: string) => boolean): void {
  if (lockDir === null || !existsSync(lockDir)) return;
  for (const name of readdirSync(lockDir)) {
    if (livenessLocks.get(lockDir)?.name === name || stillNamed(name) || !isLockAbandoned(lockDir, name)) continue;
    rmSync(join(lockDir, name), { force: true });
  }
}

let self: LeaseHolder | null = null;

/** This process as a lease holder (read once: none of it changes while the process runs). */
export function currentHolder(): LeaseHolder {
  self ??= {
    host: hostname(),
    boot: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidns: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
    pid: process.pid,
    start: procStat(process.pid)?.start ?? null,
  };
  return self;
}

export function encodeHolder(holder: LeaseHolder): string {
  return JSON.stringify(holder);
}

/** The holder a lease row names, or null for rows written before holders were recorded (or damaged). */
export function decodeHolder(text: string | null): LeaseHolder | null {
  if (text === null) return null;
  try {
    const h = JSON.parse(text) as Partial<LeaseHolder>;
    if (typeof h.host !== 'string' || typeof h.pid !== 'number' || !Number.isSafeInteger(h.pid) || h.pid <= 0) return null;
    return { host: h.host, boot: h.boot ?? null, pidns: h.pidns ?? null, pid: h.pid, start: h.start ?? null, lock: h.lock ?? null };
  } catch {
    return null;
  }
}

/**
 * True only when the holder certainly no longer runs: its lock file in `lockDir` is free, or it
 * is on our host, boot and pid namespace and its pid is free (ESRCH), a zombie, or now another
 * process (another start time). Anything we cannot see (another host, EPERM, no /proc) counts as
 * alive: a wrong "alive" costs a wait for the TTL, a wrong "gone" would let two drivers call the
 * node for one order.
 */
export function isProvablyGone(holder: LeaseHolder, me: LeaseHolder = currentHolder(), lockDir: string | null = null): boolean {
  if (holder.lock && lockDir !== null && isLockAbandoned(lockDir, holder.lock)) return true;
  return isGoneFromProcessTable(holder, me);
}

function isGoneFromProcessTable(holder: LeaseHolder, me: LeaseHolder): boolean {
  if (holder.host !== me.host || holder.boot !== me.boot || holder.pidns !== me.pidns) return false;
  if (holder.pid === me.pid) return holder.start !== null && me.start !== null && holder.start !== me.start;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = procStat(holder.pid);
  if (now === null) return false;
  if (now.state === 'Z' || now.state === 'X') return true;
  return holder.start !== null && now.start !== holder.start;
}

/** State and start time of a process from /proc/<pid>/stat; null where that cannot be read. */
function procStat(pid: number): { state: string; start: string } | null {
  return readOrNull(() => {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    if (state === undefined || start === undefined || !/^\d+$/.test(start)) throw new Error('unreadable stat');
    return { state, start };
  });
}

function readOrNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
